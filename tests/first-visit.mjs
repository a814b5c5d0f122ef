// What a first visit to the page downloads (the photo aside), by kind: used by the size test
// (tests/browser/size.test.mjs) and the benchmark (bench/bench.mjs).
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

export async function firstVisitFiles(dist) {
  const names = await readdir(dist);
  const manifest = JSON.parse(await readFile(join(dist, "weights", "manifest.json"), "utf8"));
  return {
    "page wasm": names.filter((n) => /^peel-app-.*_bg\.wasm$/.test(n)),
    "worker wasm": ["peel-worker_bg.wasm"],
    "JS, HTML, CSS": names.filter((n) => /\.(js|css|html)$/.test(n)),
    // The main network and the core phrase table; the whole table and the task networks (the
    // segmentation network) follow the first painting, a depth map (weights/manifest.json).
    "weights, core phrases, manifest": ["weights/manifest.json", `weights/${manifest.weights_file}`,
      `weights/${manifest.core_phrases?.file ?? manifest.phrases_file}`],
  };
}
