// Reading the result: the depth scale, the cross-hair readout, 3D distances, cancel, a phone-sized
// window, the before/after slider and the legend.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ARTIFACTS, SLOW, serveDist, withPage, waitForState, uploadAndRead, paintTask, assertSensibleDepth } from "./page.mjs";

serveDist();

test("Reading the result: depth scale, keyboard cross-hair, 3D distance between two points, cancel; the page fits a 375-px phone", { timeout: 2 * SLOW }, async () => {
  await withPage({ webgpu: false, query: "?backend=cpu" }, async ({ page }) => {
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
  });
});

test("Before/after slider and legend: the painting covers only the left part, and a clicked legend entry shows alone", { timeout: 2 * SLOW }, async () => {
  await withPage({ webgpu: false, query: "?backend=cpu" }, async ({ page }) => {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    await uploadAndRead(page);
    // Two names that are in the photo (coffee.png: a cup on a table), so that both entries paint: a
    // name that is not there paints nothing (peel-gen-3's presence head), and the legend would have
    // nothing to show alone.
    const semantic = await paintTask(page, "semantic", 'Generate a semantic segmentation visualization image, using this color mapping: {"table": "orange", "background": "blue"}');
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
  });
});
