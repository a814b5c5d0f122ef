// Loading and keeping the model: a second visit from the caches, offline through the service worker,
// the download progress in bytes (and, in the same test, an unknown word's nearest known words).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { serve } from "../serve.mjs";
import { DIST, ARTIFACTS, SLOW, serveDist, withPage, waitForState, waitUntilReadyOffline, uploadAndRead, paintTask, assertSensibleDepth } from "./page.mjs";

serveDist();

test("A second visit takes the weights from the Cache API and the page from the HTTP cache; a damaged cached copy is downloaded again", { timeout: 2 * SLOW }, async () => {
  const sent = [];
  const counting = await serve(DIST, { onSent: (e) => sent.push(e) });
  try {
    await withPage({ webgpu: false, query: "?backend=cpu", url: counting.url, clean: false }, async ({ page }) => {
      assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
      const manifest = JSON.parse(await readFile(join(DIST, "weights", "manifest.json"), "utf8"));
      // (The whole phrase table follows the first painting: tests/browser/vocabulary.test.mjs.)
      const files = [manifest.weights_file, manifest.core_phrases.file];
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
    });
  } finally {
    await counting.close();
  }
});

test("Offline: the service worker keeps the page; with the server gone and the network off, a reload loads the model and paints", { timeout: 2 * SLOW }, async () => {
  const sent = [];
  const counting = await serve(DIST, { onSent: (e) => sent.push(e) });
  try {
    await withPage({ webgpu: false, query: "?backend=cpu", url: counting.url }, async ({ page }) => {
      await waitUntilReadyOffline(page);
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
    });
  } finally {
    await counting.close();
  }
});

test("Download progress in bytes; a prompt with an unknown word offers the nearest known words, and choosing one paints", { timeout: 2 * SLOW }, async () => {
  await withPage({ webgpu: false, query: "?backend=cpu" }, async ({ page }) => {
    await waitForState(page, ["ready"]);
    const statuses = await page.evaluate(() => window.__peelStatuses);
    const manifest = JSON.parse(await readFile(join(DIST, "weights", "manifest.json"), "utf8"));
    // A first visit downloads the weights and the core phrase table (the whole table follows the painting).
    const total = ((manifest.weights_bytes + manifest.core_phrases.bytes) / 1e6).toFixed(1);
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
  });
});
