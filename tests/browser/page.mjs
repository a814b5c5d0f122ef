// What the browser tests share: the paths, one server of dist/ per test file (serveDist), opening
// the page with its CSP and network watchers (openPage), a test's whole life with one page
// (withPage: open, run, assertClean, close), waiting for its state, painting, and the checks.
// The tests, one file per feature: backends, bad-input, capture, caching-offline, csp, exports,
// reading, studio, studio-batch, live, vocabulary, worker-link (and server, size: no page).
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "../serve.mjs";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
// PEEL_DIST serves another build (used to check that the tests fail on deliberately broken copies).
export const DIST = process.env.PEEL_DIST ?? join(ROOT, "dist");
export const ARTIFACTS = join(ROOT, "target", "browser-tests");
export const CHROMIUM = process.env.PEEL_CHROMIUM ?? "/usr/bin/chromium";
export const PHOTO = join(ROOT, "static", "samples", "coffee.png");
// SwiftShader is slow: loading, timing both backends and painting can take a minute or two.
export const SLOW = 240_000;

let server;
/** Serves dist/ (with CSP reports) to the calling test file's tests; call once, at its top. */
export function serveDist() {
  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    server = await serve(DIST, { cspReports: true });
  });
  after(() => server?.close());
}

/** Opens the page served at `url` (by default the shared server; pass `reports` with another one's `cspReports`;
 * without the shared server and without `reports`, only the page's own CSP events are watched). */
export async function openPage({ webgpu, query = "", url = server.url, reports = server?.cspReports ?? [], extraArgs = [] }) {
  const args = ["--no-sandbox", "--headless=new", ...extraArgs];
  if (webgpu) args.push("--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-webgpu-adapter=swiftshader");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests = [];
  // Content-Security-Policy violations: the page's securitypolicyviolation events and console
  // errors, and (in assertClean) the reports the server received, which include the worker's.
  const violations = [];
  const cspMessage = (where, m) => /Content Security Policy|Refused to/i.test(m.text()) && violations.push(`${where}: ${m.text()}`);
  page.on("request", (request) => requests.push(request.url()));
  page.on("worker", (worker) => worker.on("console", (m) => { console.log("[worker]", m.text()); cspMessage("worker", m); }));
  page.on("console", (m) => { m.type() === "error" && console.log("[page]", m.text()); cspMessage("page", m); });
  await page.exposeFunction("__peelViolation", (text) => violations.push(`event: ${text}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => window.__peelViolation(`${e.violatedDirective} blocked ${e.blockedURI}`));
    // The photo bytes each paint request carries to the worker (0: none, the worker's photo again).
    window.__peelPaints = [];
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (message, ...rest) {
      if (message && message.Paint) window.__peelPaints.push(message.Paint.file ? message.Paint.file.byteLength : 0);
      return post.call(this, message, ...rest);
    };
    // Every status line the page shows, in order (progress messages come and go quickly).
    window.__peelStatuses = [];
    document.addEventListener("DOMContentLoaded", () => {
      const status = document.getElementById("status");
      status && new MutationObserver(() => window.__peelStatuses.push(status.textContent)).observe(status, { childList: true, characterData: true, subtree: true });
    });
  });
  const response = await page.goto(url + query);
  return { browser, page, requests, violations, response, origin: new URL(url).origin, reports, reportsFrom: reports.length };
}

/** Opens the page with `options` (openPage's), runs `body(ctx)`, then, if the body succeeded, ends
 * as every test does with assertClean(ctx) (`clean: false` skips it, for a test that never made
 * that check); always closes the browser. Returns what the body returned. */
export async function withPage({ clean = true, ...options }, body) {
  const ctx = await openPage(options);
  try {
    const result = await body(ctx);
    if (clean) await assertClean(ctx);
    return result;
  } finally {
    await ctx.browser.close();
  }
}

/** The CSP violation reports the server received since the page was opened (or `ctx.reportsFrom` was reset). */
export async function cspReports(ctx) {
  await ctx.page.waitForTimeout(1000); // reports are sent asynchronously
  return ctx.reports.slice(ctx.reportsFrom).map((r) =>
    typeof r === "string" ? r : `report: ${r["effective-directive"]} blocked ${r["blocked-uri"]} in ${r["document-uri"]}`);
}

/** Every test ends with this: no CSP violation (page or worker) and no request off the origin, over the whole run. */
export async function assertClean(ctx) {
  assert.deepEqual([...ctx.violations, ...(await cspReports(ctx))], [], "Content-Security-Policy violations");
  assertLocalOnly(ctx.requests, ctx.origin);
}

/** Every request went to `origin` (the server the page was opened from), or was blob:/data:. */
export function assertLocalOnly(requests, origin) {
  const foreign = requests.filter((u) => !u.startsWith(origin + "/") && !u.startsWith("blob:") && !u.startsWith("data:"));
  assert.ok(requests.length > 3, "the page should have made requests");
  assert.deepEqual(foreign, [], "every request must stay on 127.0.0.1");
}

/** A depth result that makes sense for a real photo: finite positive depths that vary, not all sky. */
export function assertSensibleDepth(result) {
  assert.equal(result.task, "depth");
  const summary = result.values;
  for (const key of ["min_m", "median_m", "max_m"]) {
    assert.ok(Number.isFinite(summary[key]) && summary[key] > 0, `${key} = ${summary[key]} should be finite and positive`);
  }
  assert.ok(summary.max_m > summary.min_m * 1.2, `depth should vary across the image: ${JSON.stringify(summary)}`);
  assert.ok(summary.sky_fraction < 1, "not everything can be sky");
}

/** Opens the view (tab) that holds `selector`, as a person would before using it; no-op if it is open. */
export async function openViewOf(page, selector) {
  const tab = await page.evaluate((s) => {
    const panel = document.querySelector(s)?.closest("[role=tabpanel]");
    return panel?.hidden ? document.querySelector(`[role=tab][aria-controls="${panel.id}"]`)?.id : null;
  }, selector);
  if (tab) await page.click(`#${tab}`);
}

export const state = (page) => page.locator("body").getAttribute("data-state");

export async function waitForState(page, wanted, timeout = SLOW) {
  await page.waitForFunction((w) => w.includes(document.body.dataset.state), wanted, { timeout, polling: 250 });
  return state(page);
}

/** Waits until the model is loaded and the service worker controls the page (it works offline from then on). */
export async function waitUntilReadyOffline(page) {
  assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
  await page.waitForFunction(() => document.body.dataset.offline && navigator.serviceWorker.controller, null, { timeout: 60_000 });
}

export async function uploadAndRead(page, photo = PHOTO) {
  // Clear a stale "failed"/"painted" so the wait below sees this upload's outcome.
  await page.evaluate(() => { document.body.dataset.state = "uploading"; });
  await page.setInputFiles("#file-input", photo);
  const reached = await waitForState(page, ["painted", "failed"]);
  assert.equal(reached, "painted", `painting failed: ${await page.locator("#status").textContent()}`);
  return JSON.parse(await page.locator("#result-json").textContent());
}

// Picks a task (which repaints with its example prompt), then optionally paints `prompt`; returns the result.
export async function paintTask(page, task, prompt) {
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

/** The overlay shows the painting, not only the photo under it: at opacity 0 the canvas is the
 * photo alone, and at full opacity it must differ from that and not be one flat colour. */
export async function assertPaintingShown(page) {
  const opacity = await page.inputValue("#opacity");
  await setSlider(page, "opacity", 0);
  const photo = await canvasPixels(page, "overlay");
  await setSlider(page, "opacity", 100);
  const painted = await canvasPixels(page, "overlay");
  await setSlider(page, "opacity", opacity);
  const difference = meanDifference(photo.data, painted.data);
  assert.ok(difference > 8, `at full opacity the overlay is still the photo (mean difference ${difference.toFixed(1)})`);
  let sum = 0, sumSq = 0, n = 0;
  for (let i = 0; i < painted.data.length; i += 4) {
    const v = (painted.data[i] + painted.data[i + 1] + painted.data[i + 2]) / 3;
    sum += v; sumSq += v * v; n++;
  }
  const std = Math.sqrt(sumSq / n - (sum / n) ** 2);
  assert.ok(std > 5, `the painting is one flat colour (std ${std.toFixed(1)})`);
}

/** RGBA pixels of a canvas (2D or WebGL with a preserved drawing buffer), drawn onto a 2D canvas. */
export async function canvasPixels(page, id) {
  return page.evaluate((id) => {
    const source = document.getElementById(id);
    const copy = document.createElement("canvas");
    copy.width = source.width;
    copy.height = source.height;
    const context = copy.getContext("2d");
    context.drawImage(source, 0, 0);
    return { width: copy.width, height: copy.height, data: Array.from(context.getImageData(0, 0, copy.width, copy.height).data) };
  }, id);
}

/** Mean absolute difference per channel (RGB) of two equally sized RGBA pixel arrays. */
export function meanDifference(a, b) {
  assert.equal(a.length, b.length, "same size");
  let sum = 0, n = 0;
  for (let i = 0; i < a.length; i += 4) for (let c = 0; c < 3; c++, n++) sum += Math.abs(a[i + c] - b[i + c]);
  return sum / n;
}

/** Sets a range input's value as a user would (the `input` and `change` events). */
export async function setSlider(page, id, value) {
  await page.evaluate(([id, value]) => {
    const input = document.getElementById(id);
    input.value = String(value);
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }, [id, value]);
}
