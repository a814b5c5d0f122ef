// A static file server for the built page, bound to 127.0.0.1 only, that sends what a real static
// host sends: the precompressed `.br`/`.gz` sibling a client accepts (written by
// tests/precompress.mjs; `Content-Encoding`, `Vary`), long-lived caching for content-hashed names
// and revalidation (ETag, 304) for the rest.
// `node tests/serve.mjs DIR [PORT]` serves DIR and prints the URL; tests and the benchmark import `serve`.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { basename, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
  ".wasm": "application/wasm", ".css": "text/css", ".json": "application/json", ".png": "image/png",
  ".jpg": "image/jpeg", ".svg": "image/svg+xml", ".webmanifest": "application/manifest+json",
};

/** Precompressed siblings, in order of preference: [file suffix, Content-Encoding]. */
const ENCODINGS = [[".br", "br"], [".gz", "gzip"]];

/** Names that carry their content's hash (Trunk's `name-0123456789abcdef.ext`) never change. */
export function isContentHashed(file) {
  return /-[0-9a-f]{16}(_bg)?\.[a-z0-9]+$/.test(basename(file));
}

/** The page's Content-Security-Policy, sent with every response (it is the worker's policy too:
 * a worker follows its script's response header, not the page's <meta>). Keep in step with the
 * <meta> in index.html; the browser tests check the two are equal. */
export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' blob: data:; " +
  "connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

/** Whether `file` (already normalized) lies inside the folder `base`. */
export function inside(base, file) {
  return file === base || file.startsWith(base.endsWith(sep) ? base : base + sep);
}

/** The encodings a request's Accept-Encoding allows (q=0 refuses one). */
function accepted(header = "") {
  const allowed = new Set();
  for (const part of header.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    if (name && !(q && Number(q.slice(2)) === 0)) allowed.add(name);
  }
  return allowed;
}

/** The sibling to send for `file`: the first accepted encoding whose file is at least as new. */
async function pick(file, acceptEncoding) {
  const original = await stat(file);
  if (!original.isFile()) throw new Error("not a file");
  const allowed = accepted(acceptEncoding);
  for (const [suffix, encoding] of ENCODINGS) {
    if (!allowed.has(encoding)) continue;
    const sibling = await stat(file + suffix).catch(() => null);
    if (sibling?.isFile() && sibling.mtimeMs >= original.mtimeMs) return { path: file + suffix, encoding, info: sibling };
  }
  return { path: file, encoding: null, info: original };
}

/** Where the test server asks browsers to report CSP violations (`serve(..., { cspReports: true })`). */
export const CSP_REPORT_PATH = "/__csp-report";

/**
 * Serves `root`. `overrides` maps a URL path to replacement bytes (or null for a 404), sent as is
 * and never cached; `headers` are added to every response (the benchmark's cross-origin isolation);
 * `onSent({ path, status, bytes, encoding })` is told the body bytes of every response;
 * `delays` maps a URL path to milliseconds its response waits (a slow download). With
 * `cspReports`, the policy also names a report-uri and the violation reports browsers POST there
 * are kept in the returned `cspReports` array: the only way a test sees a violation *inside the
 * worker* (its policy is the header; its console messages and events stay in the worker).
 */
export function serve(root, { port = 0, overrides = {}, headers = {}, onSent = () => {}, delays = {}, cspReports = false } = {}) {
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
    let path = request.url;
    const send = (status, head, body) => {
      response.writeHead(status, { "content-security-policy": policy, ...headers, ...head });
      response.end(body);
      onSent({ path, status, bytes: body?.length ?? 0, encoding: head["content-encoding"] ?? null });
    };
    try {
      path = decodeURIComponent(new URL(request.url, "http://127.0.0.1").pathname);
      if (path.includes("\0")) throw new Error("NUL in the path");
      const file = normalize(join(base, path.endsWith("/") ? path + "index.html" : path));
      // `startsWith(base)` alone let /..%2fdist2/x through to a sibling folder dist2/.
      if (!inside(base, file)) throw new Error("outside the served folder");
      const common = {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
      };
      if (path in overrides) {
        if (overrides[path] === null) throw new Error("removed for this test");
        return send(200, { ...common, "cache-control": "no-store" }, overrides[path]);
      }
      if (delays[path]) await new Promise((wake) => setTimeout(wake, delays[path]));
      const chosen = await pick(file, request.headers["accept-encoding"]);
      const etag = `"${chosen.info.size.toString(36)}-${Math.floor(chosen.info.mtimeMs).toString(36)}${chosen.encoding ? "-" + chosen.encoding : ""}"`;
      const head = {
        ...common,
        "cache-control": isContentHashed(file) ? "public, max-age=31536000, immutable" : "no-cache",
        etag, vary: "Accept-Encoding",
        ...(chosen.encoding ? { "content-encoding": chosen.encoding } : {}),
      };
      if (request.headers["if-none-match"]?.split(",").map((t) => t.trim()).includes(etag)) return send(304, head);
      send(200, head, await readFile(chosen.path));
    } catch {
      send(404, { "content-type": "text/plain" }, Buffer.from("not found"));
    }
  });
  return new Promise((ready) => {
    server.listen(port, "127.0.0.1", () => {
      const url = `http://127.0.0.1:${server.address().port}/`;
      ready({ url, cspReports: reports, close: () => new Promise((done) => { server.closeAllConnections?.(); server.close(done); }) });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [root = "dist", port = "8080"] = process.argv.slice(2);
  const { url } = await serve(root, { port: Number(port) });
  console.log(`Peel is served at ${url}  (Ctrl-C to stop)`);
}
