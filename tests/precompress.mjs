// Writes FILE.br (brotli, quality 11) and FILE.gz (gzip -9) beside every compressible file under a
// folder, as a static host would serve them (tests/serve.mjs picks the one a browser accepts).
// Quality 11 costs about 2.6 s of CPU per MB of wasm; on 4 MB of the worker wasm it gave 511 KB
// against 583 KB at quality 9 and 732 KB for gzip -9.
// `node tests/precompress.mjs DIR` (scripts/build-web.sh runs it on dist/); prints raw, gzip and
// brotli bytes per file and in total. A sibling that would not save at least 5 % is not written.
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, extname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompress, constants, gzip } from "node:zlib";
import { promisify } from "node:util";

// Images are compressed already; .br/.gz are our own output.
const SKIP = new Set([".png", ".jpg", ".jpeg", ".webp", ".gif", ".avif", ".br", ".gz", ".map"]);
const MIN_SIZE = 1024;

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

// scripts/build-web.sh rewrites dist/ on every build, so the worker wasm (33 MB, about 90 s of brotli) would be
// compressed again after an edit to the page alone: keep the results by content hash.
const CACHE = join(resolve(process.env.CARGO_TARGET_DIR ?? join(dirname(fileURLToPath(import.meta.url)), "..", "target")), "precompress-cache");
const CACHE_FROM = 64 * 1024;

async function compressCached(bytes, options) {
  if (bytes.length < CACHE_FROM) return compress(bytes, options);
  const key = join(CACHE, createHash("sha256").update(bytes).update(options.text ? "text" : "generic").digest("hex"));
  try {
    const [gzipped, br] = await Promise.all([readFile(`${key}.gz`), readFile(`${key}.br`)]);
    return { gzip: gzipped, br };
  } catch {
    const packed = await compress(bytes, options);
    await mkdir(CACHE, { recursive: true });
    // Written under a temporary name and renamed, so that an interrupted build leaves no half file.
    for (const [suffix, data] of [[".gz", packed.gzip], [".br", packed.br]]) {
      await writeFile(`${key}${suffix}.tmp`, data);
      await rename(`${key}${suffix}.tmp`, `${key}${suffix}`);
    }
    return packed;
  }
}

/** Both compressed forms of `bytes`: { gzip, br } (Buffers). */
export async function compress(bytes, { text = false } = {}) {
  const [gzipped, br] = await Promise.all([
    gz(bytes, { level: 9 }),
    brotli(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_LGWIN]: 24,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        [constants.BROTLI_PARAM_MODE]: text ? constants.BROTLI_MODE_TEXT : constants.BROTLI_MODE_GENERIC,
      },
    }),
  ]);
  return { gzip: gzipped, br };
}

async function* files(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

/** Precompresses every file under `dir`; returns [{ file, raw, gzip, br }] (bytes; null = not written). */
export async function precompress(dir) {
  const rows = [];
  const all = [];
  for await (const file of files(dir)) all.push(file);
  // Two at a time (zlib runs on Node's thread pool): the build machine has two cores.
  const queue = [...all];
  await Promise.all([0, 1].map(async () => {
    for (let file = queue.shift(); file; file = queue.shift()) await one(file);
  }));
  return rows.sort((a, b) => a.file.localeCompare(b.file));

  async function one(file) {
    const ext = extname(file).toLowerCase();
    if (SKIP.has(ext)) return;
    const info = await stat(file);
    if (info.size < MIN_SIZE) return;
    // Siblings newer than the file are current (a file that did not pay is compressed again).
    const siblings = await Promise.all([".gz", ".br"].map((s) => stat(file + s).catch(() => null)));
    if (siblings.every((s) => s && s.mtimeMs >= info.mtimeMs)) {
      rows.push({ file: relative(dir, file), raw: info.size, gzip: siblings[0].size, br: siblings[1].size });
      return;
    }
    const bytes = await readFile(file);
    const packed = await compressCached(bytes, { text: [".html", ".js", ".mjs", ".css", ".json", ".svg"].includes(ext) });
    const row = { file: relative(dir, file), raw: bytes.length, gzip: null, br: null };
    for (const [suffix, key, data] of [[".gz", "gzip", packed.gzip], [".br", "br", packed.br]]) {
      if (data.length <= 0.95 * bytes.length) {
        await writeFile(file + suffix, data);
        row[key] = data.length;
      } else {
        await unlink(file + suffix).catch(() => {});
      }
    }
    rows.push(row);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? "dist";
  if (!(await stat(dir)).isDirectory()) throw new Error(`${dir} is not a folder`);
  const rows = await precompress(dir);
  const total = { raw: 0, gzip: 0, br: 0 };
  for (const r of rows) {
    console.log(`${r.file.padEnd(44)} ${String(r.raw).padStart(10)} raw ${String(r.gzip ?? "-").padStart(10)} gzip ${String(r.br ?? "-").padStart(10)} br`);
    total.raw += r.raw; total.gzip += r.gzip ?? r.raw; total.br += r.br ?? r.gzip ?? r.raw;
  }
  console.log(`${"total (compressible files)".padEnd(44)} ${String(total.raw).padStart(10)} raw ${String(total.gzip).padStart(10)} gzip ${String(total.br).padStart(10)} br`);
}
