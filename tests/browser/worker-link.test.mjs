// The page's worker link: replacing the worker many times (Cancel, again and again) leaves exactly
// one worker with its own three listeners, and the page still paints.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { serve } from "../serve.mjs";
import { DIST, CHROMIUM, PHOTO, SLOW, waitForState } from "./page.mjs";

const REPLACEMENTS = 24;

let server;
before(async () => { server = await serve(DIST); });
after(() => server?.close());

async function paint(page, action) {
  await page.evaluate(() => { document.body.dataset.state = "uploading"; });
  await action();
  const reached = await waitForState(page, ["painted", "failed"]);
  assert.equal(reached, "painted", await page.locator("#status").textContent());
  return JSON.parse(await page.locator("#result-json").textContent());
}

/** The overlay's mean absolute difference between opacity 0 (the photo) and 100 (the painting). */
async function paintingDifference(page) {
  return page.evaluate(() => {
    const overlay = document.getElementById("overlay"), opacity = document.getElementById("opacity");
    const pixels = (value) => {
      opacity.value = String(value);
      opacity.dispatchEvent(new Event("input"));
      return overlay.getContext("2d").getImageData(0, 0, overlay.width, overlay.height).data;
    };
    const [photo, painted] = [pixels(0), pixels(100)];
    let sum = 0;
    for (let i = 0; i < photo.length; i += 4) for (let c = 0; c < 3; c++) sum += Math.abs(photo[i + c] - painted[i + c]);
    return sum / (photo.length / 4) / 3;
  });
}

test(`Cancel ${REPLACEMENTS} times: one worker link and three worker listeners remain, and the page paints`, { timeout: 3 * SLOW }, async () => {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--headless=new"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // Counts the listeners on Worker objects that were added and not removed, independently of
    // the page's own counter (whatever path the wasm glue takes, it ends in these methods).
    await page.addInitScript(() => {
      const live = [];
      window.__peelWorkerListeners = { added: 0, live };
      const { addEventListener: add, removeEventListener: remove } = EventTarget.prototype;
      const same = (type, fn) => (e) => e.type === type && e.fn === fn;
      EventTarget.prototype.addEventListener = function (type, fn, options) {
        if (this instanceof Worker && fn && !live.some((e) => e.target === this && same(type, fn)(e))) {
          live.push({ target: this, type, fn });
          window.__peelWorkerListeners.added++;
        }
        return add.call(this, type, fn, options);
      };
      EventTarget.prototype.removeEventListener = function (type, fn, options) {
        const i = live.findIndex((e) => e.target === this && same(type, fn)(e));
        if (i >= 0) live.splice(i, 1);
        return remove.call(this, type, fn, options);
      };
    });
    const links = () => page.locator("body").getAttribute("data-worker-links");
    const listeners = () => page.evaluate(() => {
      const { added, live } = window.__peelWorkerListeners;
      return { added, live: live.map((e) => e.type).sort() };
    });
    const ONE_LINK = ["error", "message", "messageerror"];

    await page.goto(server.url + "?backend=cpu");
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    assert.equal(await links(), "1");
    assert.deepEqual((await listeners()).live, ONE_LINK);
    const first = await paint(page, () => page.setInputFiles("#file-input", PHOTO));

    // The page's own controls: Paint, then Cancel (which replaces the worker). Most rounds cancel a
    // worker that is still loading; every sixth waits until the new one is ready, so that Cancel
    // also stops a paint in flight.
    for (let round = 1; round <= REPLACEMENTS; round++) {
      await page.evaluate(() => {
        document.getElementById("paint").click();
        document.getElementById("cancel").click();
      });
      if (round % 6 === 0) {
        assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
        assert.equal(await links(), "1", `after ${round} replacements`);
      }
    }
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    assert.equal(await page.locator("#status").textContent(), "Painting cancelled. Paint again when you like.");

    assert.equal(await links(), "1", "live worker links after the replacements");
    const seen = await listeners();
    // Each link added its three listeners (so the count above saw them all) ...
    assert.ok(seen.added >= 3 * (REPLACEMENTS + 1), `only ${seen.added} worker listeners were added`);
    // ... and every replaced link removed its own.
    assert.deepEqual(seen.live, ONE_LINK, "listeners left on workers");
    // The replaced workers were terminated (Playwright drops a worker when it closes).
    for (let i = 0; i < 50 && page.workers().length > 1; i++) await page.waitForTimeout(200);
    assert.equal(page.workers().length, 1, "workers alive");

    // The page still paints correctly: the same photo paints the same values, and shows them.
    const again = await paint(page, () => page.click("#paint"));
    const { timings: _a, page_timings: _pa, ...expected } = first;
    const { timings: _b, page_timings: _pb, ...actual } = again;
    assert.deepEqual(actual, expected, "the same photo paints the same values (timings aside)");
    assert.match(await page.locator("#status").textContent(), /^Painted in \d+ ms\.$/);
    const difference = await paintingDifference(page);
    assert.ok(difference > 8, `at full opacity the overlay is still the photo (mean difference ${difference.toFixed(1)})`);
    assert.equal(await links(), "1");
  } finally {
    await browser.close();
  }
});
