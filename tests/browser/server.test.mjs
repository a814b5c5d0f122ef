// The static server (tests/serve.mjs, used by scripts/serve.sh): it serves only what is inside its
// folder, survives malformed paths, sends the Content-Security-Policy, and sends precompressed
// siblings and cache headers as a static host does. No browser needed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { mkdtemp, mkdir, writeFile, readFile, rm, utimes } from "node:fs/promises";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
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
  // An app file with precompressed siblings (as tests/precompress.mjs writes them), a content-hashed one.
  await writeFile(join(root, "dist", "app.js"), "x".repeat(4000));
  await writeFile(join(root, "dist", "app.js.br"), (await import("node:zlib")).brotliCompressSync("x".repeat(4000)));
  await writeFile(join(root, "dist", "app.js.gz"), (await import("node:zlib")).gzipSync("x".repeat(4000)));
  await writeFile(join(root, "dist", "peel-app-0123456789abcdef_bg.wasm"), "wasm");
  // A stale sibling: older than its file, so it must not be sent.
  await writeFile(join(root, "dist", "stale.json"), '{"new": true}');
  await writeFile(join(root, "dist", "stale.json.gz"), (await import("node:zlib")).gzipSync('{"old": true}'));
  await utimes(join(root, "dist", "stale.json.gz"), new Date(2000, 1, 1), new Date(2000, 1, 1));
  server = await serve(join(root, "dist"));
});
after(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

/** A request with the path sent exactly as given (no client-side normalisation). */
function get(path, { url = server.url, method = "GET", body, headers = {} } = {}) {
  const { port } = new URL(url);
  return new Promise((done, fail) => {
    const req = request({ host: "127.0.0.1", port, path, method, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const raw = Buffer.concat(chunks);
        done({ status: res.statusCode, body: raw.toString("latin1"), raw, headers: res.headers });
      });
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

test("sends the precompressed sibling the client accepts, with Content-Encoding and Vary", async () => {
  const br = await get("/app.js", { headers: { "accept-encoding": "gzip, deflate, br, zstd" } });
  assert.equal(br.headers["content-encoding"], "br");
  assert.equal(br.headers["content-type"], "text/javascript");
  assert.equal(br.headers.vary, "Accept-Encoding");
  assert.equal(brotliDecompressSync(br.raw).toString(), "x".repeat(4000));
  const gz = await get("/app.js", { headers: { "accept-encoding": "gzip" } });
  assert.equal(gz.headers["content-encoding"], "gzip");
  assert.equal(gunzipSync(gz.raw).toString(), "x".repeat(4000));
  const refused = await get("/app.js", { headers: { "accept-encoding": "br;q=0, gzip;q=0" } });
  assert.equal(refused.headers["content-encoding"], undefined);
  assert.equal(refused.body, "x".repeat(4000));
  const plain = await get("/app.js");
  assert.equal(plain.headers["content-encoding"], undefined);
  assert.equal(plain.body, "x".repeat(4000));
  // A sibling older than its file is stale: the file itself goes out.
  const stale = await get("/stale.json", { headers: { "accept-encoding": "gzip, br" } });
  assert.equal(stale.headers["content-encoding"], undefined);
  assert.equal(stale.body, '{"new": true}');
});

test("content-hashed files are cached for a year; the rest revalidate (ETag, 304)", async () => {
  const hashed = await get("/peel-app-0123456789abcdef_bg.wasm");
  assert.equal(hashed.headers["cache-control"], "public, max-age=31536000, immutable");
  assert.equal(hashed.headers["content-type"], "application/wasm");
  const page = await get("/", { headers: { "accept-encoding": "br" } });
  assert.equal(page.headers["cache-control"], "no-cache");
  assert.ok(page.headers.etag);
  const again = await get("/", { headers: { "accept-encoding": "br", "if-none-match": page.headers.etag } });
  assert.equal(again.status, 304);
  assert.equal(again.raw.length, 0);
  // Each encoding has its own ETag, so a cached gzip body is never taken for the brotli one.
  const br = await get("/app.js", { headers: { "accept-encoding": "br" } });
  const gz = await get("/app.js", { headers: { "accept-encoding": "gzip" } });
  assert.notEqual(br.headers.etag, gz.headers.etag);
  assert.equal((await get("/app.js", { headers: { "accept-encoding": "gzip", "if-none-match": br.headers.etag } })).status, 200);
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
