// Starts the model worker: loads wasm-bindgen's glue, then downloads the worker's wasm while
// telling the page how many bytes have arrived (as the worker's own `Progress` messages, which the
// page shows in its status line), then starts it. Replaces Trunk's one-line loader shim, which
// gives no progress. Compressed responses do not say their decoded size, so then no percentage.
importScripts("./peel-worker.js");

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
  await wasm_bindgen({ module_or_path: new Response(new Blob(chunks, { type: "application/wasm" })) });
})().catch((e) => {
  // The page shows it and offers "Try loading the model again".
  postMessage({ Failed: { message: `Could not load the model code: ${e.message ?? e}`, suggestions: [] } });
});
