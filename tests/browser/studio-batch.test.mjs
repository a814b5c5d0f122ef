// The studio's views of many paintings (issue 34): "Paint everything" (every task of one photo
// as a grid of small views, each opening as the painting on screen), folders of photos (one
// zip whose files are the single-photo exports, byte for byte) and the history kept on the device.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { ARTIFACTS, DIST, ROOT, SLOW, serveDist, withPage, waitForState, waitUntilReadyOffline, uploadAndRead, paintTask, assertPaintingShown, openViewOf } from "./page.mjs";
import { serve } from "../serve.mjs";

const SAMPLES = join(ROOT, "static", "samples");
const AXE_SOURCE = readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** axe-core on the page as it is now, light and dark: no serious or critical violation (as
 * studio.test.mjs audits the rest of the page). */
async function assertAccessible(page, when) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(await AXE_SOURCE);
  const found = [];
  for (const colorScheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme });
    const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ["violations"] })).violations
      .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary.replace(/\s+/g, " ")}`) })));
    for (const v of violations) console.log(`[axe ${when}, ${colorScheme}] ${v.impact} ${v.id}\n  ${v.nodes.join("\n  ")}`);
    found.push(...violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${colorScheme}: ${v.id}`));
  }
  await page.emulateMedia({ colorScheme: "light" });
  assert.deepEqual(found, [], `axe-core on ${when}`);
}

serveDist();

test("Paint everything: depth, normals, semantic and the main class's instances as a grid of views, each opening as the painting; the photo is sent once", { timeout: 2 * SLOW }, async () => {
  await withPage({ webgpu: false, query: "?backend=cpu" }, async ({ page }) => {
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
    await assertAccessible(page, "the Everything grid");

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
  });
});

/** Clicks `selector` and returns the file it saves: its name and bytes, read from the very blob
 * the page hands the browser. (Read in the page: Chromium's download manager stops reporting
 * downloads after some dozens from one page, and this test saves over fifty.) */
async function download(page, selector) {
  await openViewOf(page, selector);
  await page.evaluate(() => {
    window.__peelSaved = null;
    if (window.__peelSaveHooked) return;
    window.__peelSaveHooked = true;
    // The page's CSP (connect-src 'self') forbids fetching a blob: URL; keep each URL's blob.
    const blobs = new Map();
    const createObjectURL = URL.createObjectURL;
    URL.createObjectURL = (blob) => { const url = createObjectURL(blob); blobs.set(url, blob); return url; };
    const click = HTMLAnchorElement.prototype.click;
    HTMLAnchorElement.prototype.click = function () {
      if (!this.download || !blobs.has(this.href)) return click.call(this);
      const name = this.download;
      blobs.get(this.href).arrayBuffer().then((buffer) => {
        let binary = "";
        const bytes = new Uint8Array(buffer);
        for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
        window.__peelSaved = { name, base64: btoa(binary) };
      });
    };
  });
  await page.click(selector);
  const saved = await (await page.waitForFunction(() => window.__peelSaved, null, { timeout: 30_000, polling: 50 })).jsonValue();
  return { name: saved.name, bytes: Buffer.from(saved.base64, "base64") };
}

/** The files of a zip (stored or not), by name: read from its central directory, as unzip does. */
function readZip(zip) {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(end >= 0, "no end of central directory");
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const files = new Map();
  for (let n = 0; n < count; n++) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50, "central directory entry");
    const method = zip.readUInt16LE(at + 10), size = zip.readUInt32LE(at + 20), stored = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28), extra = zip.readUInt16LE(at + 30), comment = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString("utf8");
    assert.equal(method, 0, `${name} is stored`);
    assert.equal(size, stored);
    assert.equal(zip.readUInt32LE(local), 0x04034b50, "local header");
    const data = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    files.set(name, zip.subarray(data, data + size));
    at += 46 + nameLength + extra + comment;
  }
  return files;
}

/** Five photos: the three samples, and two JPEGs the browser makes from them (one in a subfolder,
 * named as a sample, so the zip must keep both apart). */
async function fivePhotos(page, dir) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, "more"), { recursive: true });
  const jpeg = (sample, flip) => page.evaluate(async ([sample, flip]) => {
    const bitmap = await createImageBitmap(await (await fetch(`samples/${sample}.png`)).blob());
    const canvas = document.createElement("canvas");
    [canvas.width, canvas.height] = [Math.round(bitmap.width * 0.8), Math.round(bitmap.height * 0.8)];
    const context = canvas.getContext("2d");
    if (flip) { context.translate(canvas.width, 0); context.scale(-1, 1); }
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return canvas.toDataURL("image/jpeg", 0.9).split(",")[1];
  }, [sample, flip]);
  await writeFile(join(dir, "coffee-flipped.jpg"), Buffer.from(await jpeg("coffee", true), "base64"));
  await writeFile(join(dir, "more", "chelsea.jpg"), Buffer.from(await jpeg("chelsea", false), "base64"));
  return [join(SAMPLES, "astronaut.png"), join(SAMPLES, "coffee.png"), join(SAMPLES, "chelsea.png"), join(dir, "coffee-flipped.jpg"), join(dir, "more", "chelsea.jpg")];
}

// The folders each photo's files go in, and the Downloads tab's buttons of each task.
const FOLDERS = ["astronaut", "coffee", "chelsea", "coffee-flipped", "chelsea-2"];
const BUTTONS = {
  depth: ["#export-visualization", "#export-depth-png", "#export-depth-npy", "#export-depth-ply"],
  semantic: ["#export-visualization", "#export-labels-png", "#export-legend-json", "#export-mask-list button"],
};

/** Paints `photos` as a folder with the task chosen now; returns the zip's files. */
async function paintFolder(page, photos) {
  await page.click("#tab-folder");
  await page.setInputFiles("#folder-files", photos);
  await page.waitForFunction(() => document.body.dataset.folder === "chosen", null, { timeout: 10_000 });
  assert.match(await page.locator("#folder-line").textContent(), new RegExp(`^${photos.length} photos chosen`));
  // Progress: the bar's value after each photo.
  await page.evaluate(() => {
    window.__folderProgress = [];
    const bar = document.getElementById("folder-progress");
    new MutationObserver(() => window.__folderProgress.push(bar.value)).observe(bar, { attributes: true, attributeFilter: ["value"] });
  });
  const started = Date.now();
  await page.click("#folder-start");
  await page.waitForFunction(() => ["done", "cancelled"].includes(document.body.dataset.folder), null, { timeout: SLOW, polling: 250 });
  console.log(`folder of ${photos.length}: ${Date.now() - started} ms; ${await page.locator("#folder-line").textContent()}`);
  assert.equal(await page.locator("body").getAttribute("data-folder"), "done");
  const rows = await page.$$eval("#folder-list li", (items) => items.map((li) => `${li.dataset.state}: ${li.textContent}`));
  console.log(rows.join("\n"));
  assert.ok(rows.every((r) => r.startsWith("done")), rows.join("; "));
  const zip = await download(page, "#folder-download");
  console.log(`${zip.name}: ${zip.bytes.length} bytes`);
  return { zip, files: readZip(zip.bytes), progress: await page.evaluate(() => window.__folderProgress) };
}

/** Opens `photo` alone, paints `task`, and downloads every file of the Downloads tab. */
async function singleExports(page, photo, task) {
  await uploadAndRead(page, photo);
  if ((await page.inputValue("#task")) !== task) throw new Error(`the task is ${await page.inputValue("#task")}`);
  const files = [];
  for (const selector of BUTTONS[task]) {
    await openViewOf(page, "#export-visualization");
    const count = await page.locator(selector).count();
    for (let i = 0; i < count; i++) {
      const button = selector.endsWith("button") ? `${selector}:nth-child(${i + 1})` : selector;
      files.push(await download(page, button));
    }
  }
  return files;
}

test("Folders: 5 photos painted one at a time into one zip whose files are byte for byte the single-photo exports; cancel keeps what was painted", { timeout: 4 * SLOW }, async () => {
  await withPage({ webgpu: false, query: "?backend=cpu" }, async ({ page }) => {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    const photos = await fivePhotos(page, join(ARTIFACTS, "folder-photos"));
    // Every paint request of the run carries its photo (the page never paints one from memory).
    const sentBefore = await page.evaluate(() => window.__peelPaints.length);
    const { files, progress } = await paintFolder(page, photos);
    const sent = await page.evaluate((from) => window.__peelPaints.slice(from), sentBefore);
    assert.equal(sent.length, 5);
    assert.ok(sent.every((bytes) => bytes > 1000), `paint requests: ${sent}`);
    assert.deepEqual(progress, [0, 1, 2, 3, 4, 5], "the progress bar at the start and after each photo");
    await page.screenshot({ path: join(ARTIFACTS, "folder.png"), clip: { x: 370, y: 40, width: 900, height: 330 } });
    await assertAccessible(page, "the Folder tab after a run");
    // A whole folder (webkitdirectory: its subfolders too), and several photos dropped at once.
    await page.setInputFiles("#folder-dir", join(ARTIFACTS, "folder-photos"));
    await page.waitForFunction(() => document.body.dataset.folder === "chosen", null, { timeout: 10_000 });
    assert.match(await page.locator("#folder-line").textContent(), /^2 photos chosen/);
    assert.deepEqual(await page.$$eval("#folder-list li", (items) => items.map((li) => li.textContent.split(":")[0]).sort()), ["chelsea.jpg", "coffee-flipped.jpg"]);
    await page.evaluate(() => { document.body.dataset.folder = "none"; });
    const dropped = await page.evaluateHandle(async () => {
      const transfer = new DataTransfer();
      for (const name of ["astronaut", "coffee", "chelsea"]) transfer.items.add(new File([await (await fetch(`samples/${name}.png`)).blob()], `${name}.png`, { type: "image/png" }));
      return transfer;
    });
    await page.dispatchEvent("#drop-zone", "drop", { dataTransfer: dropped });
    await page.waitForFunction(() => document.body.dataset.folder === "chosen", null, { timeout: 10_000 });
    assert.match(await page.locator("#folder-line").textContent(), /^3 photos chosen/);
    assert.equal(await page.getAttribute("#tab-folder", "aria-selected"), "true");
    // The same photos, one at a time, through the Downloads tab: the very same bytes.
    const names = [...files.keys()].sort();
    const expected = [];
    for (const [i, photo] of photos.entries()) {
      for (const file of await singleExports(page, photo, "depth")) {
        const path = `${FOLDERS[i]}/${file.name}`;
        expected.push(path);
        assert.ok(files.has(path), `the zip lacks ${path} (it holds ${names.join(", ")})`);
        assert.ok(Buffer.compare(files.get(path), file.bytes) === 0, `${path} differs from the single-photo download`);
      }
    }
    assert.deepEqual(names, expected.sort(), "the zip holds exactly the single-photo exports");
    console.log(`zip: ${names.length} files equal to the single-photo downloads (${names.slice(0, 4).join(", ")}, …)`);

    // Semantic segmentation on two of them: label maps, legends, masks and cut-outs.
    await page.evaluate(() => { document.body.dataset.state = "choosing"; });
    await page.selectOption("#task", "semantic");
    await waitForState(page, ["painted", "failed"]);
    const semantic = await paintFolder(page, photos.slice(1, 3));
    let compared = 0;
    for (const [i, photo] of photos.slice(1, 3).entries()) {
      for (const file of await singleExports(page, photo, "semantic")) {
        const path = `${FOLDERS[i + 1]}/${file.name}`;
        assert.ok(semantic.files.has(path), `the semantic zip lacks ${path}`);
        assert.ok(Buffer.compare(semantic.files.get(path), file.bytes) === 0, `${path} differs`);
        compared++;
      }
    }
    assert.equal(compared, semantic.files.size, "the semantic zip holds exactly the single-photo exports");
    console.log(`semantic zip: ${compared} files equal to the single-photo downloads`);

    // Cancel: after the first photo is painted, the run stops and the zip holds that one.
    await page.selectOption("#task", "depth");
    await waitForState(page, ["painted", "failed"]);
    await page.click("#tab-folder");
    await page.setInputFiles("#folder-files", photos);
    await page.waitForFunction(() => document.body.dataset.folder === "chosen");
    await page.click("#folder-start");
    await page.waitForFunction(() => document.querySelector('#folder-list [data-photo="0"]')?.dataset.state === "done", null, { timeout: SLOW, polling: 50 });
    await page.click("#folder-cancel");
    await page.waitForFunction(() => document.body.dataset.folder === "cancelled", null, { timeout: 30_000 });
    const line = await page.locator("#folder-line").textContent();
    console.log(`cancelled: ${line}`);
    const painted = Number(/after (\d) of 5/.exec(line)?.[1]);
    assert.ok(painted >= 1 && painted < 5, line);
    const partial = readZip((await download(page, "#folder-download")).bytes);
    assert.deepEqual([...new Set([...partial.keys()].map((k) => k.split("/")[0]))], FOLDERS.slice(0, painted));
    // The page paints again after the cancel (a cancel during a paint replaces the worker).
    assert.equal(await waitForState(page, ["ready", "painted"]), await page.locator("body").getAttribute("data-state"));
    await uploadAndRead(page, photos[1]);
  });
});

/** What a painting's result says, without its timings. */
const facts = (result) => ({ task: result.task, prompt: result.prompt, width: result.width, height: result.height, values: result.values });

/** The History tab's entries once it lists `count`: task line, prompt and whether the photo shows. */
async function historyEntries(page, count) {
  await openViewOf(page, "#history-list");
  await page.waitForFunction((n) => document.body.dataset.history === String(n) && document.querySelectorAll("#history-list li").length === n, count, { timeout: 30_000, polling: 100 });
  await page.waitForFunction(() => [...document.querySelectorAll("#history-list img")].every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 10_000 });
  return page.$$eval("#history-list li", (items) => items.map((li) => ({ id: li.dataset.id, heading: li.querySelector("p").textContent, prompt: li.querySelector(".history-prompt").textContent, photo: li.querySelector(".history-photo")?.naturalWidth ?? 0, painting: li.querySelector(".history-painting")?.naturalWidth ?? 0 })));
}

/** Opens the entry at `index` of the list and returns the painting's result once shown. */
async function openEntry(page, index) {
  await page.evaluate(() => { document.body.dataset.state = "opening"; });
  await page.click(`#history-list li:nth-child(${index + 1}) button[data-action="open"]`);
  assert.equal(await waitForState(page, ["painted", "failed"], 30_000), "painted", await page.locator("#status").textContent());
  assert.match(await page.locator("#status").textContent(), /from the history/);
  return JSON.parse(await page.locator("#result-json").textContent());
}

test("History: paintings kept in IndexedDB survive a reload and open again (values decoded again, equal to the painted ones), also offline; one or all can be cleared", { timeout: 3 * SLOW }, async () => {
  const sent = [];
  const counting = await serve(DIST, { onSent: (e) => sent.push(e) });
  try {
    await withPage({ webgpu: false, query: "?backend=cpu", url: counting.url }, async ({ page }) => {
      await waitUntilReadyOffline(page);
      assert.deepEqual(await historyEntries(page, 0), []);
      // Two paintings: depth of coffee, then semantic of the same photo.
      const kept = async (before) => page.waitForFunction((b) => (document.body.dataset.historyKept ?? "") !== b, before, { timeout: 30_000 }).then(() => page.locator("body").getAttribute("data-history-kept"));
      let mark = "";
      const depth = await uploadAndRead(page);
      mark = await kept(mark);
      const semantic = await paintTask(page, "semantic");
      await kept(mark);
      let entries = await historyEntries(page, 2);
      console.log("history:", entries.map((e) => `${e.heading} (photo ${e.photo} px wide)`).join("; "));
      assert.match(entries[0].heading, /^semantic, /);
      assert.match(entries[1].heading, /^depth, /);
      assert.ok(entries.every((e) => e.photo > 100 && e.painting > 100), "each entry shows its photo and painting");

      // A reload keeps them; opening one shows it with the very values painted.
      await page.reload();
      assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready");
      entries = await historyEntries(page, 2);
      const reopened = await openEntry(page, 1);
      assert.deepEqual(facts(reopened), facts(depth), "the depth painting opened from the history");
      assert.equal(await page.inputValue("#task"), "depth");
      await assertPaintingShown(page);
      const box = await page.locator("#overlay").boundingBox();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      assert.match(await page.locator("#readout").textContent(), /^Depth here: [\d.]+ m/);

      // Offline for real (the server gone, the network off): the history still opens, and Paint
      // paints the kept copy of the photo, which is kept in turn.
      await counting.close();
      await page.context().setOffline(true);
      sent.length = 0;
      await page.reload();
      assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
      entries = await historyEntries(page, 2);
      const offline = await openEntry(page, 0);
      assert.deepEqual(facts(offline), facts(semantic), "the semantic painting opened offline");
      assert.equal(await page.inputValue("#task"), "semantic");
      await page.evaluate(() => { document.body.dataset.state = "choosing"; });
      mark = await page.locator("body").getAttribute("data-history-kept");
      await page.click("#paint");
      assert.equal(await waitForState(page, ["painted", "failed"]), "painted", await page.locator("#status").textContent());
      await kept(mark ?? "");
      entries = await historyEntries(page, 3);
      await page.screenshot({ path: join(ARTIFACTS, "history.png"), clip: { x: 370, y: 40, width: 900, height: 330 } });
      await assertAccessible(page, "the History tab");
      // Clear one, then all; a reload agrees.
      await page.click(`#history-list li:nth-child(2) button[data-action="remove"]`);
      const left = await historyEntries(page, 2);
      assert.deepEqual(left.map((e) => e.id), [entries[0].id, entries[2].id], "the removed entry is gone, the others stay");
      await page.click("#history-clear");
      await historyEntries(page, 0);
      await page.reload();
      assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready");
      await historyEntries(page, 0);
      assert.deepEqual(sent, [], "nothing reached the server");
    });
  } finally {
    await counting.close();
  }
});
