// End-to-end tests of the built page (dist/) in Debian's headless chromium.
// Each test uploads a real photo and checks the decoded values, the overlay and the network.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "../serve.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DIST = join(ROOT, "dist");
const ARTIFACTS = join(ROOT, "target", "browser-tests");
const CHROMIUM = process.env.PEEL_CHROMIUM ?? "/usr/bin/chromium";
const PHOTO = join(ROOT, "static", "samples", "coffee.png");
// SwiftShader is slow: loading, timing both backends and painting can take a minute or two.
const SLOW = 240_000;

let server;
before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  server = await serve(DIST);
});
after(() => server?.close());

async function openPage({ webgpu, query = "", url = server.url }) {
  const args = ["--no-sandbox", "--headless=new"];
  if (webgpu) args.push("--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-webgpu-adapter=swiftshader");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests = [];
  page.on("request", (request) => requests.push(request.url()));
  page.on("worker", (worker) => worker.on("console", (m) => console.log("[worker]", m.text())));
  page.on("console", (m) => m.type() === "error" && console.log("[page]", m.text()));
  await page.goto(url + query);
  return { browser, page, requests };
}

const state = (page) => page.locator("body").getAttribute("data-state");

async function waitForState(page, wanted, timeout = SLOW) {
  await page.waitForFunction((w) => w.includes(document.body.dataset.state), wanted, { timeout, polling: 250 });
  return state(page);
}

async function uploadAndRead(page, photo = PHOTO) {
  // Clear a stale "failed"/"painted" so the wait below sees this upload's outcome.
  await page.evaluate(() => { document.body.dataset.state = "uploading"; });
  await page.setInputFiles("#file-input", photo);
  const reached = await waitForState(page, ["painted", "failed"]);
  assert.equal(reached, "painted", `painting failed: ${await page.locator("#status").textContent()}`);
  return JSON.parse(await page.locator("#result-json").textContent());
}

// Picks a task (which repaints with its example prompt), then optionally paints `prompt`; returns the result.
async function paintTask(page, task, prompt) {
  const settle = async () => {
    const reached = await waitForState(page, ["painted", "failed"]);
    assert.equal(reached, "painted", `painting ${task} failed: ${await page.locator("#status").textContent()}`);
  };
  if ((await page.inputValue("#task")) !== task) {
    await page.evaluate(() => { document.body.dataset.state = "uploading"; });
    await page.selectOption("#task", task);
    await settle();
  }
  if (prompt !== undefined) {
    await page.evaluate(() => { document.body.dataset.state = "uploading"; });
    await page.fill("#prompt", prompt);
    await page.click("#paint");
    await settle();
  }
  const result = JSON.parse(await page.locator("#result-json").textContent());
  assert.equal(result.task, task);
  return result;
}

function assertSensibleDepth(result) {
  assert.equal(result.task, "depth");
  const summary = result.values;
  for (const key of ["min_m", "median_m", "max_m"]) {
    assert.ok(Number.isFinite(summary[key]) && summary[key] > 0, `${key} = ${summary[key]} should be finite and positive`);
  }
  assert.ok(summary.max_m > summary.min_m * 1.2, `depth should vary across the image: ${JSON.stringify(summary)}`);
  assert.ok(summary.sky_fraction < 1, "not everything can be sky");
}

async function assertOverlayNotBlank(page) {
  const stats = await page.evaluate(() => {
    const canvas = document.getElementById("overlay");
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    let sum = 0, sumSq = 0, n = 0;
    for (let i = 0; i < data.length; i += 4 * 7) {
      const v = (data[i] + data[i + 1] + data[i + 2]) / 3;
      sum += v; sumSq += v * v; n++;
    }
    const mean = sum / n;
    return { mean, std: Math.sqrt(sumSq / n - mean * mean), width: canvas.width, height: canvas.height };
  });
  assert.ok(stats.std > 10, `overlay canvas looks blank: ${JSON.stringify(stats)}`);
}

function assertLocalOnly(requests) {
  const origin = new URL(server.url).origin;
  const foreign = requests.filter((u) => !u.startsWith(origin + "/") && !u.startsWith("blob:") && !u.startsWith("data:"));
  assert.ok(requests.length > 3, "the page should have made requests");
  assert.deepEqual(foreign, [], "every request must stay on 127.0.0.1");
}

test("WebGPU: paints, decodes and overlays depth for a real photo", { timeout: 2 * SLOW }, async () => {
  const { browser, page, requests } = await openPage({ webgpu: true, query: "?backend=webgpu" });
  try {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    assert.equal(await page.locator("body").getAttribute("data-backend"), "WebGPU");
    assert.doesNotMatch(await page.locator("#model-line").textContent(), /placeholder/);
    assertSensibleDepth(await uploadAndRead(page));
    await assertOverlayNotBlank(page);
    await page.screenshot({ path: join(ARTIFACTS, "webgpu.png"), fullPage: true });
    assertLocalOnly(requests);
  } finally {
    await browser.close();
  }
});

test("CPU fallback: without WebGPU the page says so and still paints", { timeout: 2 * SLOW }, async () => {
  const { browser, page, requests } = await openPage({ webgpu: false });
  try {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    assert.equal(await page.locator("body").getAttribute("data-backend"), "CPU");
    assert.match(await page.locator("#backend-line").textContent(), /CPU/);
    assertSensibleDepth(await uploadAndRead(page, join(ROOT, "static", "samples", "chelsea.png")));
    await assertOverlayNotBlank(page);
    await page.screenshot({ path: join(ARTIFACTS, "cpu.png"), fullPage: true });
    assertLocalOnly(requests);
  } finally {
    await browser.close();
  }
});

test("Auto: with a WebGPU adapter the page times both backends and names its choice", { timeout: 2 * SLOW }, async () => {
  const { browser, page } = await openPage({ webgpu: true });
  try {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    const line = await page.locator("#backend-line").textContent();
    assert.match(line, /probe: WebGPU \d+ ms, CPU \d+ ms/);
    const [, gpu, cpu] = line.match(/WebGPU (\d+) ms, CPU (\d+) ms/).map(Number);
    const chosen = await page.locator("body").getAttribute("data-backend");
    assert.equal(chosen, gpu < cpu ? "WebGPU" : "CPU", line);
  } finally {
    await browser.close();
  }
});

test("A corrupt photo gets a clear message, and the next photo still paints", { timeout: 2 * SLOW }, async () => {
  const { browser, page } = await openPage({ webgpu: false, query: "?backend=cpu" });
  try {
    await waitForState(page, ["ready"]);
    const junk = join(ARTIFACTS, "corrupt.jpg");
    const real = await readFile(PHOTO);
    await writeFile(junk, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), real.subarray(200, 4000)]));
    await page.evaluate(() => { document.body.dataset.state = "uploading"; });
    await page.setInputFiles("#file-input", junk);
    assert.equal(await waitForState(page, ["painted", "failed"]), "failed");
    assert.match(await page.locator("#status").textContent(), /corrupt|not an image/i);
    assertSensibleDepth(await uploadAndRead(page));
  } finally {
    await browser.close();
  }
});

for (const [name, override, message] of [
  ["tampered", (bytes) => Buffer.concat([bytes.subarray(0, bytes.length - 64), Buffer.alloc(64, 7)]), /corrupt or was modified/],
  ["missing", () => null, /HTTP 404/],
]) {
  test(`A ${name} weights file gives a clear message, not a blank page`, { timeout: SLOW }, async () => {
    const manifest = JSON.parse(await readFile(join(DIST, "weights", "manifest.json"), "utf8"));
    const path = `/weights/${manifest.weights_file}`;
    const weights = await readFile(join(DIST, "weights", manifest.weights_file));
    const broken = await serve(DIST, { overrides: { [path]: override(weights) } });
    const { browser, page } = await openPage({ webgpu: false, url: broken.url });
    try {
      assert.equal(await waitForState(page, ["ready", "load-failed"]), "load-failed");
      assert.match(await page.locator("#status").textContent(), message);
      assert.match(await page.locator("#model-line").textContent(), /could not be loaded/);
    } finally {
      await browser.close();
      await broken.close();
    }
  });
}

test("Every task paints and decodes on the CPU; a malformed prompt is refused with its position", { timeout: 3 * SLOW }, async () => {
  const { browser, page } = await openPage({ webgpu: false, query: "?backend=cpu" });
  try {
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
    await assertOverlayNotBlank(page);
    await page.screenshot({ path: join(ARTIFACTS, "semantic.png"), fullPage: true });

    const instance = await paintTask(page, "instance");
    assert.ok(Array.isArray(instance.values));
    for (const seg of instance.values) assert.match(seg.name, /^person \d+$/);

    const referring = await paintTask(page, "referring");
    assert.deepEqual(referring.values.map((s) => s.name), ["The cat on the left", "the cup"]);

    await page.evaluate(() => { document.body.dataset.state = "uploading"; });
    await page.fill("#prompt", 'color mapping: {"cat": "reddish"}');
    await page.click("#paint");
    assert.equal(await waitForState(page, ["painted", "failed"]), "failed");
    assert.match(await page.locator("#status").textContent(), /Prompt: .*character \d+.*reddish/);
    const again = await paintTask(page, "semantic", 'color mapping: {"cat": "red"}');
    assert.deepEqual(again.values.map((s) => s.name), ["cat"]);
  } finally {
    await browser.close();
  }
});
