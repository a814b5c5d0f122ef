// The Content-Security-Policy: the header and the <meta> in force, an injected inline script
// blocked and seen by the harness (what makes every test's assertClean able to fail).
import { test } from "node:test";
import assert from "node:assert/strict";
import { CSP, CSP_REPORT_PATH } from "../serve.mjs";
import { SLOW, serveDist, withPage, cspReports, waitForState, uploadAndRead, paintTask, assertSensibleDepth, assertPaintingShown } from "./page.mjs";

serveDist();

test("CSP: the header and <meta> are in force (inline script is blocked and reported), and a full paint violates nothing", { timeout: 2 * SLOW }, async () => {
  await withPage({ webgpu: false, query: "?backend=cpu" }, async (ctx) => {
    const { page, response } = ctx;
    // The test server adds a report-uri to the policy (the <meta> cannot carry one).
    assert.equal(response.headers()["content-security-policy"], `${CSP}; report-uri ${CSP_REPORT_PATH}`);
    assert.equal(await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content", { timeout: 1000 }), CSP);
    await waitForState(page, ["ready"]);
    // An injected inline script must not run, and the violation must be seen by this harness:
    // this is what makes the assertClean() of every test able to fail.
    const ran = await page.evaluate(async () => {
      const script = document.createElement("script");
      script.textContent = "window.__inlineRan = true";
      document.head.append(script);
      await new Promise((done) => setTimeout(done, 200));
      return window.__inlineRan === true;
    });
    assert.equal(ran, false, "inline script ran despite the CSP");
    await page.waitForTimeout(300);
    assert.ok(ctx.violations.some((v) => /script-src/.test(v)), `the blocked inline script was not seen: ${ctx.violations}`);
    const reports = await cspReports(ctx);
    assert.ok(reports.some((r) => /^report: script-src-elem blocked inline/.test(r)), `the blocked inline script was not reported: ${reports}`);
    ctx.violations.length = 0;
    ctx.reportsFrom = ctx.reports.length;
    assertSensibleDepth(await uploadAndRead(page));
    // Named with the background, so the painting is not all table (most of coffee.png is the table).
    await paintTask(page, "semantic", 'Generate a semantic segmentation visualization image, using this color mapping: {"cup": "red", "table": "blue", "background": "black"}');
    await assertPaintingShown(page);
  });
});
