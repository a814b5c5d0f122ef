// The backends: WebGPU, the CPU fallback, Auto's probe (and its failure), and what the page does
// when the worker panics or the GPU device is lost (the worker restarted on the CPU).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, ARTIFACTS, PHOTO, SLOW, serveDist, withPage, waitForState, uploadAndRead, paintTask, assertSensibleDepth, assertPaintingShown } from "./page.mjs";

serveDist();

test("WebGPU: paints, decodes and overlays depth for a real photo", { timeout: 2 * SLOW }, async () => {
  await withPage({ webgpu: true, query: "?backend=webgpu" }, async ({ page }) => {
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
  });
});

test("CPU fallback: without WebGPU the page says so and still paints", { timeout: 2 * SLOW }, async () => {
  await withPage({ webgpu: false }, async ({ page }) => {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    assert.equal(await page.locator("body").getAttribute("data-backend"), "CPU");
    assert.match(await page.locator("#backend-line").textContent(), /CPU/);
    assertSensibleDepth(await uploadAndRead(page, join(ROOT, "static", "samples", "chelsea.png")));
    await assertPaintingShown(page);
    await page.screenshot({ path: join(ARTIFACTS, "cpu.png"), fullPage: true });
  });
});

test("Auto: with a WebGPU adapter the page times both backends and names its choice", { timeout: 2 * SLOW }, async () => {
  await withPage({ webgpu: true }, async ({ page }) => {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    const line = await page.locator("#backend-line").textContent();
    assert.match(line, /probe: WebGPU \d+ ms, CPU \d+ ms/);
    const [, gpu, cpu] = line.match(/WebGPU (\d+) ms, CPU (\d+) ms/).map(Number);
    const chosen = await page.locator("body").getAttribute("data-backend");
    assert.equal(chosen, gpu < cpu ? "WebGPU" : "CPU", line);
  });
});

test("Auto: when WebGPU fails during the probe, the page falls back to the CPU, says why, and paints", { timeout: 2 * SLOW }, async () => {
  // ?test_gpu_fail=1 makes the worker's WebGPU probe return an error after the model was built on
  // the GPU and its shaders compiled (the Auto path's error branch).
  await withPage({ webgpu: true, query: "?test_gpu_fail=1" }, async ({ page }) => {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    assert.equal(await page.locator("body").getAttribute("data-backend"), "CPU");
    assert.match(await page.locator("#backend-line").textContent(), /^Running on CPU \(WebGPU \(.+\) failed: test failure requested with \?test_gpu_fail=1\)$/);
    assertSensibleDepth(await uploadAndRead(page));
  });
});

test("A worker that panics is replaced: the page says so, restarts it on the CPU, and the next paint works", { timeout: 2 * SLOW }, async () => {
  // Starts on WebGPU, so that "restarted on the CPU" is something the test can see happen.
  await withPage({ webgpu: true, query: "?backend=webgpu&test_panic=1" }, async ({ page }) => {
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
  });
});

test("A lost GPU device: the page says so, restarts the worker on the CPU, and the next paint works", { timeout: 2 * SLOW }, async () => {
  await withPage({ webgpu: true, query: "?backend=webgpu&test_lose_device=1" }, async ({ page }) => {
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
  });
});
