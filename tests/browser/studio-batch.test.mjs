// The studio's views of many paintings (issue 34): "Paint everything" (every task of one photo
// as a grid of small views, each opening as the painting on screen), folders of photos (one
// zip whose files are the single-photo exports, byte for byte) and the history kept on the device.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ARTIFACTS, SLOW, serveDist, openPage, assertClean, waitForState, uploadAndRead, assertPaintingShown } from "./page.mjs";

serveDist();

test("Paint everything: depth, normals, semantic and the main class's instances as a grid of views, each opening as the painting; the photo is sent once", { timeout: 2 * SLOW }, async () => {
  const ctx = await openPage({ webgpu: false, query: "?backend=cpu" });
  const { browser, page } = ctx;
  try {
    await page.setViewportSize({ width: 1280, height: 800 });
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    await uploadAndRead(page);
    // Every state each cell went through, in order (progress per task).
    await page.evaluate(() => {
      window.__cellStates = {};
      new MutationObserver((records) => {
        for (const r of records) {
          const cell = r.target.closest?.("[data-cell]");
          if (cell && r.attributeName === "data-state") (window.__cellStates[cell.dataset.cell] ??= []).push(cell.dataset.state);
        }
      }).observe(document.getElementById("everything-grid"), { attributes: true, subtree: true, attributeFilter: ["data-state"] });
    });
    const sentBefore = await page.evaluate(() => window.__peelPaints.length);
    const started = Date.now();
    await page.click("#paint-all");
    assert.equal(await page.getAttribute("#tab-everything", "aria-selected"), "true", "the grid opens at once");
    await page.waitForFunction(() => ["done", "stopped"].includes(document.body.dataset.everything), null, { timeout: SLOW, polling: 250 });
    console.log(`paint everything: ${Date.now() - started} ms for ${await page.locator("#everything-grid [data-cell]").count()} views`);
    assert.equal(await page.locator("body").getAttribute("data-everything"), "done");
    const cells = await page.$$eval("#everything-grid [data-cell]", (items) => items.map((li) => {
      const canvas = li.querySelector("canvas");
      const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let sum = 0, sumSq = 0, n = 0;
      for (let i = 0; i < data.length; i += 4) { const v = (data[i] + data[i + 1] + data[i + 2]) / 3; sum += v; sumSq += v * v; n++; }
      return { state: li.dataset.state, name: li.querySelector(".everything-name").textContent, line: li.querySelector(".everything-state").textContent, width: canvas.width, height: canvas.height, std: Math.sqrt(sumSq / n - (sum / n) ** 2) };
    }));
    console.log("cells:", cells.map((c) => `${c.name} ${c.state} (${c.line}, ${c.width}x${c.height}, std ${c.std.toFixed(1)})`).join("; "));
    assert.ok(cells.length >= 4, `${cells.length} views`);
    assert.deepEqual(cells.map((c) => c.state), ["done", "done", "done", "done"]);
    for (const c of cells) {
      assert.match(c.line, /^\d+ ms$/);
      assert.ok(c.width > 100 && c.height > 50, `${c.name} is drawn at ${c.width}x${c.height}`);
      assert.ok(c.std > 3, `${c.name}'s view is one flat colour`);
    }
    assert.deepEqual(cells.slice(0, 3).map((c) => c.name), ["Metric depth", "Surface normals", "Semantic segmentation"]);
    assert.match(cells[3].name, /^Instances of \w+/);
    const states = await page.evaluate(() => window.__cellStates);
    for (const i of ["0", "1", "2", "3"]) assert.deepEqual(states[i], ["painting", "done"], `cell ${i}'s progress`);
    // The photo the worker keeps decoded is reused: none of the four paints carried it.
    const sent = await page.evaluate((from) => window.__peelPaints.slice(from), sentBefore);
    assert.deepEqual(sent, [0, 0, 0, 0], "the run's paint requests carried a photo");
    // The tabs and the grid, kept small for docs/.
    await page.screenshot({ path: join(ARTIFACTS, "everything.png"), clip: { x: 370, y: 40, width: 900, height: 265 } });

    // Clicking a view opens it as the painting on screen, with its task and prompt in the controls.
    await page.click('#everything-grid [data-cell="1"] button');
    assert.equal(await page.getAttribute("#tab-painting", "aria-selected"), "true");
    let result = JSON.parse(await page.locator("#result-json").textContent());
    assert.equal(result.task, "normals");
    assert.equal(await page.inputValue("#task"), "normals");
    await assertPaintingShown(page);
    assert.equal(await page.locator("#normal-sphere").isVisible(), true);
    // And another; the instance painting names the main class.
    await page.click("#tab-everything");
    await page.click('#everything-grid [data-cell="3"] button');
    result = JSON.parse(await page.locator("#result-json").textContent());
    assert.equal(result.task, "instance");
    assert.equal(await page.inputValue("#task"), "instance");
    assert.match(await page.inputValue("#prompt"), new RegExp(`Each ${cells[3].name.replace("Instances of ", "")} is colored differently`));
    await page.click("#tab-everything");
    await page.click('#everything-grid [data-cell="0"] button');
    assert.equal(JSON.parse(await page.locator("#result-json").textContent()).task, "depth");
    await page.mouse.move(0, 0);
    const box = await page.locator("#overlay").boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    assert.match(await page.locator("#readout").textContent(), /^Depth here: [\d.]+ m/);
    // A new photo drops the grid of the old one.
    await uploadAndRead(page, join(import.meta.dirname, "..", "..", "static", "samples", "chelsea.png"));
    assert.equal(await page.locator("#tab-everything").isHidden(), true, "the old photo's grid is gone");
    await assertClean(ctx);
  } finally {
    await browser.close();
  }
});
