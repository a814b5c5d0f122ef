// Bad input: a corrupt photo, the bad-input corpus, a tampered or missing weights file, a malformed
// prompt (with every task painting on the CPU), and EXIF orientation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { serve } from "../serve.mjs";
import { ROOT, DIST, ARTIFACTS, PHOTO, SLOW, serveDist, withPage, waitForState, uploadAndRead, paintTask, assertSensibleDepth, assertPaintingShown } from "./page.mjs";

serveDist();

test("A corrupt photo gets a clear message, and the next photo still paints", { timeout: 2 * SLOW }, async () => {
  await withPage({ webgpu: false, query: "?backend=cpu" }, async ({ page }) => {
    await waitForState(page, ["ready"]);
    const junk = join(ARTIFACTS, "corrupt.jpg");
    const real = await readFile(PHOTO);
    await writeFile(junk, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), real.subarray(200, 4000)]));
    await page.evaluate(() => { document.body.dataset.state = "uploading"; });
    await page.setInputFiles("#file-input", junk);
    assert.equal(await waitForState(page, ["painted", "failed"]), "failed");
    assert.match(await page.locator("#status").textContent(), /corrupt|not an image/i);
    assertSensibleDepth(await uploadAndRead(page));
  });
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
  await withPage({ webgpu: false, query: "?backend=cpu" }, async ({ page }) => {
    const wasmBytes = async () => {
      const [worker] = page.workers();
      return worker.evaluate(() => self.__peelWasm?.memory?.buffer.byteLength ?? 0);
    };
    const rows = [];
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
  });
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
    try {
      await withPage({ webgpu: false, url: broken.url, reports: broken.cspReports }, async ({ page }) => {
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
      });
    } finally {
      await broken.close();
    }
  });
}

test("Every task paints and decodes on the CPU; a malformed prompt is refused with its position", { timeout: 3 * SLOW }, async () => {
  await withPage({ webgpu: false, query: "?backend=cpu" }, async ({ page }) => {
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
  });
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

test("EXIF orientation: a portrait phone photo stored sideways is painted as the browser shows it", { timeout: 2 * SLOW }, async () => {
  await withPage({ webgpu: false, query: "?backend=cpu" }, async ({ page }) => {
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
  });
});
