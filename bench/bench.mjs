// Peel against onnxruntime-web in Debian's headless chromium: `node bench/bench.mjs` (run by
// scripts/bench.sh, which builds what this needs first). Prints every figure and writes
// docs/PERFORMANCE.md. A benchmark, not a test: it asserts nothing about time.
//
// Each configuration runs in a fresh browser (empty cache) on the same photo at the app's input
// size, with the same conditioning (the depth prompt):
//   cold   = from navigation to the first painting on screen (downloads, compile, shaders included);
//   warm   = the median of RUNS more paintings;
//   bytes  = response bodies the server sent on that first load, then on a reload (HTTP cache);
//   memory = peak resident memory (VmHWM) of the tab's renderer and the GPU process.
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { cpus, getPriority, loadavg, tmpdir } from "node:os";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import { chromium } from "playwright-core";
import { serve } from "../tests/serve.mjs";
import { compress, precompress } from "../tests/precompress.mjs";
import { firstVisitFiles } from "../tests/first-visit.mjs";

// What else was running: the report states it (the figures are only comparable within one run).
const LOAD_AT_START = loadavg()[0];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const TARGET = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(ROOT, "target");
const BENCH = join(TARGET, "bench");
const SITE = join(BENCH, "site");
const ONNX = join(BENCH, "onnx");
const CHROMIUM = process.env.PEEL_CHROMIUM ?? "/usr/bin/chromium";
const PHOTO = join(ROOT, "static", "samples", "chelsea.png");
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
// After the warm runs, Peel paints the photo resized to these sizes, each a model-input shape it
// has not seen (portrait 160×256, square 256×256, panorama 256×96): what a new aspect ratio costs.
const NEW_SHAPES = [[300, 451], [300, 300], [600, 220]];
// peel_model::preprocess::model_size at the app's long side (256): each side scaled, rounded to a multiple of 32.
const modelSize = (width, height) => [width, height].map((s) => Math.max(32, Math.floor((Math.round((s * 256) / Math.max(width, height)) + 16) / 32) * 32));
const OUT = process.env.BENCH_OUT ?? join(ROOT, "docs", "PERFORMANCE.md");
const ONLY = process.env.BENCH_ONLY?.split(",");
// BENCH_PEEL_DIST=DIR measures another build of the page than dist/ (BENCH_PEEL_LABEL names it).
const PEEL_DIST = resolve(process.env.BENCH_PEEL_DIST ?? join(ROOT, "dist"));
const PEEL_LABEL = process.env.BENCH_PEEL_LABEL ?? "this checkout's `dist/` (`scripts/build-web.sh`)";
const TIMEOUT = 600_000;
// The onnxruntime-web files each harness loads (its module, the Emscripten glue and the wasm).
const ORT_FILES = [
  "ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm",
  "ort.webgpu.min.mjs", "ort-wasm-simd-threaded.asyncify.mjs", "ort-wasm-simd-threaded.asyncify.wasm",
];

// BENCH_BASELINE_DIST=DIR adds a Peel CPU run of another build of the page (say, before a change).
const BASELINE = process.env.BENCH_BASELINE_DIST ? resolve(process.env.BENCH_BASELINE_DIST) : null;
const BASELINE_NAME = `Peel CPU, ${process.env.BENCH_BASELINE_LABEL ?? "baseline build"}`;
const CONFIGS = [
  ...(BASELINE ? [{ id: "baseline", name: BASELINE_NAME, kind: "peel", path: "baseline/?backend=cpu" }] : []),
  { id: "peel-cpu", name: "Peel CPU", kind: "peel", path: "peel/?backend=cpu" },
  { id: "peel-webgpu", name: "Peel WebGPU", kind: "peel", path: "peel/?backend=webgpu" },
  { id: "ort-wasm-1", name: "onnxruntime-web WASM, 1 thread", kind: "ort", path: "ort/?ep=wasm&threads=1" },
  { id: "ort-wasm-2", name: "onnxruntime-web WASM, 2 threads", kind: "ort", path: "ort/?ep=wasm&threads=2" },
  { id: "ort-webgpu", name: "onnxruntime-web WebGPU", kind: "ort", path: "ort/?ep=webgpu&threads=1" },
].filter((c) => !ONLY || ONLY.includes(c.id) || c.id === "baseline");
// Which onnxruntime-web figure each Peel figure is divided by.
const PAIRS = [["Peel CPU", "onnxruntime-web WASM, 1 thread"], ["Peel CPU", "onnxruntime-web WASM, 2 threads"], ["Peel WebGPU", "onnxruntime-web WebGPU"]];

const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

/** The site the benchmark serves: peel/ (dist/, precompressed by the build) and ort/ (harness, runtime, model). */
async function site() {
  await mkdir(join(SITE, "ort", "ort"), { recursive: true });
  await rm(join(SITE, "peel"), { force: true });
  await symlink(PEEL_DIST, join(SITE, "peel"));
  await rm(join(SITE, "baseline"), { force: true });
  if (BASELINE) await symlink(BASELINE, join(SITE, "baseline"));
  // Timestamps kept, so that precompress() skips what it compressed in an earlier run.
  const copy = (from, to, options = {}) => cp(from, to, { preserveTimestamps: true, ...options });
  for (const f of ["index.html", "harness.mjs"]) await copy(join(ROOT, "bench", "ort", f), join(SITE, "ort", f));
  const dist = join(ROOT, "bench", "node_modules", "onnxruntime-web", "dist");
  for (const f of ORT_FILES) await copy(join(dist, f), join(SITE, "ort", "ort", f));
  await copy(ONNX, join(SITE, "ort", "model"), { recursive: true });
  // The same precompression as dist/ gets from scripts/build-web.sh.
  if (process.env.BENCH_NO_PRECOMPRESS !== "1") await precompress(join(SITE, "ort"));
}

/** Peak resident memory (VmHWM, bytes) of the renderer and GPU processes under the browser tagged `tag`. */
function peakMemory(tag) {
  const procs = new Map();
  for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      // Chromium rewrites its command line into one string (its process title): match substrings.
      procs.set(pid, { ppid, cmd: readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ") });
    } catch { /* gone */ }
  }
  const root = [...procs].find(([, p]) => p.cmd.includes(`--bench-tag=${tag}`))?.[0];
  if (!root) return null;
  const under = (pid) => { for (let p = pid; p && procs.has(p); p = String(procs.get(p).ppid)) if (p === root) return true; return false; };
  let renderer = 0, gpu = 0;
  for (const [pid, p] of procs) {
    if (!under(pid)) continue;
    const type = /--type=(renderer|gpu-process)\b/.exec(p.cmd)?.[0];
    if (!type) continue;
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    const bytes = hwm ? Number(hwm[1]) * 1024 : 0;
    if (type === "--type=renderer") renderer = Math.max(renderer, bytes); else gpu = Math.max(gpu, bytes);
  }
  return { renderer, gpu };
}

// Records every `data-state` the page's <body> takes, with performance.now() (navigation = 0).
const STATE_RECORDER = () => {
  window.__states = [];
  new MutationObserver(() => {
    const state = document.body?.dataset.state;
    if (state && window.__states.at(-1)?.state !== state) window.__states.push({ state, t: performance.now() });
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-state"], childList: true });
};

async function waitForState(page, wanted) {
  await page.waitForFunction((w) => w.includes(document.body?.dataset.state), wanted, { timeout: TIMEOUT, polling: 50 });
  return page.evaluate(() => document.body.dataset.state);
}

// The page's own clock (`page_timings` in its result JSON, src/ui/paint_clock.rs): key, column.
const PAGE_STAGES = [
  ["send_ms", "send"], ["to_worker_ms", "to worker"], ["in_worker_ms", "in the worker"], ["from_worker_ms", "from worker"],
  ["read_reply_ms", "read reply"], ["draw_painting_ms", "draw painting"], ["summary_ms", "summary"],
  ["unpack_values_ms", "unpack values"], ["overlay_ms", "overlay"], ["views_ms", "open view"], ["total_ms", "page total"],
];

async function runPeel(page, url, counter) {
  await page.goto(url, { waitUntil: "commit" });
  // The photo is chosen as soon as the page's wasm listens; the page paints it once the model is in.
  await page.waitForFunction(() => window.wasmBindings !== undefined, null, { timeout: TIMEOUT, polling: 10 });
  await page.setInputFiles("#file-input", PHOTO);
  const reached = await waitForState(page, ["painted", "failed", "load-failed"]);
  if (reached !== "painted") throw new Error(`Peel: ${await page.locator("#status").textContent()}`);
  const cold = await page.evaluate(() => window.__states.find((s) => s.state === "painted").t);
  const ready = await page.evaluate(() => window.__states.find((s) => s.state === "ready")?.t ?? null);
  const firstBytes = counter.take();
  const first = JSON.parse(await page.locator("#result-json").textContent());
  const backendLine = await page.locator("#backend-line").textContent();
  const warm = await page.evaluate(async (n) => {
    const settle = () => new Promise((done) => {
      const check = () => ["painted", "failed"].includes(document.body.dataset.state);
      const observer = new MutationObserver(() => { if (check()) { observer.disconnect(); done(); } });
      observer.observe(document.body, { attributes: true, attributeFilter: ["data-state"] });
    });
    const runs = [];
    const inference = () => Number(/Painted in (\d+) ms/.exec(document.getElementById("status").textContent)?.[1]);
    const partsLoading = () => JSON.parse(document.getElementById("result-json").textContent).timings?.parts_loading ?? 0;
    // Steady state: the files deferred until after the first painting (the whole phrase table,
    // the scene network) are downloaded and loaded by the worker between the next few paints.
    let settling = 0;
    while (partsLoading() > 0 && settling < 50) {
      settling++;
      const done = settle();
      document.body.dataset.state = "uploading";
      document.getElementById("paint").click();
      await done;
      await new Promise((later) => setTimeout(later, 100));
    }
    window.__settling = settling;
    for (let i = 0; i < n; i++) {
      document.body.dataset.state = "uploading";
      const started = performance.now();
      const done = settle();
      document.getElementById("paint").click();
      await done;
      const total = performance.now() - started;
      // The next frame: the browser draws what the page put on screen.
      await new Promise((frame) => requestAnimationFrame(() => frame()));
      const onScreen = performance.now() - started;
      if (document.body.dataset.state !== "painted") throw new Error(document.getElementById("status").textContent);
      const result = JSON.parse(document.getElementById("result-json").textContent);
      runs.push({ total, onScreen, inference: inference(), ...result.timings, page: result.page_timings ?? {} });
    }
    return runs;
  }, RUNS);
  const settling = await page.evaluate(() => window.__settling);
  const shapes = [];
  for (const [width, height] of NEW_SHAPES) {
    const png = await page.evaluate(async ({ base64, width, height }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const canvas = new OffscreenCanvas(width, height);
      canvas.getContext("2d").drawImage(await createImageBitmap(new Blob([bytes])), 0, 0, width, height);
      const blob = await canvas.convertToBlob({ type: "image/png" });
      return Array.from(new Uint8Array(await blob.arrayBuffer()));
    }, { base64: readFileSync(PHOTO).toString("base64"), width, height });
    const paint = async (start) => {
      await page.evaluate(() => { document.body.dataset.state = "uploading"; });
      await start();
      if (await waitForState(page, ["painted", "failed"]) !== "painted") throw new Error(`Peel: ${await page.locator("#status").textContent()}`);
      return JSON.parse(await page.locator("#result-json").textContent());
    };
    const atNewShape = await paint(() => page.setInputFiles("#file-input", { name: `shape-${width}x${height}.png`, mimeType: "image/png", buffer: Buffer.from(png) }));
    const again = await paint(() => page.locator("#paint").click());
    shapes.push({ photo: [width, height], input: modelSize(width, height), first: atNewShape.timings.network_ms, again: again.timings.network_ms });
  }
  return {
    cold, ready, firstBytes, backendLine, firstTimings: first.timings, size: [first.width, first.height], shapes, settling,
    model: warm.map((r) => r.network_ms ?? NaN), paint: warm.map((r) => r.total), inference: warm.map((r) => r.inference),
    stages: Object.fromEntries(["decode_ms", "prepare_ms", "network_ms", "upsample_ms", "values_ms"].map((k) => [k, median(warm.map((r) => r[k]))])),
    onScreen: warm.map((r) => r.onScreen),
    pageStages: Object.fromEntries(PAGE_STAGES.map(([k]) => [k, median(warm.map((r) => r.page[k] ?? NaN))])),
  };
}

async function runOrt(page, url, counter) {
  await page.goto(url, { waitUntil: "commit" });
  const reached = await waitForState(page, ["painted", "failed"]);
  const bench = await page.evaluate(() => window.bench);
  if (reached !== "painted") throw new Error(`onnxruntime-web: ${bench?.error}`);
  const firstBytes = counter.take();
  const model = await page.evaluate((n) => window.warm(n), RUNS);
  return { cold: bench.coldMs, firstBytes, model, paint: model, bench };
}

/** Raw, gzip -9 and brotli bytes of what a first visit to the page in `dir` downloads, per kind. */
async function distSizes(dir) {
  const { stat } = await import("node:fs/promises");
  const kinds = await firstVisitFiles(dir);
  const sizes = {};
  for (const [kind, files] of Object.entries(kinds)) {
    const sum = { raw: 0, gzip: 0, br: 0 };
    for (const f of files) {
      const path = join(dir, f);
      const raw = (await stat(path)).size;
      const sibling = async (s) => (await stat(path + s).catch(() => null))?.size;
      let [gz, br] = [await sibling(".gz"), await sibling(".br")];
      if (gz === undefined || br === undefined) {
        const packed = await compress(await readFile(path), { text: /\.(js|css|html|json)$/.test(f) });
        [gz, br] = [Math.min(raw, packed.gzip.length), Math.min(raw, packed.br.length)];
      }
      sum.raw += raw; sum.gzip += gz; sum.br += br;
    }
    sizes[kind] = sum;
  }
  sizes.total = Object.values(sizes).reduce((a, s) => ({ raw: a.raw + s.raw, gzip: a.gzip + s.gzip, br: a.br + s.br }), { raw: 0, gzip: 0, br: 0 });
  return sizes;
}

async function measure(config, server, counter) {
  const tag = Math.random().toString(36).slice(2);
  // A profile on disk, as a visitor has: an incognito context's memory cache keeps no file over a
  // few MB, so a reload would download the wasm and the model again.
  const profile = await mkdtemp(join(tmpdir(), "peel-bench-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, viewport: { width: 1280, height: 900 },
    args: ["--no-sandbox", "--headless=new", "--enable-unsafe-webgpu", "--enable-features=Vulkan",
      "--use-webgpu-adapter=swiftshader", `--bench-tag=${tag}`],
  });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    await page.addInitScript(STATE_RECORDER);
    page.on("pageerror", (e) => console.log(`[${config.name}] page error: ${e.message}`));
    counter.take();
    const result = config.kind === "peel" ? await runPeel(page, server.url + config.path, counter) : await runOrt(page, server.url + config.path, counter);
    // A second load from the same profile: what the HTTP cache leaves to the wire.
    counter.take();
    await page.reload({ waitUntil: "commit" });
    if (config.kind === "peel") await waitForState(page, ["ready", "load-failed"]);
    else await waitForState(page, ["painted", "failed"]);
    result.cachedBytes = counter.take();
    result.memory = peakMemory(tag);
    result.adapter = await page.evaluate(async () => {
      const a = await navigator.gpu?.requestAdapter();
      return a ? [a.info.vendor, a.info.architecture, a.info.description].filter(Boolean).join(" / ") : "none";
    });
    return result;
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}

function byteCounter() {
  let sent = [];
  return {
    add: (entry) => sent.push(entry),
    take: () => {
      const taken = sent;
      sent = [];
      return { bytes: taken.reduce((a, e) => a + e.bytes, 0), requests: taken.length, notModified: taken.filter((e) => e.status === 304).length, files: taken };
    },
  };
}

const ms = (x) => (Number.isFinite(x) ? `${x >= 100 ? x.toFixed(0) : x.toFixed(1)} ms` : "–");
const mb = (x) => (Number.isFinite(x) ? `${(x / 1e6).toFixed(2)} MB` : "–");
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : "–");

/** What is left between Peel's CPU network and onnxruntime-web's one-thread wasm, and why. */
function networkGap(by) {
  const [peel, ort] = [by["Peel CPU"], by["onnxruntime-web WASM, 1 thread"]];
  if (!peel || !ort || peel.error || ort.error) return "";
  const gap = median(peel.model) / median(ort.model);
  if (!(gap > 1)) return `\nPeel CPU's network is ${gap.toFixed(2)}× onnxruntime-web's one-thread wasm in this run.\n`;
  return `
Peel CPU's network is ${gap.toFixed(2)}× onnxruntime-web's one-thread wasm in this run. What is left is
in Burn's CPU backend (\`burn-flex\`), not in Peel's model code: the same network, layer for layer.
onnxruntime's graph optimiser fuses each ReLU6 (an ONNX \`Clip\`) into the convolution before it,
and runs every convolution in its own MLAS kernels. Burn's flex backend runs each ReLU6 as one more pass
over memory, each depthwise convolution as a loop per channel plane, and the dense 3×3 convolutions
through im2col and gemm (the rows above). Burn 0.22 offers no fused convolution and activation on flex.
Closing the gap means convolution kernels of Peel's own under Burn's backend traits, which was
not done: WebGPU is already ahead of onnxruntime-web, and the whole CPU paint is measured above.
`;
}

function report(results, meta) {
  const rows = results.map((r) => {
    const m = r.memory ?? {};
    return `| ${r.name} | ${r.error ? `failed: ${r.error}` : ms(r.cold)} | ${ms(median(r.model ?? []))} | ${r.kind === "peel" ? ms(median(r.inference ?? [])) : "–"} | ${r.kind === "peel" ? ms(median(r.paint ?? [])) : "–"} | ${mb(r.firstBytes?.bytes)} (${r.firstBytes?.requests ?? "–"} requests) | ${mb(r.cachedBytes?.bytes)} (${r.cachedBytes?.notModified ?? "–"} × 304) | ${mb(m.renderer)} / ${mb(m.gpu)} |`;
  });
  const by = Object.fromEntries(results.map((r) => [r.name, r]));
  const ratios = PAIRS.filter(([p, o]) => by[p] && by[o] && !by[p].error && !by[o].error).map(([p, o]) => {
    const [a, b] = [by[p], by[o]];
    return `| ${p} ÷ ${o} | ${ratio(a.cold, b.cold)} | ${ratio(median(a.model), median(b.model))} | ${ratio(median(a.inference), median(b.model))} | ${ratio(a.firstBytes.bytes, b.firstBytes.bytes)} | ${ratio(a.memory?.renderer + a.memory?.gpu, b.memory?.renderer + b.memory?.gpu)} |`;
  });
  const wholePaint = results.filter((r) => r.kind === "peel" && !r.error && Number.isFinite(r.pageStages?.total_ms)).map((r) =>
    `| ${r.name} | ${PAGE_STAGES.map(([k]) => ms(r.pageStages[k])).join(" | ")} | ${ms(median(r.onScreen))} | ${ms(r.stages.network_ms)} | ${(median(r.onScreen) / r.stages.network_ms).toFixed(2)}× |`);
  const stages = results.filter((r) => r.kind === "peel" && !r.error && Number.isFinite(r.stages.network_ms)).map((r) =>
    `| ${r.name} | ${["decode_ms", "prepare_ms", "network_ms", "upsample_ms", "values_ms"].map((k) => ms(r.stages[k])).join(" | ")} | ${ms(median(r.paint))} |`);
  const shapes = results.filter((r) => r.kind === "peel" && !r.error && r.shapes).flatMap((r) =>
    r.shapes.map((x) => `| ${r.name} | ${x.photo.join("×")} → ${x.input.join("×")} | ${ms(x.first)} | ${ms(x.again)} | ${ratio(x.first, x.again)} |`));
  const files = results.filter((r) => !r.error).map((r) =>
    `| ${r.name} | ${r.firstBytes.files.filter((f) => f.bytes > 0).sort((a, b) => b.bytes - a.bytes).slice(0, 6).map((f) => `\`${f.path.replace(/^\/(peel|ort)\//, "")}\` ${mb(f.bytes)}${f.encoding ? ` ${f.encoding}` : ""}`).join(", ")} |`);
  const ort = results.find((r) => r.kind === "ort" && !r.error)?.bench;
  const sizeRows = Object.keys(meta.sizes.current).map((kind) => {
    const cur = meta.sizes.current[kind], base = meta.sizes.baseline?.[kind];
    const cell = (x) => x ? `${mb(x.raw)} / ${mb(x.gzip)} / ${mb(x.br)}` : "–";
    return `| ${kind} | ${cell(cur)} |${meta.sizes.baseline ? ` ${cell(base)} |` : ""}`;
  });
  return `# Performance: Peel against onnxruntime-web

Written by \`bash scripts/bench.sh\` (${meta.date}); every figure below comes from that one run. Do not
edit by hand: run it again. Absolute times on the shared ${meta.machine.cores}-core build machine are noisy (the
benchmark ran at nice ${meta.machine.nice}, with a 1-minute load average of ${meta.machine.load} when it started${meta.machine.loadEnd ? ` and ${meta.machine.loadEnd} when it ended` : ""});
compare the **ratios**, which were measured in the same run, minutes apart.

- **What runs**: the network that paints depth in \`${meta.model}\` (3.2 M parameters) on \`static/samples/chelsea.png\` (451×300) at the
  app's input size, ${meta.inputShape.slice(2).reverse().join("×")} (long side 256), painting the depth prompt
  ("${meta.prompt}"). Peel runs its shipped int8 weights, dequantized to float32 at load, in Burn
  (CPU: the \`flex\` backend in wasm; WebGPU: \`wgpu\`/CubeCL). onnxruntime-web ${ort?.ort ?? "(version unknown)"} runs the same network exported from the
  PyTorch mirror with the same dequantized weights (\`train/peel_train/onnx_export.py\`: float32, ${mb(meta.onnxBytes)},
  the conditioning folded in), fed the photo prepared as the app prepares it; its painting differs from
  PyTorch's by at most ${ort ? ort.maxAbsDiff.toExponential(1) : "–"} (Peel's Burn model is held to PyTorch within 1e-3 by
  \`cargo test -p peel-model\`).
- **Peel build measured**: ${meta.peelLabel}.
- **Browser**: ${meta.browser}, headless, \`--enable-unsafe-webgpu --use-webgpu-adapter=swiftshader\`.
  **WebGPU adapter: ${meta.adapter}** (a software rasterizer on the CPU: this machine has no GPU, so
  WebGPU figures say nothing about a real GPU).
- **cold** = navigation to the first painting on screen in a fresh profile (downloads, compilation,
  weights, shader compilation, the first inference; Peel's photo is chosen as soon as its page
  listens). **model** = the network and painter with the result read back (Peel: the worker's
  \`network_ms\`; onnxruntime-web: \`session.run\` plus \`getData\`), median of ${results[0]?.model?.length ?? RUNS}. **inference** = what Peel's
  page reports as "Painted in N ms" (resize to the input size, network, guided upsampling; older builds
  report only this). **paint** = Peel's whole
  warm paint, from the Paint click to the result on screen (photo decode, resize, network, guided
  upsampling to the photo's size, decoding the values, drawing), median of ${results[0]?.paint?.length ?? RUNS}.
  Peel's warm paints start once its worker has loaded what it defers until after the first painting
  (the whole phrase table, the scene network), whose download, check and loading share the worker with
  the paints in between (${results.filter((r) => r.kind === "peel" && !r.error).map((r) => `${r.name}: ${r.settling ?? 0} such paints`).join("; ")}; not timed).
- **first load** = response bodies the server sent (\`tests/serve.mjs\`: precompressed brotli where the browser
  accepts it, as a static host sends them); **cached** = the same on a reload from the same profile
  (revalidated files answer 304 with no body). **memory** = peak resident set (VmHWM) of the tab's renderer
  process (page and worker) / of the GPU process.

| configuration | cold | model (median) | inference (median) | paint (median) | first load | cached load | memory: renderer / GPU |
|---|---|---|---|---|---|---|---|
${rows.join("\n")}

Peel ÷ onnxruntime-web, same run (below 1 means Peel is faster or smaller):

| ratio | cold | model | Peel inference ÷ onnxruntime-web model (Peel's also resizes and upsamples: an upper bound) | first-load bytes | peak memory |
|---|---|---|---|---|---|
${ratios.join("\n")}

Where Peel's warm paint goes (medians, ms; the worker's own clock, \`timings\` in the page's result JSON):

| backend | photo decode | prepare | network | upsample | values | whole paint (page) |
|---|---|---|---|---|---|---|
${stages.join("\n")}

The whole warm paint on the page's clock, from the Paint click to the result drawn (medians, ms):
the request's trip to the worker, the worker's whole time (its stages above and the rest), the
reply's trip (serialising and copying the painting and values), reading it, drawing the painting,
the summary, the overlay and the open view (the painting's; the effect, 3D and download views are
drawn only when opened). **on screen** is the bench's own clock from the click to the next animation
frame after the page marks the result painted.

| backend | ${PAGE_STAGES.map(([, name]) => name).join(" | ")} | on screen | network | on screen ÷ network |
|---|${PAGE_STAGES.map(() => "---|").join("")}---|---|---|
${wholePaint.join("\n")}
${meta.profile ? `\n${meta.profile.trim()}\n` : ""}${networkGap(by)}
A new aspect ratio: after the warm runs, the page is given the photo resized to shapes its model
input has not had yet (the first photo's input was ${meta.inputShape.slice(2).reverse().join("×")}; the WebGPU load compiles on a
256×192 probe); the worker's \`network_ms\` of the first paint at each shape, then of a second paint:

| backend | photo → model input | first paint at the shape | second paint | first ÷ second |
|---|---|---|---|---|
${shapes.join("\n")}

What a first visit downloads, raw / gzip -9 / brotli 11 (from the measured build${meta.sizes.baseline ? `, and from the baseline build \`${meta.baselineDir}\`` : ""}):

| files | this build |${meta.sizes.baseline ? " baseline build |" : ""}
|---|---|${meta.sizes.baseline ? "---|" : ""}
${sizeRows.join("\n")}

Largest files on the first load:

| configuration | files |
|---|---|
${files.join("\n")}

Command: \`bash scripts/bench.sh\` (\`BENCH_RUNS=N\` for more runs; \`BENCH_ONLY=peel-cpu,ort-wasm-1\` for some
configurations (ids: peel-cpu, peel-webgpu, ort-wasm-1, ort-wasm-2, ort-webgpu); \`BENCH_BASELINE_DIST=DIR\` adds a
Peel CPU run of another build). It builds the page (\`scripts/build-web.sh\`), exports the ONNX model, installs
onnxruntime-web ${ort?.ort ?? ""} from npm into \`bench/node_modules\` and drives Debian's chromium with
playwright-core.
`;
}

async function main() {
  await mkdir(BENCH, { recursive: true });
  // BENCH_REPORT_ONLY=1 rewrites the report from the last run's results.json (no measuring).
  if (process.env.BENCH_REPORT_ONLY === "1") {
    const saved = JSON.parse(await readFile(join(BENCH, "results.json"), "utf8"));
    await writeFile(OUT, report(saved.results, saved.meta));
    return console.log(`Wrote ${OUT} from ${join(BENCH, "results.json")}`);
  }
  await site();
  const meta = JSON.parse(await readFile(join(ONNX, "meta.json"), "utf8"));
  const sizes = { current: await distSizes(PEEL_DIST), baseline: BASELINE ? await distSizes(BASELINE) : null };
  console.log(`first-visit sizes: ${JSON.stringify(sizes)}`);
  const counter = byteCounter();
  const server = await serve(SITE, {
    // Cross-origin isolation, so onnxruntime-web may use threads (SharedArrayBuffer).
    headers: { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" },
    onSent: counter.add,
  });
  const results = [];
  try {
    for (const config of CONFIGS) {
      console.log(`==> ${config.name}`);
      const started = Date.now();
      try {
        const r = await measure(config, server, counter);
        results.push({ ...config, ...r });
        console.log(`    cold ${ms(r.cold)}, model median ${ms(median(r.model))} [${r.model.map((x) => x.toFixed(0)).join(", ")}]` +
          (config.kind === "peel" ? `, paint median ${ms(median(r.paint))}; stages ${JSON.stringify(r.stages)}; ${r.backendLine}` : `; ${JSON.stringify(r.bench)}`));
        if (r.shapes) console.log(`    new shapes: ${JSON.stringify(r.shapes)}`);
        console.log(`    first load ${mb(r.firstBytes.bytes)} in ${r.firstBytes.requests} requests, cached ${mb(r.cachedBytes.bytes)} (${r.cachedBytes.notModified} × 304), memory ${JSON.stringify(r.memory)}; ${((Date.now() - started) / 1000).toFixed(0)} s`);
      } catch (e) {
        console.log(`    failed: ${e.message}`);
        results.push({ ...config, error: e.message.split("\n")[0] });
      }
    }
  } finally {
    await server.close();
  }
  const browser = execFileSync(CHROMIUM, ["--version"], { encoding: "utf8" }).trim();
  const adapter = results.find((r) => r.adapter)?.adapter ?? "none";
  const reportMeta = {
    date: new Date().toISOString().slice(0, 10),
    machine: { cores: cpus().length, nice: getPriority(), load: LOAD_AT_START.toFixed(1), loadEnd: loadavg()[0].toFixed(1) },
    model: meta.model, prompt: meta.prompt, inputShape: meta.input_shape,
    onnxBytes: meta.onnx_bytes, browser, adapter, sizes, baselineDir: BASELINE, peelLabel: PEEL_LABEL,
    // bench/profile_cpu.sh's table, where bench.sh could run it (it needs perf).
    profile: await readFile(join(BENCH, "profile.md"), "utf8").catch(() => null),
  };
  await writeFile(OUT, report(results, reportMeta));
  await writeFile(join(BENCH, "results.json"), JSON.stringify({ results, meta: reportMeta }, null, 2));
  console.log(`\nWrote ${OUT} (raw figures: ${join(BENCH, "results.json")})`);
}

await main();
