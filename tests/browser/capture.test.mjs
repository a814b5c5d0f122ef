// Photos from elsewhere than a file: pasted with Ctrl/Cmd+V, and taken with the (fake) camera.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ROOT, ARTIFACTS, SLOW, serveDist, withPage, waitForState, paintTask, assertSensibleDepth, canvasPixels, meanDifference, setSlider } from "./page.mjs";

serveDist();

test("Paste: an image pasted with Ctrl/Cmd+V is painted; each task keeps its own prompt edits", { timeout: 2 * SLOW }, async () => {
  await withPage({ webgpu: false, query: "?backend=cpu" }, async ({ page }) => {
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
  });
});

test("Camera: the fake camera's preview shows, the shutter paints its frame, and the camera stops", { timeout: 2 * SLOW }, async () => {
  await withPage({ webgpu: false, query: "?backend=cpu", extraArgs: ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"] }, async ({ page }) => {
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
  });
});
