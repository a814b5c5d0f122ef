// The benchmark's onnxruntime-web side (scripts/bench.sh): Peel's generator exported to ONNX
// (train/peel_train/onnx_export.py) paints the photo Peel's benchmark paints, on the execution
// provider `?ep=wasm|webgpu` with `?threads=N` wasm threads. It exposes `window.bench` once the
// first painting is on the canvas, and `window.warm(n)` for n more timed runs.
const params = new URLSearchParams(location.search);
const ep = params.get("ep") ?? "wasm";
const threads = Number(params.get("threads") ?? 1);
const status = document.getElementById("status");

async function bytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** CHW floats in [0, 1] -> the canvas, as Peel draws its painting (RGBA ImageData). */
function draw(chw, [, , h, w]) {
  const canvas = document.getElementById("painting");
  canvas.width = w;
  canvas.height = h;
  const rgba = new Uint8ClampedArray(4 * w * h);
  const plane = w * h;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) rgba[4 * i + c] = Math.round(Math.min(1, Math.max(0, chw[c * plane + i])) * 255);
    rgba[4 * i + 3] = 255;
  }
  canvas.getContext("2d").putImageData(new ImageData(rgba, w, h), 0, 0);
}

async function main() {
  const ort = await import(ep === "webgpu" ? "./ort/ort.webgpu.min.mjs" : "./ort/ort.wasm.min.mjs");
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.wasmPaths = new URL("./ort/", location.href).href;
  const [model, input, expected, meta] = await Promise.all([
    bytes("model/peel-gen.onnx"), bytes("model/input.bin"), bytes("model/expected.bin"),
    fetch("model/meta.json").then((r) => r.json()),
  ]);
  status.textContent = "Creating the session…";
  const session = await ort.InferenceSession.create(model, { executionProviders: [ep], graphOptimizationLevel: "all" });
  const image = new ort.Tensor("float32", new Float32Array(input.buffer), meta.input_shape);
  const run = async () => {
    const started = performance.now();
    const { painting } = await session.run({ image });
    const data = await painting.getData();
    return { ms: performance.now() - started, data };
  };
  const first = await run();
  draw(first.data, meta.output_shape);
  const cold = performance.now();
  const want = new Float32Array(expected.buffer);
  let maxAbsDiff = 0;
  for (let i = 0; i < want.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(first.data[i] - want[i]));
  let adapter = null;
  if (navigator.gpu) {
    const a = await navigator.gpu.requestAdapter();
    if (a) adapter = { vendor: a.info.vendor, architecture: a.info.architecture, device: a.info.device, description: a.info.description };
  }
  window.warm = async (n) => {
    const runs = [];
    for (let i = 0; i < n; i++) runs.push((await run()).ms);
    return runs;
  };
  window.bench = {
    ort: ort.env.versions?.web ?? null, ep, threads, crossOriginIsolated, coldMs: cold, firstRunMs: first.ms,
    maxAbsDiff, adapter, inputShape: meta.input_shape,
  };
  status.textContent = `Painted: first run ${first.ms.toFixed(0)} ms, ${cold.toFixed(0)} ms from navigation.`;
  document.body.dataset.state = "painted";
}

main().catch((e) => {
  status.textContent = `Failed: ${e?.message ?? e}`;
  document.body.dataset.state = "failed";
  window.bench = { error: String(e?.message ?? e) };
});
