// After scripts/assemble-page.mjs: writes the build's file list into dist/sw.js (see static/sw.js), so that the
// service worker caches the whole app on its first visit and each build installs a new one.
// `node scripts/offline-postbuild.mjs dist` (run by scripts/build-web.sh, after csp-postbuild).
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

const dist = process.argv[2] ?? "dist";
const names = (await readdir(dist)).filter((n) => /\.(html|js|wasm|css|webmanifest|png)$/.test(n) && n !== "sw.js");
// The weights themselves stay with the model worker's cache; the manifest says which to use.
const assets = ["./", ...names.filter((n) => n !== "index.html").map((n) => `./${n}`), "./weights/manifest.json"].sort();
const path = join(dist, "sw.js");
const source = await readFile(path, "utf8");
const placeholder = "const ASSETS = [];";
if (!source.includes(placeholder)) throw new Error(`${path} lacks "${placeholder}"`);
await writeFile(path, source.replace(placeholder, `const ASSETS = ${JSON.stringify(assets)};`));
console.log(`offline-postbuild: ${assets.length} files for the service worker to keep`);
