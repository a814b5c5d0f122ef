// End-to-end tests of the built page (dist/) in Debian's headless chromium.
// Each test uploads a real photo and checks the decoded values, the overlay and the network.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { inflateSync } from "node:zlib";
import { serve, CSP, CSP_REPORT_PATH } from "../serve.mjs";
import {
  ROOT, DIST, ARTIFACTS, PHOTO, SLOW, serveDist, openPage, cspReports, assertClean, assertLocalOnly, state, waitForState,
  uploadAndRead, paintTask, assertPaintingShown, canvasPixels, meanDifference, setSlider,
} from "./page.mjs";

serveDist();

function assertSensibleDepth(result) {
  assert.equal(result.task, "depth");
  const summary = result.values;
  for (const key of ["min_m", "median_m", "max_m"]) {
    assert.ok(Number.isFinite(summary[key]) && summary[key] > 0, `${key} = ${summary[key]} should be finite and positive`);
  }
  assert.ok(summary.max_m > summary.min_m * 1.2, `depth should vary across the image: ${JSON.stringify(summary)}`);
  assert.ok(summary.sky_fraction < 1, "not everything can be sky");
}

test("WebGPU: paints, decodes and overlays depth for a real photo", { timeout: 2 * SLOW }, async () => {
  const ctx = await openPage({ webgpu: true, query: "?backend=webgpu" });
  const { browser, page } = ctx;
  try {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    assert.equal(await page.locator("body").getAttribute("data-backend"), "WebGPU");
    assert.doesNotMatch(await page.locator("#model-line").textContent(), /placeholder/);
    // The shaders compile while loading (the status says so), not in the first paint.
    const statuses = await page.evaluate(() => window.__peelStatuses);
    assert.ok(statuses.some((s) => /^Compiling the GPU shaders on /.test(s)), `no shader-compile status in ${JSON.stringify(statuses)}`);
    assert.match(await page.locator("#backend-line").textContent(), /shaders compiled in \d+\.\d s/);
    assertSensibleDepth(await uploadAndRead(page));
    await assertPaintingShown(page);
    await page.screenshot({ path: join(ARTIFACTS, "webgpu.png"), fullPage: true });
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});

test("CPU fallback: without WebGPU the page says so and still paints", { timeout: 2 * SLOW }, async () => {
  const ctx = await openPage({ webgpu: false });
  const { browser, page } = ctx;
  try {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    assert.equal(await page.locator("body").getAttribute("data-backend"), "CPU");
    assert.match(await page.locator("#backend-line").textContent(), /CPU/);
    assertSensibleDepth(await uploadAndRead(page, join(ROOT, "static", "samples", "chelsea.png")));
    await assertPaintingShown(page);
    await page.screenshot({ path: join(ARTIFACTS, "cpu.png"), fullPage: true });
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});

test("Auto: with a WebGPU adapter the page times both backends and names its choice", { timeout: 2 * SLOW }, async () => {
  const ctx = await openPage({ webgpu: true });
  const { browser, page } = ctx;
  try {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    const line = await page.locator("#backend-line").textContent();
    assert.match(line, /probe: WebGPU \d+ ms, CPU \d+ ms/);
    const [, gpu, cpu] = line.match(/WebGPU (\d+) ms, CPU (\d+) ms/).map(Number);
    const chosen = await page.locator("body").getAttribute("data-backend");
    assert.equal(chosen, gpu < cpu ? "WebGPU" : "CPU", line);
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});

test("Auto: when WebGPU fails during the probe, the page falls back to the CPU, says why, and paints", { timeout: 2 * SLOW }, async () => {
  // ?test_gpu_fail=1 makes the worker's WebGPU probe return an error after the model was built on
  // the GPU and its shaders compiled (the Auto path's error branch).
  const ctx = await openPage({ webgpu: true, query: "?test_gpu_fail=1" });
  const { browser, page } = ctx;
  try {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    assert.equal(await page.locator("body").getAttribute("data-backend"), "CPU");
    assert.match(await page.locator("#backend-line").textContent(), /^Running on CPU \(WebGPU \(.+\) failed: test failure requested with \?test_gpu_fail=1\)$/);
    assertSensibleDepth(await uploadAndRead(page));
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});

test("A corrupt photo gets a clear message, and the next photo still paints", { timeout: 2 * SLOW }, async () => {
  const ctx = await openPage({ webgpu: false, query: "?backend=cpu" });
  const { browser, page } = ctx;
  try {
    await waitForState(page, ["ready"]);
    const junk = join(ARTIFACTS, "corrupt.jpg");
    const real = await readFile(PHOTO);
    await writeFile(junk, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), real.subarray(200, 4000)]));
    await page.evaluate(() => { document.body.dataset.state = "uploading"; });
    await page.setInputFiles("#file-input", junk);
    assert.equal(await waitForState(page, ["painted", "failed"]), "failed");
    assert.match(await page.locator("#status").textContent(), /corrupt|not an image/i);
    assertSensibleDepth(await uploadAndRead(page));
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});

// The bad-input corpus (tests/corpus/make_corpus.py, issue 10) dropped on the page: every photo
// case paints at the expected size or fails with a one-line message, and after every failure a
// good photo still paints. The worker's wasm memory is read after each file: it may grow to
// hold the largest photo accepted, never past the 4 GiB a wasm32 instance can have.
test("The bad-input corpus on the page: each file paints or gets one line, a good photo paints after every bad one", { timeout: 8 * SLOW }, async () => {
  const corpus = join(ROOT, "target", "bad-input");
  if (!existsSync(join(corpus, "manifest.json"))) {
    const made = spawnSync(join(ROOT, ".venv", "bin", "python"), [join(ROOT, "tests", "corpus", "make_corpus.py"), corpus], { stdio: "inherit" });
    assert.equal(made.status, 0, "tests/corpus/make_corpus.py failed");
  }
  const DEPTH = "Generate a metric depth map of the input image.";
  const cases = JSON.parse(await readFile(join(corpus, "manifest.json"), "utf8"))
    .filter((c) => c.command === "run" && c.args[3] === DEPTH)
    .map((c) => ({ ...c, ...(c.page ?? {}) }));
  assert.ok(cases.length >= 40, `only ${cases.length} photo cases in the corpus`);
  const ctx = await openPage({ webgpu: false, query: "?backend=cpu" });
  const { browser, page } = ctx;
  const wasmBytes = async () => {
    const [worker] = page.workers();
    return worker.evaluate(() => self.__peelWasm?.memory?.buffer.byteLength ?? 0);
  };
  const rows = [];
  try {
    await waitForState(page, ["ready"]);
    const failures = [];
    for (const c of cases) {
      const buffer = await readFile(join(corpus, c.file));
      const started = Date.now();
      await page.evaluate(() => { document.body.dataset.state = "uploading"; });
      await page.setInputFiles("#file-input", { name: c.file, mimeType: "application/octet-stream", buffer });
      const reached = await waitForState(page, ["painted", "failed"], 60_000);
      const status = await page.locator("#status").textContent();
      const seconds = (Date.now() - started) / 1000;
      let wrong = null;
      if (c.expect === "ok") {
        // The worker paints photos larger than 1024 px (long side) at 1024 px.
        const [w, h] = c.size, scale = Math.min(1, 1024 / Math.max(w, h));
        const expected = [Math.max(1, Math.round(w * scale)), Math.max(1, Math.round(h * scale))];
        if (reached !== "painted") wrong = `expected a ${expected.join("×")} painting, got "${status}"`;
        else {
          const result = JSON.parse(await page.locator("#result-json").textContent());
          if (result.width !== expected[0] || result.height !== expected[1]) wrong = `painted ${result.width}×${result.height}, expected ${expected.join("×")}`;
        }
      } else {
        if (reached !== "failed") wrong = `expected a refusal matching /${c.message}/, got "${status}"`;
        else if (status.includes("\n")) wrong = `the message is not one line: ${JSON.stringify(status)}`;
        else if (!new RegExp(c.message).test(status)) wrong = `"${status}" does not match /${c.message}/`;
        // After every refusal a good photo still paints.
        assertSensibleDepth(await uploadAndRead(page));
      }
      const memory = await wasmBytes();
      if (!(memory > 0 && memory < 4 * 2 ** 30)) wrong = `worker wasm memory ${memory} bytes`;
      if (wrong) failures.push(`${c.name}: ${wrong}`);
      rows.push(`| \`${c.name}\` | ${c.expect === "ok" ? `ok ${c.size.join("×")}` : `/${c.message.replace(/\|/g, "\\|")}/`} | ${wrong ? "❌" : "✅"} ${reached}: ${status.replace(/\|/g, "\\|").slice(0, 140)} | ${seconds.toFixed(1)} s | ${(memory / 2 ** 20).toFixed(0)} MiB |`);
    }
    await writeFile(join(ARTIFACTS, "bad-input-page.md"),
      ["| file | expected | what the page did | time | worker wasm memory after |", "|---|---|---|---|---|", ...rows].join("\n") + "\n");
    assert.deepEqual(failures, [], "corpus files the page handled wrongly (table in target/browser-tests/bad-input-page.md)");
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});

for (const [name, override, message] of [
  ["tampered", (bytes) => Buffer.concat([bytes.subarray(0, bytes.length - 64), Buffer.alloc(64, 7)]), /corrupt or was modified/],
  ["missing", () => null, /HTTP 404/],
]) {
  test(`A ${name} weights file gives a clear message, not a blank page`, { timeout: SLOW }, async () => {
    const manifest = JSON.parse(await readFile(join(DIST, "weights", "manifest.json"), "utf8"));
    const path = `/weights/${manifest.weights_file}`;
    const weights = await readFile(join(DIST, "weights", manifest.weights_file));
    const overrides = { [path]: override(weights) };
    const broken = await serve(DIST, { overrides, cspReports: true });
    broken.overrides = overrides;
    const ctx = await openPage({ webgpu: false, url: broken.url, reports: broken.cspReports });
    const { browser, page } = ctx;
    try {
      assert.equal(await waitForState(page, ["ready", "load-failed"]), "load-failed");
      assert.match(await page.locator("#status").textContent(), message);
      assert.match(await page.locator("#model-line").textContent(), /could not be loaded/);
      // Once the file is right again, "Try loading the model again" loads it without a reload.
      assert.ok(await page.locator("#retry").isVisible(), "a retry button after a failed load");
      const overrides = broken.overrides;
      delete overrides[path];
      await page.click("#retry");
      assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
      assert.ok(!(await page.locator("#retry").isVisible()), "no retry button once loaded");
      assertSensibleDepth(await uploadAndRead(page));
      await assertClean(ctx);
    } finally {
      await browser.close();
      await broken.close();
    }
  });
}

test("Every task paints and decodes on the CPU; a malformed prompt is refused with its position", { timeout: 3 * SLOW }, async () => {
  const ctx = await openPage({ webgpu: false, query: "?backend=cpu" });
  const { browser, page } = ctx;
  try {
    await waitForState(page, ["ready"]);
    assertSensibleDepth(await uploadAndRead(page, join(ROOT, "static", "samples", "chelsea.png")));

    const normals = await paintTask(page, "normals");
    const n = normals.values.mean;
    assert.ok(Math.abs(Math.hypot(...n) - 1) < 1e-3, `mean normal should be a unit vector: ${n}`);
    assert.ok(n[2] > 0, "normals must face the viewer (+z)");

    const semantic = await paintTask(page, "semantic", 'Generate a semantic segmentation visualization image, using this color mapping: {"cat": "orange", "sky": "blue"}');
    assert.deepEqual(semantic.values.map((s) => s.name), ["cat", "sky"]);
    const cat = semantic.values[0];
    assert.deepEqual(cat.color, [255, 165, 0]);
    const total = semantic.width * semantic.height;
    // chelsea.png is a close-up of a cat: most of it should decode as the cat's colour.
    assert.ok(cat.pixels > 0.25 * total, `cat covers only ${(100 * cat.pixels / total).toFixed(1)} %`);
    await assertPaintingShown(page);
    await page.screenshot({ path: join(ARTIFACTS, "semantic.png"), fullPage: true });

    // A close-up of one cat: at least one cat instance, and the largest covers much of the photo
    // (the shipped model paints one instance over 78 % of it with `peel run`).
    const instance = await paintTask(page, "instance", "Generate an instance segmentation visualization of this image. Each cat is colored differently.");
    assert.ok(instance.values.length >= 1, "no cat instance on a photo of a cat");
    for (const seg of instance.values) assert.match(seg.name, /^cat \d+$/);
    const largest = Math.max(...instance.values.map((s) => s.pixels));
    assert.ok(largest > 0.25 * total, `the largest cat instance covers only ${(100 * largest / total).toFixed(1)} %`);
    await assertPaintingShown(page);

    // The referred cat gets a mask of its own size (66 % with `peel run`), the absent cup far less.
    const referring = await paintTask(page, "referring");
    assert.deepEqual(referring.values.map((s) => s.name), ["The cat on the left", "the cup"]);
    const [catMask, cupMask] = referring.values.map((s) => s.pixels);
    assert.ok(catMask > 0.25 * total, `"the cat on the left" covers only ${(100 * catMask / total).toFixed(1)} %`);
    assert.ok(cupMask < catMask / 4, `"the cup" (${cupMask} px) should be far smaller than the cat (${catMask} px)`);

    await page.evaluate(() => { document.body.dataset.state = "uploading"; });
    await page.fill("#prompt", 'color mapping: {"cat": "reddish"}');
    await page.click("#paint");
    assert.equal(await waitForState(page, ["painted", "failed"]), "failed");
    assert.match(await page.locator("#status").textContent(), /Prompt: .*character \d+.*reddish/);
    const again = await paintTask(page, "semantic", 'color mapping: {"cat": "red"}');
    assert.deepEqual(again.values.map((s) => s.name), ["cat"]);
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});

test("CSP: the header and <meta> are in force (inline script is blocked and reported), and a full paint violates nothing", { timeout: 2 * SLOW }, async () => {
  const ctx = await openPage({ webgpu: false, query: "?backend=cpu" });
  const { browser, page, response } = ctx;
  try {
    // The test server adds a report-uri to the policy (the <meta> cannot carry one).
    assert.equal(response.headers()["content-security-policy"], `${CSP}; report-uri ${CSP_REPORT_PATH}`);
    assert.equal(await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content", { timeout: 1000 }), CSP);
    await waitForState(page, ["ready"]);
    // An injected inline script must not run, and the violation must be seen by this harness:
    // this is what makes the assertClean() of every test able to fail.
    const ran = await page.evaluate(async () => {
      const script = document.createElement("script");
      script.textContent = "window.__inlineRan = true";
      document.head.append(script);
      await new Promise((done) => setTimeout(done, 200));
      return window.__inlineRan === true;
    });
    assert.equal(ran, false, "inline script ran despite the CSP");
    await page.waitForTimeout(300);
    assert.ok(ctx.violations.some((v) => /script-src/.test(v)), `the blocked inline script was not seen: ${ctx.violations}`);
    const reports = await cspReports(ctx);
    assert.ok(reports.some((r) => /^report: script-src-elem blocked inline/.test(r)), `the blocked inline script was not reported: ${reports}`);
    ctx.violations.length = 0;
    ctx.reportsFrom = ctx.reports.length;
    assertSensibleDepth(await uploadAndRead(page));
    await paintTask(page, "semantic", 'Generate a semantic segmentation visualization image, using this color mapping: {"cup": "red", "table": "blue"}');
    await assertPaintingShown(page);
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});

test("A worker that panics is replaced: the page says so, restarts it on the CPU, and the next paint works", { timeout: 2 * SLOW }, async () => {
  // Starts on WebGPU, so that "restarted on the CPU" is something the test can see happen.
  const ctx = await openPage({ webgpu: true, query: "?backend=webgpu&test_panic=1" });
  const { browser, page } = ctx;
  try {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    assert.equal(await page.locator("body").getAttribute("data-backend"), "WebGPU");
    // Every data-state the page goes through from here on (each change's old value, then the last).
    await page.evaluate(() => {
      window.__states = [];
      new MutationObserver((records) => records.forEach((r) => window.__states.push(r.oldValue)))
        .observe(document.body, { attributes: true, attributeFilter: ["data-state"], attributeOldValue: true });
    });
    await page.evaluate(() => { document.body.dataset.state = "uploading"; });
    await page.setInputFiles("#file-input", PHOTO);
    // painting → (panic) restarting → ready: a new worker was loaded and the busy flag reset.
    assert.equal(await waitForState(page, ["ready", "load-failed", "painted", "failed"]), "ready", await page.locator("#status").textContent());
    const states = await page.evaluate(() => [...window.__states, document.body.dataset.state]);
    assert.deepEqual(states, ["ready", "uploading", "painting", "restarting", "ready"]);
    const status = await page.locator("#status").textContent();
    assert.match(status, /^The worker stopped \(.*test panic requested with \?test_panic=1.*\); it was restarted on the CPU\. Paint again\.$/);
    assert.doesNotMatch(status, /\n/, "one line");
    assert.equal(await page.locator("body").getAttribute("data-backend"), "CPU");
    assert.equal(await page.locator("#backend-line").textContent(), "Running on CPU (the worker was restarted after it stopped)");
    // The photo that crashed it is not repainted on its own: Paint paints it on the new worker ...
    const repainted = await paintTask(page, "depth", await page.inputValue("#prompt"));
    assertSensibleDepth(repainted);
    assert.match(await page.locator("#status").textContent(), /^Painted in \d+ ms\.$/);
    // ... and choosing the same file again paints it too (the file input is cleared after each choice).
    const { timings: _t1, page_timings: _p1, ...again } = await uploadAndRead(page);
    const { timings: _t2, page_timings: _p2, ...expected } = repainted;
    assert.deepEqual(again, expected, "the same photo paints the same values (timings aside)");
    await assertPaintingShown(page);
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});

/** A JPEG of `width`×`height` made by the browser, with an EXIF APP1 segment saying `orientation`. */
async function exifJpeg(page, width, height, orientation) {
  const base64 = await page.evaluate(([w, h]) => {
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    const g = canvas.getContext("2d");
    g.fillStyle = "rgb(120,170,230)";
    g.fillRect(0, 0, w, h);
    g.fillStyle = "rgb(60,120,50)";
    g.fillRect(0, h * 0.6, w, h * 0.4);
    g.fillStyle = "rgb(40,30,30)";
    g.fillRect(w * 0.1, h * 0.3, w * 0.2, h * 0.5);
    return canvas.toDataURL("image/jpeg", 0.95).split(",")[1];
  }, [width, height]);
  const jpeg = Buffer.from(base64, "base64");
  // Big-endian TIFF header, one IFD entry: tag 0x0112 (Orientation), SHORT, count 1, value.
  const tiff = Buffer.from([0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0]);
  const body = Buffer.concat([Buffer.from("Exif\0\0", "latin1"), tiff]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff]), body]);
  return Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
}

test("A lost GPU device: the page says so, restarts the worker on the CPU, and the next paint works", { timeout: 2 * SLOW }, async () => {
  const ctx = await openPage({ webgpu: true, query: "?backend=webgpu&test_lose_device=1" });
  const { browser, page } = ctx;
  try {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    assert.equal(await page.locator("body").getAttribute("data-backend"), "WebGPU");
    assertSensibleDepth(await uploadAndRead(page));
    // What a driver reset does to the device, from inside the worker (static/worker-loader.js).
    const [worker] = page.workers();
    await worker.evaluate(() => self.__peelLoseGpuDevice());
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    const status = await page.locator("#status").textContent();
    assert.match(status, /^The worker stopped \(.*the GPU device was lost \(destroyed.*\); it was restarted on the CPU\. Paint again\.$/);
    assert.equal(await page.locator("body").getAttribute("data-backend"), "CPU");
    assertSensibleDepth(await paintTask(page, "depth", await page.inputValue("#prompt")));
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});

test("EXIF orientation: a portrait phone photo stored sideways is painted as the browser shows it", { timeout: 2 * SLOW }, async () => {
  const ctx = await openPage({ webgpu: false, query: "?backend=cpu" });
  const { browser, page } = ctx;
  try {
    await waitForState(page, ["ready"]);
    for (const [orientation, shown] of [[6, [120, 200]], [8, [120, 200]], [3, [200, 120]], [1, [200, 120]]]) {
      const buffer = await exifJpeg(page, 200, 120, orientation);
      await page.evaluate(() => { document.body.dataset.state = "uploading"; });
      await page.setInputFiles("#file-input", { name: `exif-${orientation}.jpg`, mimeType: "image/jpeg", buffer });
      const reached = await waitForState(page, ["painted", "failed"]);
      assert.equal(reached, "painted", await page.locator("#status").textContent());
      const result = JSON.parse(await page.locator("#result-json").textContent());
      // The browser displays the photo rotated (the overlay canvas takes the <img>'s size);
      // the painting must have the same shape, not the stored one.
      const overlay = await page.evaluate(() => [document.getElementById("overlay").width, document.getElementById("overlay").height]);
      assert.deepEqual(overlay, shown, `orientation ${orientation}: the browser shows ${overlay}`);
      assert.deepEqual([result.width, result.height], shown, `orientation ${orientation}: painting is ${result.width}×${result.height}`);
    }
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});

test("A second visit takes the weights from the Cache API and the page from the HTTP cache; a damaged cached copy is downloaded again", { timeout: 2 * SLOW }, async () => {
  const sent = [];
  const counting = await serve(DIST, { onSent: (e) => sent.push(e) });
  const { browser, page } = await openPage({ webgpu: false, query: "?backend=cpu", url: counting.url });
  try {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    const manifest = JSON.parse(await readFile(join(DIST, "weights", "manifest.json"), "utf8"));
    const files = [manifest.weights_file, manifest.phrases_file];
    // The first visit fetched both files (compressed where the browser accepts it) ...
    for (const f of files) assert.ok(sent.some((e) => e.path === `/weights/${f}` && e.status === 200 && e.bytes > 0), `fetched ${f}`);
    assert.ok(sent.some((e) => e.encoding === "br"), "brotli siblings are sent");
    // ... and keeps them under the manifest's hashes once they checked out.
    await page.waitForFunction(async (n) => (await (await caches.open("peel-weights")).keys()).length === n, files.length, { timeout: 60_000 });
    const keys = await page.evaluate(async () => (await (await caches.open("peel-weights")).keys()).map((r) => r.url));
    assert.ok(keys.some((k) => k.endsWith(`${manifest.weights_file}?sha256=${manifest.sha256}`)), keys.join(", "));
    sent.length = 0;
    await page.reload();
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    assert.deepEqual(sent.filter((e) => files.some((f) => e.path.endsWith(f))), [], "no weights request on the second visit");
    const bodies = sent.filter((e) => e.status === 200).reduce((a, e) => a + e.bytes, 0);
    assert.ok(bodies < 100_000, `second visit moved ${bodies} bytes: ${JSON.stringify(sent)}`);
    assertSensibleDepth(await uploadAndRead(page));
    // A damaged cached copy (same key, wrong bytes) is not a permanent "corrupt" state: the next
    // visit downloads the file again and replaces the copy.
    const key = keys.find((k) => k.endsWith(`?sha256=${manifest.sha256}`));
    await page.evaluate(async (k) => (await caches.open("peel-weights")).put(k, new Response(new Uint8Array([1, 2, 3]))), key);
    sent.length = 0;
    await page.reload();
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    // (The HTTP cache may answer the refetch with a 304: what matters is that the bad copy is replaced.)
    assert.ok(sent.some((e) => e.path === `/weights/${manifest.weights_file}` && [200, 304].includes(e.status)), "the damaged file is fetched again");
    const weightsBytes = (await readFile(join(DIST, "weights", manifest.weights_file))).length;
    await page.waitForFunction(async ([k, n]) => (await (await (await caches.open("peel-weights")).match(k))?.arrayBuffer())?.byteLength === n,
      [key, weightsBytes], { timeout: 60_000 });
    assertSensibleDepth(await uploadAndRead(page));
  } finally {
    await browser.close();
    await counting.close();
  }
});

test("Offline: the service worker keeps the page; with the server gone and the network off, a reload loads the model and paints", { timeout: 2 * SLOW }, async () => {
  const sent = [];
  const counting = await serve(DIST, { onSent: (e) => sent.push(e) });
  const ctx = await openPage({ webgpu: false, query: "?backend=cpu", url: counting.url });
  const { browser, page } = ctx;
  try {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    await page.waitForFunction(() => document.body.dataset.offline && navigator.serviceWorker.controller, null, { timeout: 60_000 });
    assert.equal(await page.locator("body").getAttribute("data-offline"), "ready", await page.locator("#offline-line").textContent());
    assert.equal(await page.locator("#offline-line").textContent(), "This page and its model are kept on this device, so it also works offline.");
    // The weights are the model worker's to keep (its Cache API store), not the service worker's.
    await page.waitForFunction(async () => (await (await caches.open("peel-weights")).keys()).length === 2, null, { timeout: 60_000 });
    const kept = await page.evaluate(async () => (await (await caches.open("peel-app")).keys()).map((r) => new URL(r.url).pathname));
    assert.ok(kept.includes("/") && kept.includes("/peel-worker_bg.wasm") && kept.includes("/weights/manifest.json"), kept.join(", "));
    assert.ok(!kept.some((p) => p.endsWith(".safetensors")), `weights kept twice: ${kept.join(", ")}`);
    // Offline for real: the browser's network is off and the server is gone.
    await counting.close();
    await page.context().setOffline(true);
    sent.length = 0;
    await page.reload();
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    assertSensibleDepth(await uploadAndRead(page));
    await page.screenshot({ path: join(ARTIFACTS, "offline.png"), fullPage: true });
    assert.deepEqual(sent, [], "nothing reached the server");
    await assertClean(ctx);
  } finally {
    await browser.close();
    await counting.close();
  }
});

test("Reading the result: depth scale, keyboard cross-hair, 3D distance between two points, cancel; the page fits a 375-px phone", { timeout: 2 * SLOW }, async () => {
  const ctx = await openPage({ webgpu: false, query: "?backend=cpu" });
  const { browser, page } = ctx;
  try {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    const result = await uploadAndRead(page);
    assert.equal(result.task, "depth");
    assert.ok(await page.locator("#depth-scale").isVisible(), "the depth colour scale is shown with a depth painting");
    // The arrow keys move a cross-hair from the centre; the readout follows it.
    await page.focus("#overlay");
    for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowRight");
    assert.match(await page.locator("#readout").textContent(), /^Depth here: (\d+\.\d\d m|sky \(infinitely far\))$/);
    await page.keyboard.press("Enter");
    assert.equal(await page.locator("#measure").textContent(), "Click a second point.");
    for (let i = 0; i < 20; i++) await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    const line = await page.locator("#measure").textContent();
    const m = line.match(/^Distance between the two points: (\d+\.\d\d) m in 3D \((\d+\.\d\d) m and (\d+\.\d\d) m from the camera; horizontal field of view 60°/);
    assert.ok(m, line);
    // The same pinhole geometry, computed here from the two depths the page shows (rounded to cm).
    const { width: w, height: h } = result;
    const step = Math.max(1, Math.floor(Math.max(w, h) / 100));
    const a = [Math.floor(w / 2) + 3 * step, Math.floor(h / 2)], b = [a[0], a[1] + 20 * step];
    const f = (w / 2) / Math.tan((60 * Math.PI) / 360);
    const point = ([u, v], d) => [d * (u + 0.5 - w / 2) / f, -d * (v + 0.5 - h / 2) / f, -d];
    const [pa, pb] = [point(a, Number(m[2])), point(b, Number(m[3]))];
    const expected = Math.hypot(pa[0] - pb[0], pa[1] - pb[1], pa[2] - pb[2]);
    assert.ok(Math.abs(expected - Number(m[1])) < 0.02, `distance ${m[1]} m, expected ${expected.toFixed(3)} m`);
    await page.screenshot({ path: join(ARTIFACTS, "measure.png"), fullPage: true });
    // Cancel stops the paint in flight: the worker is replaced on the same backend and paints again.
    await page.evaluate(() => {
      document.body.dataset.state = "uploading";
      document.getElementById("paint").click();
      document.getElementById("cancel").click();
    });
    assert.equal(await waitForState(page, ["ready", "load-failed", "painted", "failed"]), "ready", await page.locator("#status").textContent());
    assert.equal(await page.locator("#status").textContent(), "Painting cancelled. Paint again when you like.");
    assert.equal(await page.locator("body").getAttribute("data-backend"), "CPU");
    assert.ok(!(await page.locator("#cancel").isVisible()), "no cancel button when nothing is painting");
    assertSensibleDepth(await uploadAndRead(page));
    // A phone: nothing wider than the screen, and the picture fits it.
    await page.setViewportSize({ width: 375, height: 812 });
    const widths = await page.evaluate(() => [document.documentElement.scrollWidth, document.getElementById("overlay").getBoundingClientRect().width]);
    assert.ok(widths[0] <= 375 && widths[1] <= 375, `page ${widths[0]} px and picture ${widths[1]} px wide on a 375-px screen`);
    await page.screenshot({ path: join(ARTIFACTS, "phone.png"), fullPage: true });
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});

test("Before/after slider and legend: the painting covers only the left part, and a clicked legend entry shows alone", { timeout: 2 * SLOW }, async () => {
  const ctx = await openPage({ webgpu: false, query: "?backend=cpu" });
  const { browser, page } = ctx;
  try {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    await uploadAndRead(page);
    const semantic = await paintTask(page, "semantic", 'Generate a semantic segmentation visualization image, using this color mapping: {"cat": "orange", "sky": "blue"}');
    // The overlay's pixels now, against the photo alone (opacity 0): which columns changed, and to what colours.
    const snapshot = () => page.evaluate(() => {
      const c = document.getElementById("overlay");
      return Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data);
    });
    await page.locator("#opacity").fill("0");
    const photo = await snapshot();
    await page.locator("#opacity").fill("100");
    const width = await page.evaluate(() => document.getElementById("overlay").width);
    const changes = (now) => {
      const columns = new Set(), colours = new Set();
      for (let i = 0; i < now.length; i += 4) {
        if (now[i] !== photo[i] || now[i + 1] !== photo[i + 1] || now[i + 2] !== photo[i + 2]) {
          columns.add((i / 4) % width);
          colours.add(`${now[i]},${now[i + 1]},${now[i + 2]}`);
        }
      }
      return { columns: [...columns], colours };
    };
    await page.locator("#compare").fill("50");
    const half = changes(await snapshot());
    assert.ok(half.columns.some((x) => x < width * 0.45), "the painting covers the left half");
    assert.ok(half.columns.every((x) => x <= width * 0.5 + 2), `nothing but the handle right of the middle (column ${Math.max(...half.columns)} of ${width})`);
    await page.locator("#compare").fill("100");
    const allPixels = await snapshot();
    const all = changes(allPixels);
    // The first legend entry alone: its pixels keep the painting's colours, every other pixel shows the photo.
    const entry = page.locator('#summary [data-entry="1"]');
    await entry.click();
    assert.equal(await entry.getAttribute("aria-pressed"), "true");
    const alonePixels = await snapshot();
    let painted = 0, paintedAll = 0;
    for (let i = 0; i < alonePixels.length; i += 4) {
      paintedAll += ![0, 1, 2].every((c) => allPixels[i + c] === photo[i + c]);
      const isPhoto = [0, 1, 2].every((c) => alonePixels[i + c] === photo[i + c]);
      const isPainting = [0, 1, 2].every((c) => alonePixels[i + c] === allPixels[i + c]);
      if (!isPhoto && !isPainting) assert.fail(`pixel ${i / 4} is neither the photo nor the painting`);
      painted += !isPhoto;
    }
    const [w, h] = await page.evaluate(() => [document.getElementById("overlay").width, document.getElementById("overlay").height]);
    assert.deepEqual([w, h], [semantic.width, semantic.height], "drawn at the painting's own size");
    const pixels = semantic.values[0].pixels;
    // An entry of 0 pixels would pass the range check below with nothing painted.
    assert.ok(pixels > 0, `the legend entry ${semantic.values[0].name} covers no pixels`);
    assert.ok(painted <= pixels && painted >= 0.98 * pixels, `${painted} pixels painted for an entry of ${pixels}`);
    if (semantic.values.some((v, i) => i > 0 && v.pixels > 0)) assert.ok(painted < paintedAll, `${painted} pixels alone against ${paintedAll} for all entries`);
    // Enter on it again shows every entry.
    await entry.focus();
    await page.keyboard.press("Enter");
    assert.equal(await entry.getAttribute("aria-pressed"), "false");
    assert.deepEqual(changes(await snapshot()).colours, all.colours);
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});

// ---- Exports: every download is captured and read back against what the page decoded. ----

// Clicks `selector`, waits for the download it starts and returns its name and bytes.
/** Opens the view (tab) that holds `selector`, as a person would before using it; no-op if it is open. */
async function openViewOf(page, selector) {
  const tab = await page.evaluate((s) => {
    const panel = document.querySelector(s)?.closest("[role=tabpanel]");
    return panel?.hidden ? document.querySelector(`[role=tab][aria-controls="${panel.id}"]`)?.id : null;
  }, selector);
  if (tab) await page.click(`#${tab}`);
}

async function download(page, selector) {
  await openViewOf(page, selector);
  const [dl] = await Promise.all([page.waitForEvent("download", { timeout: 30_000 }), page.click(selector)]);
  const name = dl.suggestedFilename();
  const path = join(ARTIFACTS, "downloads", name);
  await mkdir(dirname(path), { recursive: true });
  await dl.saveAs(path);
  return { name, bytes: await readFile(path) };
}

// A minimal reader for the grey, non-interlaced PNGs the page exports: size, bit depth and values.
// An 8-bit RGBA PNG: its size and the raw RGBA bytes (the grey reader below undoes the filters).
function readRgbaPng(bytes) {
  return readGreyPng(bytes, 6);
}

function readGreyPng(bytes, colorType = 0) {
  assert.deepEqual([...bytes.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], "PNG signature");
  let at = 8, ihdr, idat = [];
  while (at < bytes.length) {
    const length = bytes.readUInt32BE(at), type = bytes.toString("latin1", at + 4, at + 8);
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (type === "IHDR") ihdr = { width: data.readUInt32BE(0), height: data.readUInt32BE(4), bitDepth: data[8], colorType: data[9], interlace: data[12] };
    if (type === "IDAT") idat.push(data);
    at += 12 + length;
  }
  assert.equal(ihdr.colorType, colorType, { 0: "grey PNG", 2: "RGB PNG", 6: "RGBA PNG" }[colorType]);
  assert.equal(ihdr.interlace, 0);
  const bpp = (ihdr.bitDepth / 8) * ({ 0: 1, 2: 3, 6: 4 }[colorType]), stride = ihdr.width * bpp;
  const raw = inflateSync(Buffer.concat(idat));
  const out = Buffer.alloc(stride * ihdr.height);
  for (let y = 0; y < ihdr.height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i];
      const a = i >= bpp ? out[y * stride + i - bpp] : 0;
      const b = y > 0 ? out[(y - 1) * stride + i] : 0;
      const c = i >= bpp && y > 0 ? out[(y - 1) * stride + i - bpp] : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const predictor = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter];
      assert.ok(predictor !== undefined, `PNG filter ${filter}`);
      out[y * stride + i] = (x + predictor) & 0xff;
    }
  }
  if (colorType === 6) return { ...ihdr, rgba: out };
  if (colorType === 2) return { ...ihdr, rgb: out };
  const values = new Array(ihdr.width * ihdr.height);
  for (let p = 0; p < values.length; p++) values[p] = bpp === 2 ? out.readUInt16BE(2 * p) : out[p];
  return { ...ihdr, values };
}

// A float32 .npy: its shape and values.
function readNpy(bytes) {
  assert.equal(bytes.toString("latin1", 0, 6), "\x93NUMPY");
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.toString("latin1", 10, 10 + headerLength);
  assert.match(header, /'descr': '<f4'/);
  assert.match(header, /'fortran_order': False/);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const body = bytes.subarray(10 + headerLength);
  assert.equal(body.length, 4 * shape.reduce((a, b) => a * b, 1), "data size matches the shape");
  const values = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
  return { shape, values };
}

function readPly(bytes) {
  const end = bytes.indexOf("end_header\n");
  assert.ok(end > 0, "PLY header");
  const header = bytes.toString("latin1", 0, end).split("\n");
  assert.equal(header[0], "ply");
  assert.equal(header[1], "format binary_little_endian 1.0");
  const count = Number(header.find((l) => l.startsWith("element vertex ")).split(" ")[2]);
  const body = bytes.subarray(end + "end_header\n".length);
  assert.equal(body.length, 15 * count, "x, y, z float and r, g, b uchar per vertex");
  const vertex = (i) => ({
    position: [0, 4, 8].map((o) => body.readFloatLE(15 * i + o)),
    colour: [12, 13, 14].map((o) => body[15 * i + o]),
  });
  return { header, count, vertex };
}

const visibleGroups = async (page) => {
  // The downloads are a view of the painting, offered once there is one.
  if (await page.locator("#tab-downloads").isVisible()) await openViewOf(page, "#export-depth");
  const groups = {};
  for (const id of ["export-depth", "export-normals", "export-masks"]) groups[id] = await page.locator(`#${id}`).isVisible();
  return groups;
};

test("Exports: depth PNG/npy/PLY, normals npy and masks download and hold the decoded values", { timeout: 3 * SLOW }, async () => {
  const ctx = await openPage({ webgpu: false, query: "?backend=cpu" });
  const { browser, page } = ctx;
  try {
    await waitForState(page, ["ready"]);
    assert.deepEqual(await visibleGroups(page), { "export-depth": false, "export-normals": false, "export-masks": false });
    const depth = await uploadAndRead(page, join(ROOT, "static", "samples", "chelsea.png"));
    assertSensibleDepth(depth);
    assert.deepEqual(await visibleGroups(page), { "export-depth": true, "export-normals": false, "export-masks": false });
    assert.match(await page.locator("#export-depth").textContent(), /default 60°/);
    const { width, height } = depth;

    // The painting itself, encoded when asked for: at full opacity the overlay shows exactly it.
    const visualization = await download(page, "#export-visualization");
    assert.equal(visualization.name, "peel-depth-visualization.png");
    const painted = readGreyPng(visualization.bytes, 2);
    assert.deepEqual([painted.width, painted.height], [width, height]);
    await setSlider(page, "opacity", 100);
    const overlay = await canvasPixels(page, "overlay");
    assert.deepEqual([...painted.rgb], overlay.data.filter((_, i) => i % 4 !== 3), "the PNG is the painting on screen");
    await setSlider(page, "opacity", 70);

    const npyFile = await download(page, "#export-depth-npy");
    assert.equal(npyFile.name, "peel-depth.npy");
    const npy = readNpy(npyFile.bytes);
    assert.deepEqual(npy.shape, [height, width]);
    // (A loop, not Math.min(...values): 135 k arguments overflow the stack.)
    let [nearest, farthest, finite, points] = [Infinity, -Infinity, 0, 0];
    for (const m of npy.values) {
      if (!Number.isFinite(m)) continue;
      [nearest, farthest, finite] = [Math.min(nearest, m), Math.max(farthest, m), finite + 1];
      if (m > 0) points++;
    }
    assert.equal(nearest, depth.values.min_m, "nearest depth matches the page's summary");
    assert.equal(farthest, depth.values.max_m, "farthest depth matches the page's summary");
    assert.ok(Math.abs(1 - finite / npy.values.length - depth.values.sky_fraction) < 1e-6, "sky share matches");

    const pngFile = await download(page, "#export-depth-png");
    assert.equal(pngFile.name, "peel-depth-mm.png");
    const png = readGreyPng(pngFile.bytes);
    assert.deepEqual([png.width, png.height, png.bitDepth], [width, height, 16]);
    for (let p = 0; p < png.values.length; p++) {
      const m = npy.values[p];
      const want = Number.isFinite(m) && m > 0 ? Math.min(65535, Math.max(1, Math.round(m * 1000))) : 0;
      if (Math.abs(png.values[p] - want) > 1) assert.fail(`pixel ${p}: ${png.values[p]} mm for ${m} m`);
    }

    await page.fill("#export-fov", "75");
    const plyFile = await download(page, "#export-depth-ply");
    assert.equal(plyFile.name, "peel-depth-fov75.ply");
    const ply = readPly(plyFile.bytes);
    assert.equal(ply.count, points, "one vertex per pixel with a finite, positive depth");
    assert.match(await page.locator("#status").textContent(), new RegExp(`${points} points, 75° field of view`));
    // The first vertex is the first pixel with finite positive depth, placed by the 75° pinhole camera.
    const first = npy.values.findIndex((m) => Number.isFinite(m) && m > 0);
    const [u, v, d] = [first % width, Math.floor(first / width), npy.values[first]];
    const f = (width / 2) / Math.tan((75 / 2) * Math.PI / 180);
    const want = [d * (u + 0.5 - width / 2) / f, -d * (v + 0.5 - height / 2) / f, -d];
    const got = ply.vertex(0).position;
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-4 * Math.max(1, Math.abs(want[i])), `vertex 0: ${got} vs ${want}`);
    // Points take the photo's colours, not the visualization's: a cat photo is not one colour.
    const colours = new Set(Array.from({ length: 200 }, (_, i) => ply.vertex(Math.floor(i * ply.count / 200)).colour.join(",")));
    assert.ok(colours.size > 50, `only ${colours.size} distinct colours among 200 points`);
    await page.screenshot({ path: join(ARTIFACTS, "exports.png"), fullPage: true });

    const normals = await paintTask(page, "normals");
    assert.deepEqual(await visibleGroups(page), { "export-depth": false, "export-normals": true, "export-masks": false });
    const normalsFile = await download(page, "#export-normals-npy");
    const n = readNpy(normalsFile.bytes);
    assert.deepEqual(n.shape, [normals.height, normals.width, 3]);
    const sum = [0, 0, 0];
    for (let p = 0; p < n.values.length; p += 3) {
      const length = Math.hypot(n.values[p], n.values[p + 1], n.values[p + 2]);
      // Unit vectors; mid-grey has no direction and decodes to (0, 0, 0).
      if (Math.abs(length - 1) > 1e-3 && length !== 0) assert.fail(`normal ${p / 3} has length ${length}`);
      for (let c = 0; c < 3; c++) sum[c] += n.values[p + c];
    }
    const norm = Math.hypot(...sum);
    sum.forEach((s, c) => assert.ok(Math.abs(s / norm - normals.values.mean[c]) < 1e-4, `mean normal ${sum.map((v) => v / norm)} vs ${normals.values.mean}`));

    const semantic = await paintTask(page, "semantic", 'Generate a semantic segmentation visualization image, using this color mapping: {"cat": "orange", "sky": "blue"}');
    assert.deepEqual(await visibleGroups(page), { "export-depth": false, "export-normals": false, "export-masks": true });
    const labelsFile = await download(page, "#export-labels-png");
    assert.equal(labelsFile.name, "peel-semantic-labels.png");
    const labels = readGreyPng(labelsFile.bytes);
    assert.deepEqual([labels.width, labels.height, labels.bitDepth], [semantic.width, semantic.height, 8]);
    const legend = JSON.parse((await download(page, "#export-legend-json")).bytes.toString("utf8"));
    assert.deepEqual(legend.entries.map((e) => [e.label, e.name, e.pixels]), semantic.values.map((s, i) => [i + 1, s.name, s.pixels]));
    const maskButtons = page.locator("#export-mask-list button[data-label]");
    assert.equal(await maskButtons.count(), semantic.values.length);
    for (const [i, segment] of semantic.values.entries()) {
      const counted = labels.values.filter((l) => l === i + 1).length;
      assert.equal(counted, segment.pixels, `${segment.name}: label map pixels`);
      const mask = await download(page, `#export-mask-list button[data-label="${i + 1}"]`);
      assert.equal(mask.name, legend.entries[i].mask_file);
      const m = readGreyPng(mask.bytes);
      assert.deepEqual([m.width, m.height, m.bitDepth], [semantic.width, semantic.height, 8]);
      m.values.forEach((value, p) => value !== (labels.values[p] === i + 1 ? 255 : 0) && assert.fail(`${mask.name} pixel ${p} = ${value}`));
      // Background removal: the photo inside the entry, transparent outside it.
      const cut = await download(page, `#export-mask-list button[data-cutout="${i + 1}"]`);
      assert.equal(cut.name, `peel-semantic-cutout-${String(i + 1).padStart(2, "0")}-${legend.entries[i].mask_file.split(/mask-\d\d-/)[1]}`);
      const c = readRgbaPng(cut.bytes);
      assert.deepEqual([c.width, c.height, c.bitDepth], [semantic.width, semantic.height, 8]);
      let opaque = 0, coloured = 0;
      for (let p = 0; p < c.width * c.height; p++) {
        const inside = labels.values[p] === i + 1, alpha = c.rgba[4 * p + 3];
        if (alpha !== (inside ? 255 : 0)) assert.fail(`${cut.name} pixel ${p}: alpha ${alpha}`);
        opaque += inside;
        coloured += inside && (c.rgba[4 * p] | c.rgba[4 * p + 1] | c.rgba[4 * p + 2]) > 0;
      }
      assert.equal(opaque, segment.pixels);
      assert.ok(opaque === 0 || coloured > 0.9 * opaque, `${cut.name}: the photo's colours inside the cut-out`);
    }
    assert.ok(semantic.values[0].pixels > 0, "the cat mask is not empty");
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});

// ---- One decode (issue 32): the page's downloads are the files `peel decode` writes. ----

// The `peel` binary: scripts/test.sh builds it (`cargo test --workspace`) before the browser tests.
const PEEL = process.env.PEEL_BIN ?? join(resolve(ROOT, process.env.CARGO_TARGET_DIR ?? "target"), "debug", "peel");

/** Runs `peel decode ARGS...` and returns its JSON summary. */
function peelDecode(args) {
  const run = spawnSync(PEEL, ["decode", ...args], { encoding: "utf8" });
  assert.equal(run.status, 0, `peel decode ${args.join(" ")} failed: ${run.stderr || run.error}`);
  return JSON.parse(run.stdout);
}

/** The page's download and the CLI's file hold the same bytes. */
function assertSameBytes(what, fromPage, fromCli) {
  if (Buffer.compare(fromPage, fromCli) === 0) return;
  let at = 0;
  while (at < Math.min(fromPage.length, fromCli.length) && fromPage[at] === fromCli[at]) at++;
  assert.fail(`${what}: the page's download (${fromPage.length} bytes) and peel decode's file (${fromCli.length} bytes) differ from byte ${at}`);
}

test("One decode: the page's downloads are byte for byte the files `peel decode` writes from the downloaded painting", { timeout: 4 * SLOW }, async () => {
  assert.ok(existsSync(PEEL), `${PEEL} is missing: build it with \`cargo build -p peel-cli\` (scripts/test.sh does) or set PEEL_BIN`);
  const dir = join(ARTIFACTS, "one-decode");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  // coffee.png has no colour profile, so the page's canvas hands the point cloud the file's own
  // colours, which `peel decode --photo` reads; it is 600×400, so the painting is at its size.
  const photo = PHOTO;
  const ctx = await openPage({ webgpu: false, query: "?backend=cpu" });
  const { browser, page } = ctx;
  // Saves the painting on screen as the page downloads it; returns its path for `peel decode`.
  const savePainting = async (task) => {
    const visualization = await download(page, "#export-visualization");
    assert.equal(visualization.name, `peel-${task}-visualization.png`);
    const path = join(dir, visualization.name);
    await writeFile(path, visualization.bytes);
    return path;
  };
  try {
    await waitForState(page, ["ready"]);
    const depth = await uploadAndRead(page, photo);
    assertSensibleDepth(depth);
    assert.deepEqual([depth.width, depth.height], [600, 400]);
    let painting = await savePainting("depth");
    await page.fill("#export-fov", "75");
    for (const [selector, name, extra] of [
      ["#export-depth-npy", "peel-depth.npy", []],
      ["#export-depth-png", "peel-depth-mm.png", []],
      ["#export-depth-ply", "peel-depth-fov75.ply", ["--fov", "75", "--photo", photo]],
    ]) {
      const fromPage = await download(page, selector);
      assert.equal(fromPage.name, name);
      const out = join(dir, `cli-${name}`);
      const summary = peelDecode(["depth", painting, "--prompt", depth.prompt, "--out", out, ...extra]);
      assertSameBytes(name, fromPage.bytes, await readFile(out));
      // One summary: the CLI reports what the page shows (the same f32s; the CLI prints each as
      // its shortest decimal, the page as the f64 it widens to, hence Math.fround).
      for (const key of ["min_m", "median_m", "max_m", "sky_fraction", "median_off_path"]) {
        assert.equal(Math.fround(summary[key]), Math.fround(depth.values[key]), `${key}: ${summary[key]} vs ${depth.values[key]}`);
      }
    }

    const normals = await paintTask(page, "normals");
    painting = await savePainting("normals");
    const normalsFile = await download(page, "#export-normals-npy");
    const normalsSummary = peelDecode(["normals", painting, "--prompt", normals.prompt, "--out", join(dir, "cli-peel-normals.npy")]);
    assertSameBytes(normalsFile.name, normalsFile.bytes, await readFile(join(dir, "cli-peel-normals.npy")));
    assert.deepEqual(normalsSummary.mean.map(Math.fround), normals.values.mean.map(Math.fround));

    // Segmentation, with each task's example prompt: the label map, the legend and every mask.
    for (const task of ["semantic", "instance", "referring"]) {
      const result = await paintTask(page, task);
      painting = await savePainting(task);
      const labels = join(dir, `cli-peel-${task}-labels.png`);
      const masks = join(dir, `cli-${task}-masks`);
      const summary = peelDecode([task, painting, "--prompt", result.prompt, "--out", labels, "--masks", masks]);
      const labelsFile = await download(page, "#export-labels-png");
      assert.equal(labelsFile.name, `peel-${task}-labels.png`);
      assertSameBytes(labelsFile.name, labelsFile.bytes, await readFile(labels));
      const legendFile = await download(page, "#export-legend-json");
      assert.equal(legendFile.name, `peel-${task}-legend.json`);
      assertSameBytes(legendFile.name, legendFile.bytes, await readFile(join(dir, `cli-peel-${task}-labels.json`)));
      const legend = JSON.parse(legendFile.bytes.toString("utf8"));
      assert.deepEqual(legend.entries.map((e) => [e.label, e.name, e.pixels]), result.values.map((s, i) => [i + 1, s.name, s.pixels]));
      assert.deepEqual(summary.entries, legend.entries, `${task}: peel decode's summary repeats the legend`);
      // One mask a task: headless Chromium delivered no more than 20 downloads to one page here (the 21st
      // never fired); crates/peel-cli/tests/page_files.rs compares every mask natively.
      assert.ok(legend.entries.length > 0, `${task}: the legend has entries`);
      for (const entry of legend.entries.slice(0, 1)) {
        const mask = await download(page, `#export-mask-list button[data-label="${entry.label}"]`);
        assert.equal(mask.name, entry.mask_file);
        assertSameBytes(mask.name, mask.bytes, await readFile(join(masks, entry.mask_file)));
      }
    }
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});

test("Paste: an image pasted with Ctrl/Cmd+V is painted; each task keeps its own prompt edits", { timeout: 2 * SLOW }, async () => {
  const ctx = await openPage({ webgpu: false, query: "?backend=cpu" });
  const { browser, page } = ctx;
  try {
    await waitForState(page, ["ready"]);
    const photo = await readFile(join(ROOT, "static", "samples", "chelsea.png"));
    await page.evaluate(() => { document.body.dataset.state = "uploading"; });
    // What the browser fires for Ctrl/Cmd+V with an image on the clipboard.
    await page.evaluate((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], "image.png", { type: "image/png" }));
      document.body.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    }, photo.toString("base64"));
    assert.equal(await waitForState(page, ["painted", "failed"]), "painted", await page.locator("#status").textContent());
    const pasted = JSON.parse(await page.locator("#result-json").textContent());
    assertSensibleDepth(pasted);
    // chelsea.png is 451×300; the painting comes back at the photo's size.
    assert.deepEqual([pasted.width, pasted.height], [451, 300]);

    // Each task keeps the user's own prompt.
    const prompt = 'Generate a semantic segmentation visualization image, using this color mapping: {"cat": "red"}';
    await paintTask(page, "semantic", prompt);
    await paintTask(page, "depth");
    assert.equal(await page.inputValue("#prompt"), "Generate a metric depth map of the input image.");
    const back = await paintTask(page, "semantic");
    assert.equal(await page.inputValue("#prompt"), prompt, "the semantic prompt edit survives a task change");
    assert.deepEqual(back.values.map((s) => s.name), ["cat"]);
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});

// ---- Camera, photo effects, the 3D view, word suggestions and download progress. ----

test("Camera: the fake camera's preview shows, the shutter paints its frame, and the camera stops", { timeout: 2 * SLOW }, async () => {
  const ctx = await openPage({ webgpu: false, query: "?backend=cpu", extraArgs: ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"] });
  const { browser, page } = ctx;
  try {
    await waitForState(page, ["ready"]);
    assert.ok(await page.locator("#camera-panel").isHidden(), "no preview before the camera is asked for");
    await page.click("#camera");
    await page.waitForFunction(() => document.getElementById("camera-preview").videoWidth > 0, null, { timeout: 30_000 });
    assert.ok(await page.locator("#camera-panel").isVisible());
    await page.locator("#camera-panel").screenshot({ path: join(ARTIFACTS, "camera.png") });
    const size = await page.evaluate(() => [document.getElementById("camera-preview").videoWidth, document.getElementById("camera-preview").videoHeight]);
    await page.evaluate(() => { document.body.dataset.state = "uploading"; });
    await page.click("#shutter");
    assert.equal(await waitForState(page, ["painted", "failed"]), "painted", await page.locator("#status").textContent());
    const result = JSON.parse(await page.locator("#result-json").textContent());
    assertSensibleDepth(result);
    assert.deepEqual([result.width, result.height], size, "the painting has the camera frame's size");
    // The fake camera's frame is nearly flat, so compare the overlay with and without the painting.
    await setSlider(page, "opacity", 0);
    const frame = await canvasPixels(page, "overlay");
    await setSlider(page, "opacity", 100);
    assert.ok(meanDifference((await canvasPixels(page, "overlay")).data, frame.data) > 5, "the painting is drawn over the frame");
    // The camera is off again: no preview and no live track.
    assert.ok(await page.locator("#camera-panel").isHidden());
    assert.equal(await page.evaluate(() => document.getElementById("camera-preview").srcObject), null);
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});

test("Photo effects and the 3D view: blur focuses where clicked, relighting follows the light, the point cloud orbits and resets; the effects download as PNG", { timeout: 3 * SLOW }, async () => {
  const ctx = await openPage({ webgpu: false, query: "?backend=cpu" });
  const { browser, page } = ctx;
  try {
    await waitForState(page, ["ready"]);
    const depth = await uploadAndRead(page);
    assertSensibleDepth(depth);
    // The photo effect is a view of the painting: drawn when opened.
    await openViewOf(page, "#effect-view");
    assert.ok(await page.locator("#effect-blur").isVisible() && await page.locator("#effect-relight").isHidden());
    // The photo alone, at the painting's size (coffee.png is under the overlay's 960-px cap).
    await setSlider(page, "opacity", 0);
    const photo = await canvasPixels(page, "overlay");
    assert.deepEqual([photo.width, photo.height], [depth.width, depth.height]);

    // Blur 0 px is the photo itself; 30 px is not.
    await setSlider(page, "blur-strength", 0);
    assert.ok(meanDifference((await canvasPixels(page, "effect-view")).data, photo.data) < 0.01, "no blur: the photo");
    await setSlider(page, "blur-strength", 30);
    const blurred = await canvasPixels(page, "effect-view");
    assert.ok(meanDifference(blurred.data, photo.data) > 2, "30 px of blur changes the photo");
    // A click focuses at the depth under it.
    await page.locator("#effect-view").scrollIntoViewIfNeeded();
    const box = await page.locator("#effect-view").boundingBox();
    await page.mouse.click(box.x + box.width * 0.5, box.y + box.height * 0.6);
    const focusStatus = await page.locator("#status").textContent();
    assert.match(focusStatus, /^Focused at [\d.]+ m\.$/);
    const focused = Number(focusStatus.match(/^Focused at ([\d.]+) m\.$/)[1]);
    const shown = Number((await page.locator("#blur-focus-value").textContent()).replace(" m", ""));
    assert.ok(Math.abs(shown - focused) <= 0.01 * focused + 0.01, `slider shows ${shown} m after focusing at ${focused} m`);
    const refocused = await canvasPixels(page, "effect-view");
    // The download holds exactly what is shown.
    const { name, bytes } = await download(page, "#export-effect");
    assert.equal(name, "peel-portrait-blur.png");
    const png = readGreyPng(bytes, 2);
    assert.deepEqual([png.width, png.height], [depth.width, depth.height]);
    const shownRgb = refocused.data.filter((_, i) => i % 4 !== 3);
    assert.deepEqual([...png.rgb], shownRgb, "the PNG is the effect on screen");
    await page.locator("#effects").screenshot({ path: join(ARTIFACTS, "effects-blur.png") });

    // The 3D view: points drawn, an orbit changes the picture, reset brings it back exactly.
    await openViewOf(page, "#view3d");
    assert.ok(await page.locator("#view3d-panel").isVisible());
    assert.match(await page.locator("#view3d-line").textContent(), /^\d+ points, horizontal field of view 60°/);
    const home = await canvasPixels(page, "view3d");
    const background = [20, 20, 26];
    let drawn = 0;
    for (let i = 0; i < home.data.length; i += 4) drawn += background.some((v, c) => Math.abs(home.data[i + c] - v) > 3) ? 1 : 0;
    assert.ok(drawn / (home.data.length / 4) > 0.3, `the point cloud covers ${drawn} of ${home.data.length / 4} pixels`);
    await page.locator("#view3d").scrollIntoViewIfNeeded();
    const view = await page.locator("#view3d").boundingBox();
    await page.mouse.move(view.x + view.width / 2, view.y + view.height / 2);
    await page.mouse.down();
    await page.mouse.move(view.x + view.width / 2 + 120, view.y + view.height / 2 + 30, { steps: 5 });
    await page.mouse.up();
    const orbited = await canvasPixels(page, "view3d");
    assert.ok(meanDifference(orbited.data, home.data) > 3, "dragging orbits the view");
    await page.locator("#view3d-panel").screenshot({ path: join(ARTIFACTS, "view3d.png") });
    await page.click("#view3d-reset");
    assert.ok(meanDifference((await canvasPixels(page, "view3d")).data, home.data) < 0.01, "reset returns to the photo's viewpoint");
    await page.focus("#view3d");
    await page.keyboard.press("ArrowLeft");
    assert.ok(meanDifference((await canvasPixels(page, "view3d")).data, home.data) > 1, "the arrow keys orbit too");

    // Zoom and pan: + on the picture doubles it (two steps: 1.5×, 2×), a drag pans without
    // measuring, 0 fits again.
    await openViewOf(page, "#overlay");
    await page.locator("#overlay").scrollIntoViewIfNeeded();
    const fitWidth = (await page.locator("#overlay").boundingBox()).width;
    await page.focus("#overlay");
    await page.keyboard.press("+");
    await page.keyboard.press("+");
    assert.equal(await page.locator("#zoom-level").textContent(), "2×");
    await page.locator(".view").screenshot({ path: join(ARTIFACTS, "zoom.png") });
    const zoomedWidth = (await page.locator("#overlay").boundingBox()).width;
    assert.ok(Math.abs(zoomedWidth / fitWidth - 2) < 0.02, `zoomed ${zoomedWidth} px from ${fitWidth} px`);
    const frame = await page.locator("#overlay-frame").boundingBox();
    const scrolled = () => page.evaluate(() => document.getElementById("overlay-frame").scrollLeft);
    const before = await scrolled();
    await page.mouse.move(frame.x + frame.width / 2, frame.y + frame.height / 2);
    await page.mouse.down();
    await page.mouse.move(frame.x + frame.width / 2 + 80, frame.y + frame.height / 2, { steps: 4 });
    await page.mouse.up();
    assert.ok(before >= 80, `zooming in keeps the centre in view (scrolled ${before} px)`);
    assert.equal(await scrolled(), before - 80, "a drag to the right pans the zoomed picture right");
    assert.match(await page.locator("#measure").textContent(), /^Click two points/, "a pan is not a measuring click");
    await page.keyboard.press("0");
    assert.equal(await page.locator("#zoom-level").textContent(), "fit");
    assert.ok(Math.abs((await page.locator("#overlay").boundingBox()).width - fitWidth) < 1);

    // Normals: relighting; the light from the left and from the right differ, and dragging moves it.
    // Another task on the same photo does not send or decode the photo again.
    const normals = await paintTask(page, "normals");
    const photoBytes = (await readFile(PHOTO)).length;
    assert.deepEqual(await page.evaluate(() => window.__peelPaints), [photoBytes, 0], "the photo is sent once; the repaint names no file");
    assert.ok(await page.locator("#tab-3d").isHidden() && await page.locator("#view3d-panel").isHidden(), "no 3D view without depth");
    // The sphere legend: its centre faces the camera, (128, 128, 255) in the protocol's colours.
    assert.ok(await page.locator("#normal-sphere").isVisible() && await page.locator("#depth-scale").isHidden());
    const sphere = await canvasPixels(page, "normal-sphere");
    const centre = 4 * (48 * 96 + 48);
    const facing = sphere.data.slice(centre, centre + 3);
    assert.ok([127, 127, 255].every((v, i) => Math.abs(facing[i] - v) <= 3), `sphere centre ${facing}`);
    const corner = sphere.data.slice(0, 4);
    assert.equal(corner[3], 0, "outside the sphere stays transparent");
    await setSlider(page, "opacity", 70);
    await page.locator("#overlay").hover();
    await page.locator(".view").screenshot({ path: join(ARTIFACTS, "normals.png") });
    await openViewOf(page, "#effect-view");
    assert.ok(await page.locator("#effect-relight").isVisible() && await page.locator("#effect-blur").isHidden());
    await setSlider(page, "light-x", -100);
    const fromLeft = await canvasPixels(page, "effect-view");
    await setSlider(page, "light-x", 100);
    const fromRight = await canvasPixels(page, "effect-view");
    assert.ok(meanDifference(fromLeft.data, fromRight.data) > 3, "the light's side changes the picture");
    assert.ok(meanDifference(fromRight.data, photo.data) > 3, "relit is not the photo");
    await page.locator("#effect-view").scrollIntoViewIfNeeded();
    const lit = await page.locator("#effect-view").boundingBox();
    await page.mouse.move(lit.x + lit.width * 0.05, lit.y + lit.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(lit.x + lit.width * 0.1, lit.y + lit.height * 0.1, { steps: 3 });
    await page.mouse.up();
    assert.ok(Number(await page.inputValue("#light-x")) < -50 && Number(await page.inputValue("#light-y")) > 50, "dragging to the top left moves the light there");
    const relit = await download(page, "#export-effect");
    assert.equal(relit.name, "peel-relit.png");
    assert.deepEqual([...readGreyPng(relit.bytes, 2).rgb], (await canvasPixels(page, "effect-view")).data.filter((_, i) => i % 4 !== 3));
    await page.locator("#effects").screenshot({ path: join(ARTIFACTS, "effects-relight.png") });
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});

test("Download progress in bytes; a prompt with an unknown word offers the nearest known words, and choosing one paints", { timeout: 2 * SLOW }, async () => {
  const ctx = await openPage({ webgpu: false, query: "?backend=cpu" });
  const { browser, page } = ctx;
  try {
    await waitForState(page, ["ready"]);
    const statuses = await page.evaluate(() => window.__peelStatuses);
    const manifest = JSON.parse(await readFile(join(DIST, "weights", "manifest.json"), "utf8"));
    const total = ((manifest.weights_bytes + manifest.phrases_bytes) / 1e6).toFixed(1);
    assert.ok(statuses.includes(`Downloading the model: ${total} of ${total} MB (100 %)…`), `no complete byte count in ${JSON.stringify(statuses)}`);
    // The worker's own code first (brotli from this server, so a count without a total).
    const code = statuses.find((s) => /^Downloading the model code: [\d.]+ MB…$/.test(s));
    assert.ok(code, `no byte count for the worker's wasm in ${JSON.stringify(statuses)}`);
    const wasmMb = (await readFile(join(DIST, "peel-worker_bg.wasm"))).length / 1e6;
    assert.ok(statuses.includes(`Downloading the model code: ${wasmMb.toFixed(1)} MB…`), `the count ends at the wasm's ${wasmMb.toFixed(1)} MB`);
    assert.ok(await page.locator("#load-progress").isHidden(), "the bar goes once the model is ready");

    await uploadAndRead(page);
    await paintTask(page, "semantic");
    await page.evaluate(() => { document.body.dataset.state = "uploading"; });
    await page.fill("#prompt", 'Generate a semantic segmentation visualization image, using this color mapping: {"Persn": "red", "cup": "blue"}');
    await page.click("#paint");
    assert.equal(await waitForState(page, ["painted", "failed"]), "failed");
    assert.match(await page.locator("#status").textContent(), /"Persn" has no known words.*instead of "persn", try .*person/);
    const offered = await page.locator("#suggestions button").allTextContents();
    assert.ok(offered.includes("person"), `offered: ${offered}`);
    await page.evaluate(() => { document.body.dataset.state = "uploading"; });
    await page.locator("#suggestions button", { hasText: /^person$/ }).click();
    assert.equal(await waitForState(page, ["painted", "failed"]), "painted", await page.locator("#status").textContent());
    assert.match(await page.inputValue("#prompt"), /\{"person": "red", "cup": "blue"\}/);
    const result = JSON.parse(await page.locator("#result-json").textContent());
    assert.deepEqual(result.values.map((s) => s.name).sort(), ["cup", "person"]);
    assert.ok(await page.locator("#suggestions").isHidden(), "the suggestions go once the prompt paints");
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});
