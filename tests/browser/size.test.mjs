// Everything a first visit downloads before its first painting (html, js, css, both wasm modules,
// manifest, weights, the core phrase table), brotli-compressed as tests/serve.mjs sends it, stays
// under 6 MB (issue 33). The whole phrase table and the segmentation network follow the first painting.
// Needs the built, precompressed dist/ (scripts/build-web.sh). No browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { firstVisitFiles } from "../first-visit.mjs";

const DIST = process.env.PEEL_DIST ?? join(dirname(fileURLToPath(import.meta.url)), "..", "..", "dist");
const LIMIT = 6_000_000;

test("a first visit downloads at most 6 MB, compressed, before its first painting", async () => {
  let total = 0;
  const lines = [];
  for (const [kind, files] of Object.entries(await firstVisitFiles(DIST))) {
    // An empty group would add 0 bytes and pass: every kind must be there.
    assert.ok(files.length > 0, `no ${kind} files in ${DIST}`);
    let bytes = 0;
    for (const f of files) {
      const path = join(DIST, f);
      // The brotli sibling when it exists (and is current), else the file as it is.
      const [raw, br] = await Promise.all([stat(path), stat(path + ".br").catch(() => null)]);
      bytes += br && br.mtimeMs >= raw.mtimeMs ? br.size : raw.size;
    }
    assert.ok(bytes > 0, `the ${kind} files (${files.join(", ")}) are empty`);
    lines.push(`${kind}: ${(bytes / 1e6).toFixed(2)} MB`);
    total += bytes;
  }
  console.log(`first visit, compressed: ${(total / 1e6).toFixed(2)} MB (${lines.join(", ")})`);
  assert.ok(total <= LIMIT, `a first visit downloads ${(total / 1e6).toFixed(2)} MB compressed; the limit is 6 MB (${lines.join(", ")})`);
});
