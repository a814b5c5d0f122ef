// Assembles dist/ from the two wasm-bindgen outputs and index.html (run by scripts/build-web.sh).
//   node scripts/assemble-page.mjs STAGE DIST
// STAGE holds peel-app.js / peel-app_bg.wasm (wasm-bindgen --target web) and peel-worker.js /
// peel-worker_bg.wasm (--target no-modules). index.html names what else ships with
// `<link data-build="css|copy-file|copy-dir" href="...">`; those links are replaced by what the
// browser needs (the hashed stylesheet, the page's wasm preloads and its start script), so dist/
// holds no inline script and the Content-Security-Policy can forbid it. The page's files are named
// by a hash of their content (a host may cache them forever); the worker's names are fixed
// because static/worker-loader.js loads them.
import { createHash } from "node:crypto";
import { copyFile, cp, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";

const [stage, dist] = process.argv.slice(2);
if (!stage || !dist) throw new Error("usage: node scripts/assemble-page.mjs STAGE DIST");

const digest = (bytes, algorithm = "sha256") => createHash(algorithm).update(bytes).digest();
const hashed = (name, bytes) => `${basename(name, extname(name))}-${digest(bytes).toString("hex").slice(0, 16)}${extname(name)}`;
const integrity = (bytes) => `sha384-${digest(bytes, "sha384").toString("base64")}`;

const tmp = `${dist}.tmp`;
await rm(tmp, { recursive: true, force: true });
await mkdir(tmp, { recursive: true });

// The page's wasm and its glue, renamed by the wasm's hash (the glue names the wasm only through
// the start script's `module_or_path`, so renaming both is safe).
const appWasm = await readFile(join(stage, "peel-app_bg.wasm"));
const appBase = `peel-app-${digest(appWasm).toString("hex").slice(0, 16)}`;
const appJs = await readFile(join(stage, "peel-app.js"));
await writeFile(join(tmp, `${appBase}_bg.wasm`), appWasm);
await writeFile(join(tmp, `${appBase}.js`), appJs);
const start = `import init, * as bindings from "./${appBase}.js";
const wasm = await init({ module_or_path: "./${appBase}_bg.wasm" });
window.wasmBindings = bindings;
dispatchEvent(new CustomEvent("PeelApplicationStarted", { detail: { wasm } }));
`;
const startName = hashed("peel-start.js", start);
await writeFile(join(tmp, startName), start);
for (const name of ["peel-worker.js", "peel-worker_bg.wasm"]) await copyFile(join(stage, name), join(tmp, name));

let html = await readFile("index.html", "utf8");
const head = [];
for (const match of html.matchAll(/^[ \t]*<link data-build="([a-z-]+)" href="([^"]+)">\n/gm)) {
  const [line, kind, href] = match;
  if (kind === "css") {
    const bytes = await readFile(href);
    const name = hashed(href, bytes);
    await writeFile(join(tmp, name), bytes);
    head.push(`<link rel="stylesheet" href="./${name}" integrity="${integrity(bytes)}">`);
  } else if (kind === "copy-file") {
    await copyFile(href, join(tmp, basename(href)));
  } else if (kind === "copy-dir") {
    await cp(href, join(tmp, basename(href)), { recursive: true });
  } else {
    throw new Error(`index.html: unknown data-build="${kind}"`);
  }
  html = html.replace(line, "");
}
head.push(
  `<link rel="modulepreload" href="./${appBase}.js" crossorigin="anonymous" integrity="${integrity(appJs)}">`,
  `<link rel="preload" href="./${appBase}_bg.wasm" crossorigin="anonymous" integrity="${integrity(appWasm)}" as="fetch" type="application/wasm">`,
  `<script type="module" src="./${startName}"></script>`,
);
if (!html.includes("</head>")) throw new Error("index.html has no </head>");
html = html.replace("</head>", `${head.map((l) => `  ${l}\n`).join("")}</head>`);
if (/data-build=/.test(html)) throw new Error("index.html: a data-build link was not understood (one per line, as written above)");
await writeFile(join(tmp, "index.html"), html);

await rm(dist, { recursive: true, force: true });
await rename(tmp, dist);
console.log(`assemble-page: ${dist}/ with ${appBase}, ${startName} and the worker`);
