// A static file server for the built page, bound to 127.0.0.1 only.
// `node tests/serve.mjs DIR [PORT]` serves DIR and prints the URL; tests import `serve`.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
  ".wasm": "application/wasm", ".css": "text/css", ".json": "application/json", ".png": "image/png",
  ".jpg": "image/jpeg", ".svg": "image/svg+xml", ".webmanifest": "application/manifest+json",
};

/** The page's Content-Security-Policy, sent with every response (it is the worker's policy too:
 * a worker follows its script's response header, not the page's <meta>). Keep in step with the
 * <meta> in index.html; the browser tests check the two are equal. */
export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' blob: data:; " +
  "connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

/** Whether `file` (already normalized) lies inside the folder `base`. */
export function inside(base, file) {
  return file === base || file.startsWith(base.endsWith(sep) ? base : base + sep);
}

/** Where the test server asks browsers to report CSP violations (`serve(..., { cspReports: true })`). */
export const CSP_REPORT_PATH = "/__csp-report";

/** Serves `root`; `overrides` maps a URL path to replacement bytes (or null for a 404). With
 * `cspReports`, the policy also names a report-uri and the violation reports browsers POST there
 * are kept in the returned `cspReports` array: the only way a test sees a violation *inside the
 * worker* (its policy is the header; its console messages and events stay in the worker). */
export function serve(root, { port = 0, overrides = {}, cspReports = false } = {}) {
  const base = resolve(root);
  const reports = cspReports ? [] : undefined;
  const policy = cspReports ? `${CSP}; report-uri ${CSP_REPORT_PATH}` : CSP;
  const server = createServer(async (request, response) => {
    if (reports && request.method === "POST" && request.url === CSP_REPORT_PATH) {
      const chunks = [];
      request.on("data", (chunk) => chunks.push(chunk));
      request.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        try {
          reports.push(JSON.parse(text)["csp-report"] ?? text);
        } catch {
          reports.push(text);
        }
        response.writeHead(204).end();
      });
      return;
    }
    try {
      const path = decodeURIComponent(new URL(request.url, "http://127.0.0.1").pathname);
      if (path.includes("\0")) throw new Error("NUL in the path");
      const file = normalize(join(base, path.endsWith("/") ? path + "index.html" : path));
      // `startsWith(base)` alone let /..%2fdist2/x through to a sibling folder dist2/.
      if (!inside(base, file)) throw new Error("outside the served folder");
      let body;
      if (path in overrides) {
        if (overrides[path] === null) throw new Error("removed for this test");
        body = overrides[path];
      } else {
        body = await readFile(file);
      }
      response.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store",
        "content-security-policy": policy, "x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
      });
      response.end(body);
    } catch {
      response.writeHead(404, { "content-type": "text/plain", "content-security-policy": policy });
      response.end("not found");
    }
  });
  return new Promise((ready) => {
    server.listen(port, "127.0.0.1", () => {
      const url = `http://127.0.0.1:${server.address().port}/`;
      ready({ url, cspReports: reports, close: () => new Promise((done) => server.close(done)) });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [root = "dist", port = "8080"] = process.argv.slice(2);
  const { url } = await serve(root, { port: Number(port) });
  console.log(`Peel is served at ${url}  (Ctrl-C to stop)`);
}
