// After `trunk build`: moves the inline <script> blocks Trunk writes into dist/index.html out into
// files, so that the Content-Security-Policy can forbid inline script (`script-src 'self'`).
// `node scripts/csp-postbuild.mjs dist` (run by scripts/build-web.sh). Fails if the page still has
// inline script or an inline style attribute afterwards, or lacks the policy <meta>.
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

const dist = process.argv[2] ?? "dist";
const page = join(dist, "index.html");
let html = await readFile(page, "utf8");
const files = [];
html = html.replace(/<script(\s[^>]*)?>([\s\S]*?)<\/script>/g, (whole, attrs = "", body) => {
  if (/\ssrc=/.test(attrs) || body.trim() === "") return whole;
  const name = `inline-${createHash("sha256").update(body).digest("hex").slice(0, 16)}.js`;
  files.push(writeFile(join(dist, name), body));
  return `<script${attrs} src="./${name}"></script>`;
});
await Promise.all(files);
const moved = files.length;
const leftover = [...html.matchAll(/<script(\s[^>]*)?>([\s\S]*?)<\/script>/g)].filter((m) => !/\ssrc=/.test(m[1] ?? "") && m[2].trim());
if (leftover.length) throw new Error(`inline script left in ${page}`);
if (/\sstyle=/.test(html)) throw new Error(`inline style attribute in ${page}`);
if (!/<meta http-equiv="Content-Security-Policy"/.test(html)) throw new Error(`${page} has no Content-Security-Policy <meta>`);
await writeFile(page, html);
console.log(`csp-postbuild: moved ${moved} inline script(s) out of ${page}`);
