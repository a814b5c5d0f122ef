// Exports: every download is captured and read back against what the page decoded; the page's
// downloads are byte for byte the files `peel decode` writes (one decode); the photo effects and
// the 3D view, whose effects download as PNG.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { inflateSync } from "node:zlib";
import { ROOT, ARTIFACTS, PHOTO, SLOW, serveDist, withPage, waitForState, uploadAndRead, paintTask, assertSensibleDepth, openViewOf, canvasPixels, meanDifference, setSlider } from "./page.mjs";

serveDist();

// Clicks `selector`, waits for the download it starts and returns its name and bytes.
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
  await withPage({ webgpu: false, query: "?backend=cpu" }, async ({ page }) => {
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
  });
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
  await withPage({ webgpu: false, query: "?backend=cpu" }, async ({ page }) => {
    // Saves the painting on screen as the page downloads it; returns its path for `peel decode`.
    const savePainting = async (task) => {
      const visualization = await download(page, "#export-visualization");
      assert.equal(visualization.name, `peel-${task}-visualization.png`);
      const path = join(dir, visualization.name);
      await writeFile(path, visualization.bytes);
      return path;
    };
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

    // Segmentation, with each task's example prompt: the label map, the legend and every mask. The
    // instances are of a thing coffee.png holds (the example's people are not in it, and a legend
    // without entries would leave no mask to compare).
    const prompts = { instance: "Generate an instance segmentation visualization of this image. Each table is colored differently." };
    for (const task of ["semantic", "instance", "referring"]) {
      const result = await paintTask(page, task, prompts[task]);
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
  });
});

test("Photo effects and the 3D view: blur focuses where clicked, relighting follows the light, the point cloud orbits and resets; the effects download as PNG", { timeout: 3 * SLOW }, async () => {
  await withPage({ webgpu: false, query: "?backend=cpu" }, async ({ page }) => {
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
  });
});
