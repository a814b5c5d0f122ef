// Starts the model worker: loads wasm-bindgen's glue, then downloads the worker's wasm while
// telling the page how many bytes have arrived (as the worker's own `Progress` messages, which the
// page shows in its status line), then starts it (a bare `wasm_bindgen(url)` would show no
// progress). Compressed responses do not say their decoded size, so then no percentage.
importScripts("./peel-worker.js");

// A lost GPU device (a driver reset, the GPU process restarted, an external GPU unplugged) can
// never paint again, and a paint waiting on it might wait forever: tell the page, which replaces
// this worker with one on the CPU. "destroyed" is a loss the program asked for (wgpu destroys a
// device it drops, e.g. after Auto mode picks the CPU), so it is not reported, except for the
// recovery test: with `?test_lose_device=1` the test destroys the device through
// `self.__peelLoseGpuDevice()` (callable only from this worker's own scope).
if (self.GPUAdapter) {
  const testLoss = new URL(self.location.href).searchParams.get("test_lose_device") === "1";
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (...args) {
    const device = await requestDevice.apply(this, args);
    let destroyedByTest = false;
    device.lost.then((info) => {
      if (info.reason === "destroyed" && !destroyedByTest) return;
      const detail = info.message ? `: ${info.message}` : "";
      postMessage({ Crashed: { message: `the GPU device was lost (${info.reason}${detail})` } });
    });
    if (testLoss) {
      self.__peelLoseGpuDevice = () => { destroyedByTest = true; device.destroy(); };
    }
    return device;
  };
}

(async () => {
  const url = "./peel-worker_bg.wasm";
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not fetch ${url}: HTTP ${response.status}`);
  const encoded = response.headers.get("content-encoding");
  const total = encoded ? 0 : Number(response.headers.get("content-length")) || 0;
  const reader = response.body.getReader();
  const chunks = [];
  let received = 0, reported = -Infinity;
  const report = () => {
    const mb = (received / 1e6).toFixed(1);
    const text = total
      ? `Downloading the model code: ${mb} of ${(total / 1e6).toFixed(1)} MB (${Math.round((100 * received) / total)} %)…`
      : `Downloading the model code: ${mb} MB…`;
    postMessage({ Progress: { text, fraction: total ? Math.min(1, received / total) : null } });
    reported = performance.now();
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    if (performance.now() - reported > 100) report();
  }
  report();
  // Compiled straight from the received chunks (a Blob keeps them without another copy).
  // The instance's exports stay reachable from this scope, so tests can read its memory size.
  self.__peelWasm = await wasm_bindgen({ module_or_path: new Response(new Blob(chunks, { type: "application/wasm" })) });
})().catch((e) => {
  // The page shows it and offers "Try loading the model again".
  postMessage({ Failed: { message: `Could not load the model code: ${e.message ?? e}`, suggestions: [] } });
});
