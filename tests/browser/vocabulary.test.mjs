// A first visit paints with the core phrase table (weights/manifest.json's `core_phrases`: every
// phrase and the words training saw). The whole table (every MiniLM and dictionary word) and the
// segmentation network (`task_networks`) follow the first painting, quietly, and are kept for the
// next visit; a painting that needs one before it has arrived waits for it and paints. The server holds the whole table back for a few seconds,
// so a painting that waited for it could not finish first.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { serve } from "../serve.mjs";
import { DIST, SLOW, withPage, waitForState, uploadAndRead, paintTask } from "./page.mjs";

const HOLD_MS = 5000;
const manifest = JSON.parse(await readFile(join(DIST, "weights", "manifest.json"), "utf8"));
const WHOLE = `/weights/${manifest.phrases_file}`;
const CORE = `/weights/${manifest.core_phrases?.file}`;
// Task networks (peel-gen-3's segmentation network) follow the first painting too (a depth map).
const NETWORKS = (manifest.task_networks ?? []).map((n) => `/weights/${n.weights_file}`);
// "pond" is a MiniLM word that no training phrase uses: only the whole table has it.
const POND = 'Generate a semantic segmentation visualization image, using this color mapping: {"pond": "blue", "sky": "cyan"}';

async function slowWholeTable(run) {
  const sent = [];
  const server = await serve(DIST, { onSent: (e) => sent.push({ ...e, at: Date.now() }), delays: { [WHOLE]: HOLD_MS } });
  try {
    await withPage({ webgpu: false, query: "?backend=cpu", url: server.url, clean: false }, async (ctx) => {
      assert.equal(await waitForState(ctx.page, ["ready", "load-failed"]), "ready", await ctx.page.locator("#status").textContent());
      await run(ctx, sent);
    });
  } finally {
    await server.close();
  }
}

const keptFiles = (page) => page.evaluate(async () => (await (await caches.open("peel-weights")).keys()).map((r) => new URL(r.url).pathname));

test("A first visit paints with the core phrase table; the whole table follows the first painting and is kept for the next visit", { timeout: 2 * SLOW }, async () => {
  assert.ok(manifest.core_phrases, "weights/manifest.json names no core phrase table");
  await slowWholeTable(async ({ page }, sent) => {
    const fetched = (path) => sent.filter((e) => e.path === path && e.status === 200);
    assert.equal(fetched(CORE).length, 1, "the core table is part of the first load");
    assert.equal(fetched(WHOLE).length, 0, "the whole table is not part of the first load");
    for (const network of NETWORKS) assert.equal(fetched(network).length, 0, `${network} is part of the first load`);
    // The first painting (depth) and a segmentation in training's words do not wait for it.
    const started = Date.now();
    const first = await uploadAndRead(page);
    // The worker says how many deferred files are still on their way (the benchmark waits for 0).
    assert.equal(first.timings.parts_loading, 1 + NETWORKS.length, "the first painting's count of deferred files");
    await paintTask(page, "semantic", 'Generate a semantic segmentation visualization image, using this color mapping: {"cup": "red", "table": "blue", "person": "green"}');
    assert.equal(fetched(WHOLE).length, 0, `two paintings took ${Date.now() - started} ms and waited for the whole table`);
    // A word only the whole table knows waits for it, then paints; the whole table is then kept.
    const pond = await paintTask(page, "semantic", POND);
    assert.equal(fetched(WHOLE).length, 1, "the whole table was downloaded once");
    assert.equal(pond.task, "semantic");
    assert.equal(pond.timings.parts_loading, 0, "deferred files still loading after the whole table and the networks were used");
    for (const network of NETWORKS) assert.equal(fetched(network).length, 1, `${network} was downloaded once`);
    const kept = [CORE, WHOLE, `/weights/${manifest.weights_file}`, ...NETWORKS];
    await page.waitForFunction(async (n) => (await (await caches.open("peel-weights")).keys()).length === n, kept.length, { timeout: 60_000 });
    assert.deepEqual((await keptFiles(page)).sort(), kept.sort());
    // The next visit loads the whole table from the cache and downloads no model file.
    sent.length = 0;
    await page.reload();
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    await uploadAndRead(page);
    await paintTask(page, "semantic", POND);
    assert.deepEqual(sent.filter((e) => e.path.endsWith(".safetensors")), [], "a model file was downloaded again");
  });
});

test("A first prompt that needs the whole phrase table waits for it and paints", { timeout: 2 * SLOW }, async () => {
  await slowWholeTable(async ({ page }, sent) => {
    await page.selectOption("#task", "semantic");
    await page.fill("#prompt", POND);
    const started = Date.now();
    const result = await uploadAndRead(page);
    assert.equal(result.task, "semantic");
    assert.ok(Date.now() - started >= HOLD_MS, "painted before the whole table could have arrived");
    assert.equal(sent.filter((e) => e.path === WHOLE && e.status === 200).length, 1);
    const statuses = await page.evaluate(() => window.__peelStatuses);
    assert.ok(statuses.some((s) => /rest of the vocabulary/.test(s)), `no word of the wait: ${statuses.join(" | ")}`);
    if (NETWORKS.length) {
      assert.ok(statuses.some((s) => /segmentation network/.test(s)), `no word of the network's wait: ${statuses.join(" | ")}`);
    }
  });
});
