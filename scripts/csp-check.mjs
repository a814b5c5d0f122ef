// Checks that dist/index.html can live under its own Content-Security-Policy, which forbids
// inline script (`script-src 'self'`) and inline style: fails if the page has either, or lacks
// the policy <meta>. `node scripts/csp-check.mjs dist` (run by scripts/build-web.sh).
import { readFile } from "node:fs/promises";
import { join } from "node:path";

const page = join(process.argv[2] ?? "dist", "index.html");
const html = await readFile(page, "utf8");
const inline = [...html.matchAll(/<script(\s[^>]*)?>([\s\S]*?)<\/script>/g)].filter((m) => !/\ssrc=/.test(m[1] ?? "") || m[2].trim());
if (inline.length) throw new Error(`inline script in ${page}: ${inline[0][0].slice(0, 120)}`);
if (/\sstyle=/.test(html)) throw new Error(`inline style attribute in ${page}`);
if (/<style[\s>]/.test(html)) throw new Error(`inline <style> element in ${page}`);
if (!/<meta http-equiv="Content-Security-Policy"/.test(html)) throw new Error(`${page} has no Content-Security-Policy <meta>`);
console.log(`csp-check: ${page} has no inline script or style`);
