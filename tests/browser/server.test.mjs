// The static server (tests/serve.mjs, used by scripts/serve.sh): it serves only what is inside its
// folder, survives malformed paths, and sends the Content-Security-Policy. No browser needed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { mkdtemp, mkdir, writeFile, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { serve, CSP, CSP_REPORT_PATH } from "../serve.mjs";

let root, server;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "peel-serve-"));
  await mkdir(join(root, "dist", "weights"), { recursive: true });
  await mkdir(join(root, "dist2"));
  await writeFile(join(root, "dist", "index.html"), "<p>page</p>");
  await writeFile(join(root, "dist", "weights", "w.bin"), "weights");
  await writeFile(join(root, "dist2", "x"), "SECRET sibling");
  await writeFile(join(root, "secret.txt"), "SECRET parent");
  server = await serve(join(root, "dist"));
});
after(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

/** GET (or `method` with `body`) with the path sent exactly as given (no client-side normalisation). */
function get(path, { url = server.url, method = "GET", body } = {}) {
  const { port } = new URL(url);
  return new Promise((done, fail) => {
    const req = request({ host: "127.0.0.1", port, path, method }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => done({ status: res.statusCode, body, headers: res.headers }));
    });
    req.on("error", fail);
    req.end(body);
  });
}

test("serves the folder's files with the CSP header", async () => {
  const page = await get("/");
  assert.equal(page.status, 200);
  assert.equal(page.body, "<p>page</p>");
  assert.equal(page.headers["content-security-policy"], CSP);
  assert.equal((await get("/weights/w.bin")).body, "weights");
});

test("refuses every path outside the folder", async () => {
  for (const path of [
    "/..%2fdist2/x", "/../dist2/x", "/..%2f..%2fsecret.txt", "/%2e%2e/secret.txt", "/%2e%2e%2fdist2%2fx",
    "/weights/..%2f..%2fdist2/x", "/..%5cdist2%5cx", "/%00", "/index.html%00.png", "/%E0%A4%A",
  ]) {
    const res = await get(path);
    assert.equal(res.status, 404, `${path} gave ${res.status}: ${res.body}`);
    assert.doesNotMatch(res.body, /SECRET/, path);
  }
  // Dot segments that the URL parser resolves stay at the root: the page, nothing outside.
  for (const path of ["/..", "/%2e%2e", "/../../"]) assert.equal((await get(path)).body, "<p>page</p>", path);
  // The server is still up after the malformed ones.
  assert.equal((await get("/")).status, 200);
});

test("index.html's CSP <meta> equals the header", async () => {
  const html = await readFile(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "index.html"), "utf8");
  const meta = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/);
  assert.ok(meta, "index.html has a CSP <meta>");
  assert.equal(meta[1], CSP);
  for (const directive of ["default-src 'self'", "connect-src 'self'", "img-src 'self' blob: data:"]) assert.ok(CSP.includes(directive), directive);
  assert.doesNotMatch(CSP, /'unsafe-inline'|'unsafe-eval'|\*/);
});

test("with cspReports, the policy names a report-uri and the reports POSTed there are kept", async () => {
  // The plain server (scripts/serve.sh) has no report endpoint: a POST there is a 404.
  assert.equal((await get(CSP_REPORT_PATH, { method: "POST", body: "{}" })).status, 404);
  const reporting = await serve(join(root, "dist"), { cspReports: true });
  try {
    const page = await get("/", { url: reporting.url });
    assert.equal(page.headers["content-security-policy"], `${CSP}; report-uri ${CSP_REPORT_PATH}`);
    const report = { "csp-report": { "effective-directive": "script-src", "blocked-uri": "eval" } };
    assert.equal((await get(CSP_REPORT_PATH, { url: reporting.url, method: "POST", body: JSON.stringify(report) })).status, 204);
    assert.deepEqual(reporting.cspReports, [report["csp-report"]]);
  } finally {
    await reporting.close();
  }
});
