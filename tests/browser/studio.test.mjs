// The studio's polish and its prompt builder (issue 34): one screen at 1280x800 (the picture, the
// controls and the views in view, no window scroll), an axe-core audit in light and dark, the main
// flow with the keyboard alone (focus always visible), and the builder's round trip
// rows -> text -> rows, with the nearest known words beside a refused word's row.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { ARTIFACTS, PHOTO, SLOW, serveDist, withPage, waitForState, uploadAndRead, paintTask, assertPaintingShown } from "./page.mjs";

serveDist();

/** Where each of `selectors` is on screen, and whether the window scrolls: an element is in view
 * when it has a size, lies inside the window and no scrolling ancestor (a column that scrolls on
 * its own) clips any of it away. */
async function layout(page, selectors) {
  return page.evaluate((selectors) => {
    const out = { scrollHeight: document.scrollingElement.scrollHeight, scrollWidth: document.scrollingElement.scrollWidth, innerHeight, innerWidth, boxes: {} };
    for (const selector of selectors) {
      const e = document.querySelector(selector);
      if (!e) { out.boxes[selector] = { missing: true, inView: false }; continue; }
      const r = e.getBoundingClientRect();
      let inView = r.width > 0 && r.height > 0 && r.left >= -0.5 && r.top >= -0.5 && r.right <= innerWidth + 0.5 && r.bottom <= innerHeight + 0.5;
      for (let a = e.parentElement; a && inView; a = a.parentElement) {
        const s = getComputedStyle(a);
        if (s.overflowX === "visible" && s.overflowY === "visible") continue;
        const b = a.getBoundingClientRect();
        inView = r.left >= b.left - 0.5 && r.top >= b.top - 0.5 && r.right <= b.right + 0.5 && r.bottom <= b.bottom + 0.5;
      }
      out.boxes[selector] = { top: Math.round(r.top), bottom: Math.round(r.bottom), left: Math.round(r.left), right: Math.round(r.right), inView };
    }
    return out;
  }, selectors);
}

/** The window does not scroll and each of `selectors` is wholly in view; returns the layout. */
async function assertOneScreen(page, when, selectors) {
  const seen = await layout(page, selectors);
  console.log(`[one screen, ${when}] window ${seen.innerWidth}x${seen.innerHeight}, document ${seen.scrollWidth}x${seen.scrollHeight}; ` +
    Object.entries(seen.boxes).map(([s, b]) => `${s} ${b.top}..${b.bottom}${b.inView ? "" : " NOT IN VIEW"}`).join(", "));
  assert.ok(seen.scrollHeight <= seen.innerHeight, `${when}: the window scrolls (${seen.scrollHeight} px of ${seen.innerHeight})`);
  assert.ok(seen.scrollWidth <= seen.innerWidth, `${when}: the page is ${seen.scrollWidth} px wide in a ${seen.innerWidth}-px window`);
  const out = Object.entries(seen.boxes).filter(([, b]) => !b.inView).map(([s]) => s);
  assert.deepEqual(out, [], `${when}: not wholly in view`);
  return seen;
}

// The main flow's controls, in view on every view of the painting.
const CONTROLS = ["#drop-zone", 'button[data-sample="samples/chelsea.png"]', "#camera", "#task", "#prompt", "#paint", "[role=tablist]", "#tab-painting"];

test("One screen at 1280x800: after painting, the picture with its readout and summary, the controls and the tabs are in view, on every tab, and the window never scrolls", { timeout: 2 * SLOW }, async () => {
  await withPage({ webgpu: false, query: "?backend=cpu" }, async ({ page }) => {
    await page.setViewportSize({ width: 1280, height: 800 });
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    await assertOneScreen(page, "loaded", [...CONTROLS, "#overlay"]);
    // Pick a sample: it paints depth.
    await page.evaluate(() => { document.body.dataset.state = "uploading"; });
    await page.click('button[data-sample="samples/coffee.png"]');
    assert.equal(await waitForState(page, ["painted", "failed"]), "painted", await page.locator("#status").textContent());
    await assertPaintingShown(page);
    const painting = ["#overlay", "#depth-scale", "#readout", "#summary", "#tab-effect", "#tab-3d", "#tab-downloads"];
    const depth = await assertOneScreen(page, "depth painted", [...CONTROLS, ...painting]);
    // The picture is not shrunk to fit: the 600x400 sample is shown at its own size.
    const picture = depth.boxes["#overlay"];
    assert.ok(picture.right - picture.left >= 599 && picture.bottom - picture.top >= 399, `the picture is shown at ${picture.right - picture.left}x${picture.bottom - picture.top}`);
    // The readout follows the pointer on the picture, in view.
    await page.mouse.move((picture.left + picture.right) / 2, (picture.top + picture.bottom) / 2);
    assert.match(await page.locator("#readout").textContent(), /^Depth here: [\d.]+ m/);

    // The other views: the tabs, the controls and the view's own controls stay in view.
    await page.click("#tab-effect");
    await assertOneScreen(page, "photo effect", [...CONTROLS, "#tab-effect", "#effect-view", "#blur-focus", "#blur-strength", "#export-effect"]);
    await page.click("#tab-3d");
    await assertOneScreen(page, "3D", [...CONTROLS, "#tab-3d", "#view3d", "#view3d-reset"]);
    await page.click("#tab-downloads");
    await assertOneScreen(page, "downloads", [...CONTROLS, "#tab-downloads", "#export-visualization", "#export-depth-png", "#export-depth-npy", "#export-fov", "#export-depth-ply"]);
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-depth-png")]);
    assert.equal(download.suggestedFilename(), "peel-depth-mm.png");
    await page.click("#tab-painting");
    await assertOneScreen(page, "back to the painting", [...CONTROLS, ...painting]);

    // A segmentation: the prompt builder's rows and the prompt text join the controls, Paint
    // stays in view below them, and the legend's entries below the picture.
    await page.evaluate(() => { document.body.dataset.state = "uploading"; });
    await page.selectOption("#task", "semantic");
    assert.equal(await waitForState(page, ["painted", "failed"]), "painted", await page.locator("#status").textContent());
    await assertOneScreen(page, "semantic painted", [...CONTROLS, "#prompt-builder", "#builder-add", "#overlay", "#readout", "#summary", '#summary [data-entry="6"]', "#tab-downloads"]);
    // The readout names the segment under the pointer now, not the depth.
    await page.mouse.move(picture.left + 100, picture.top + 300);
    assert.doesNotMatch(await page.locator("#readout").textContent(), /^Depth here|^Point at/);
    await page.screenshot({ path: join(ARTIFACTS, "one-screen.png") });

    // A phone: the one-screen layout gives way to one column that the window scrolls, no wider than the screen.
    await page.setViewportSize({ width: 375, height: 812 });
    const phone = await layout(page, ["#overlay", "#paint"]);
    assert.ok(phone.scrollWidth <= 375, `the page is ${phone.scrollWidth} px wide on a 375-px screen`);
    assert.ok(phone.scrollHeight > phone.innerHeight, "on a phone the window scrolls, not the columns");
    assert.ok(phone.boxes["#overlay"].right - phone.boxes["#overlay"].left <= 375);
  });
});

const AXE_SOURCE = readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** Runs axe-core on the page as it is now, in `colorScheme`; prints every violation and returns
 * the serious and critical ones. The page's CSP forbids inline script, so axe's source is
 * evaluated through the DevTools protocol (as page.evaluate does), with the CSP left in force. */
async function audit(page, colorScheme, when) {
  await page.emulateMedia({ colorScheme });
  assert.equal(await page.evaluate((s) => matchMedia(`(prefers-color-scheme: ${s})`).matches, colorScheme), true);
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(await AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const results = await window.axe.run(document, { resultTypes: ["violations"] });
    return results.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary.replace(/\s+/g, " ")}`),
    }));
  });
  for (const v of violations) console.log(`[axe ${when}, ${colorScheme}] ${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.join("\n  ")}`);
  // The audit ran: axe is there and named its rules.
  assert.ok(await page.evaluate(() => window.axe.getRules().length > 50), "axe-core did not load");
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${when}, ${colorScheme}: ${v.id} (${v.nodes.length})`);
}

test("axe-core: no serious or critical violation, light and dark, on the loaded page and after a paint", { timeout: 2 * SLOW }, async () => {
  await withPage({ webgpu: false, query: "?backend=cpu" }, async ({ page }) => {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    const found = [];
    for (const scheme of ["light", "dark"]) found.push(...(await audit(page, scheme, "loaded")));
    await page.emulateMedia({ colorScheme: "light" });
    await uploadAndRead(page);
    // A segmentation shows the most controls: the builder's rows, the legend's entries, the mask downloads.
    await paintTask(page, "semantic");
    for (const scheme of ["light", "dark"]) {
      found.push(...(await audit(page, scheme, "painted")));
      await page.screenshot({ path: join(ARTIFACTS, `studio-${scheme}.png`), fullPage: true });
    }
    // The dark theme is in force: the page's own colours change, the painting's do not.
    const colours = async (scheme) => {
      await page.emulateMedia({ colorScheme: scheme });
      return page.evaluate(() => ({ body: getComputedStyle(document.documentElement).backgroundColor, overlay: document.getElementById("overlay").toDataURL() }));
    };
    const [light, dark] = [await colours("light"), await colours("dark")];
    assert.notEqual(light.body, dark.body, "the page's background follows prefers-color-scheme");
    assert.equal(light.overlay, dark.overlay, "the painting over the photo is the same in both themes");
    assert.deepEqual(found, [], "axe-core: serious or critical violations (all are printed above)");
  });
});

/** Where the focus is, and whether it shows: an outline of at least 2 px that no scrolling
 * ancestor clips away. */
async function focusShown(page) {
  return page.evaluate(() => {
    const e = document.activeElement;
    if (!e || e === document.body) return { what: "nothing (the body)", shown: false };
    const what = `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ""}${e.getAttribute("aria-label") ? ` "${e.getAttribute("aria-label")}"` : e.textContent ? ` "${e.textContent.trim().slice(0, 30)}"` : ""}`;
    const style = getComputedStyle(e);
    const width = parseFloat(style.outlineWidth);
    const rect = e.getBoundingClientRect();
    const reach = Math.max(0, width + parseFloat(style.outlineOffset));
    let clipped = false;
    for (let a = e.parentElement; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX === "visible" && s.overflowY === "visible") continue;
      const box = a.getBoundingClientRect();
      clipped ||= rect.left - reach < box.left - 0.5 || rect.right + reach > box.right + 0.5 || rect.top - reach < box.top - 0.5 || rect.bottom + reach > box.bottom + 0.5;
    }
    const shown = e.matches(":focus-visible") && style.outlineStyle !== "none" && width >= 2 && rect.width > 0 && rect.height > 0 && !clipped;
    return { what, shown, outline: `${style.outlineStyle} ${style.outlineWidth} offset ${style.outlineOffset}${clipped ? ", clipped" : ""}` };
  });
}

test("Keyboard only: choose a sample, pick a task, paint and read the result with the keys alone; the focus always shows", { timeout: 2 * SLOW }, async () => {
  await withPage({ webgpu: false, query: "?backend=cpu" }, async ({ page }) => {
    const visited = [];
    /** Presses `key` (page.keyboard only) and checks that the focused element shows its focus. */
    const press = async (key) => {
      await page.keyboard.press(key);
      const focus = await focusShown(page);
      visited.push(focus.what);
      assert.ok(focus.shown, `after ${key} the focus on ${focus.what} does not show (${focus.outline})`);
      return focus;
    };
    /** Tabs (forward or with Shift) until `selector` has the focus. */
    const tabTo = async (selector, key = "Tab") => {
      for (let i = 0; i < 80; i++) {
        await press(key);
        if (await page.evaluate((s) => document.activeElement.matches(s), selector)) return;
      }
      assert.fail(`${key} never reached ${selector}; visited ${visited.join(", ")}`);
    };
    const settle = async () => {
      assert.equal(await waitForState(page, ["painted", "failed"]), "painted", await page.locator("#status").textContent());
      return JSON.parse(await page.locator("#result-json").textContent());
    };
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    // Choose the coffee sample: it paints with the task selected (depth).
    await tabTo('button[data-sample="samples/coffee.png"]');
    await press("Enter");
    const depth = await settle();
    assert.equal(depth.task, "depth");
    const coffee = await page.evaluate(async () => {
      const image = new Image();
      image.src = "samples/coffee.png";
      await image.decode();
      return [image.naturalWidth, image.naturalHeight];
    });
    assert.deepEqual([depth.width, depth.height], coffee, "the painting is of the chosen sample");

    // Pick the semantic task with the arrow keys on the task list (each step repaints).
    await tabTo("#task");
    await page.evaluate(() => { document.body.dataset.state = "choosing"; });
    await press("ArrowDown");
    await press("ArrowDown");
    assert.equal(await page.inputValue("#task"), "semantic");
    // Each step asked for a paint: wait for the last one, the semantic one.
    await page.waitForFunction(() => document.body.dataset.state === "painted" && JSON.parse(document.getElementById("result-json").textContent).task === "semantic", null, { timeout: SLOW, polling: 250 });
    // Through the builder's rows (their buttons too) to Paint, and paint.
    await tabTo("#paint");
    assert.ok(visited.some((w) => w.startsWith('button "Move class 1 down"')), `the builder's rows were not on the way: ${visited.join(", ")}`);
    await page.evaluate(() => { document.body.dataset.state = "choosing"; });
    await press("Enter");
    const semantic = await settle();
    assert.equal(semantic.task, "semantic");
    await assertPaintingShown(page);

    // Read the result: the picture takes the arrow keys, and a legend entry is a button.
    await tabTo("#overlay");
    const before = await page.locator("#readout").textContent();
    await press("ArrowRight");
    const readout = await page.locator("#readout").textContent();
    assert.notEqual(readout, before, "the cross-hair's value is read out");
    assert.match(readout, /^Here: /, readout);
    await tabTo('#summary [data-entry="1"]');
    await press("Enter");
    assert.equal(await page.locator('#summary [data-entry="1"]').getAttribute("aria-pressed"), "true");
    await press("Space");
    assert.equal(await page.locator('#summary [data-entry="1"]').getAttribute("aria-pressed"), "false");
    // And back up the page with Shift+Tab, the focus showing all the way.
    await tabTo("#paint", "Shift+Tab");
    await page.screenshot({ path: join(ARTIFACTS, "keyboard.png"), fullPage: true });
    console.log(`keyboard path: ${visited.length} keys, ${new Set(visited).size} controls`);
  });
});

/** The builder's rows as [word, colour] (colour null where the row has none). */
const rows = (page) =>
  page.$$eval("#builder-rows > li", (items) =>
    items.map((li) => [li.querySelector(".builder-word").value, li.querySelector(".builder-colour")?.value ?? null]));

const SEMANTIC = "Generate a semantic segmentation visualization image, using this color mapping:";

test("Prompt builder: rows write the prompt text and the text rebuilds the rows (round trip); a refused word's row offers the nearest known words", { timeout: 2 * SLOW }, async () => {
  await withPage({ webgpu: false, query: "?backend=cpu" }, async ({ page }) => {
    assert.equal(await waitForState(page, ["ready", "load-failed"]), "ready", await page.locator("#status").textContent());
    assert.ok(await page.locator("#prompt-builder").isHidden(), "depth has no rows");
    await page.selectOption("#task", "semantic");
    assert.ok(await page.locator("#prompt-builder").isVisible());
    // Text -> rows: the example prompt's classes, in order, in their colours.
    assert.deepEqual(await rows(page), [
      ["person", "#ff0000"], ["cat", "#ffa500"], ["sky", "#0000ff"], ["tree", "#00ff00"], ["building", "#ffff00"], ["table", "#ff00ff"],
    ]);

    // Rows -> text: a word typed, a colour picked, a row moved up, one removed, one added.
    await page.getByRole("textbox", { name: "Class 2", exact: true }).fill("dog");
    await page.getByLabel("Colour of class 1", { exact: true }).fill("#123456");
    await page.getByRole("button", { name: "Move class 3 up" }).click();
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), "Move class 2 up", "the focus moves with the row");
    await page.getByRole("button", { name: "Remove class 6" }).click();
    await page.getByRole("button", { name: "Add a class" }).click();
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), "Class 6", "the new row's word has the focus");
    await page.keyboard.type("cup");
    const edited = [["person", "#123456"], ["sky", "#0000ff"], ["dog", "#ffa500"], ["tree", "#00ff00"], ["building", "#ffff00"], ["cup", "#ff0000"]];
    assert.deepEqual(await rows(page), edited);
    const text = `${SEMANTIC} {"person": <18, 52, 86>, "sky": "blue", "dog": "orange", "tree": "lime", "building": "yellow", "cup": "red"}`;
    assert.equal(await page.inputValue("#prompt"), text);
    assert.ok(await page.locator("#builder-note").isHidden());

    // Text -> rows: another prompt typed in the text, then the rows' own text back.
    await page.fill("#prompt", `${SEMANTIC} {"road": "gray", "car": <1, 2, 3>}`);
    assert.deepEqual(await rows(page), [["road", "#808080"], ["car", "#010203"]]);
    await page.fill("#prompt", text);
    assert.deepEqual(await rows(page), edited, "rows -> text -> rows gives the same rows");
    // Text that does not parse leaves the rows and says why.
    await page.fill("#prompt", `${SEMANTIC} {"cat": "reddish"}`);
    assert.deepEqual(await rows(page), edited);
    assert.match(await page.locator("#builder-note").textContent(), /does not parse.*reddish/);
    await page.fill("#prompt", text);
    assert.ok(await page.locator("#builder-note").isHidden());

    // Referring: phrases and colours, and the background colour.
    await page.selectOption("#task", "referring");
    assert.deepEqual(await rows(page), [["The cat on the left", "#ff0000"], ["the cup", "#00ffff"]]);
    await page.getByLabel("Background colour").fill("#ffffff");
    assert.equal(await page.inputValue("#prompt"),
      "A segmentation map image. The area that corresponds to The cat on the left is rendered solid red; the area that corresponds to the cup is rendered solid aqua. Everything else is rendered solid white.");
    // Instance: the one class, no add, remove or move.
    await page.selectOption("#task", "instance");
    assert.deepEqual(await rows(page), [["person", null]]);
    assert.ok(await page.locator("#builder-add").isHidden());
    assert.equal(await page.locator("#builder-rows button").count(), 0);
    await page.getByRole("textbox", { name: "Class 1", exact: true }).fill("cup");
    assert.equal(await page.inputValue("#prompt"), "Generate an instance segmentation visualization of this image. Each cup is colored differently. Background is black.");

    // Back to semantic: the task kept its rows' text. A word the model does not know gets the
    // nearest known words beside its row; choosing one fixes the row and paints.
    await page.selectOption("#task", "semantic");
    assert.equal(await page.inputValue("#prompt"), text);
    assert.deepEqual(await rows(page), edited);
    await page.getByRole("textbox", { name: "Class 5", exact: true }).fill("buildng");
    await page.evaluate(() => { document.body.dataset.state = "uploading"; });
    await page.setInputFiles("#file-input", PHOTO);
    assert.equal(await waitForState(page, ["painted", "failed"]), "failed");
    const row = page.locator('#builder-rows > li[data-row="4"]');
    assert.equal(await row.locator(".builder-word").getAttribute("aria-invalid"), "true");
    const offered = await row.locator(".builder-suggest button").allTextContents();
    assert.ok(offered.includes("building"), `offered beside the row: ${offered}`);
    assert.equal(await page.locator('#builder-rows > li[data-row="3"] .builder-suggest button').count(), 0, "a known word's row offers nothing");
    await page.evaluate(() => { document.body.dataset.state = "uploading"; });
    await row.locator(".builder-suggest button", { hasText: /^building$/ }).click();
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), "Class 5", "the fixed row's word keeps the focus");
    assert.equal(await waitForState(page, ["painted", "failed"]), "painted", await page.locator("#status").textContent());
    assert.deepEqual((await rows(page))[4], ["building", "#ffff00"]);
    assert.equal(await page.inputValue("#prompt"), text);
    assert.equal(await page.locator("#builder-rows .builder-suggest button").count(), 0, "the offers go once the prompt paints");
    const result = JSON.parse(await page.locator("#result-json").textContent());
    assert.deepEqual(result.values.map((s) => s.name), ["person", "sky", "dog", "tree", "building", "cup"]);
    await page.locator("#prompt-builder").screenshot({ path: join(ARTIFACTS, "builder.png") });
  });
});
