// `npm test`: the browser suite (node --test, one file at a time), then a summary that names every failed
// test with its file, printed last so that it is what a truncated CI log still shows. A file with a failed
// test runs once more: a test that fails twice fails the suite; one that passes the second time is reported
// as flaky, by name, and does not.
import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const BROWSER = join(HERE, "browser");

/** Runs node --test on `files`, echoing its TAP; resolves to { code, failed: [{ name, file }] }. */
function run(files) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--test", "--test-concurrency=1", "--test-reporter=tap", ...files], {
      cwd: HERE,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const failed = [];
    let pending = null; // a top-level "not ok" whose location has not been read yet
    let rest = "";
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      const lines = (rest + chunk).split("\n");
      rest = lines.pop();
      for (const line of lines) {
        const fail = /^not ok \d+ - (.*)$/.exec(line);
        if (fail) {
          pending = { name: fail[1], file: null };
          failed.push(pending);
          continue;
        }
        const at = pending && /^\s+location: '(.*?):\d+:\d+'$/.exec(line);
        if (at) {
          pending.file = relative(HERE, at[1]);
          pending = null;
        }
      }
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, failed }));
  });
}

// `node run-suite.mjs [FILE ...]`: the named test files, or every browser/*.test.mjs.
const files = process.argv.length > 2
  ? process.argv.slice(2)
  : (await readdir(BROWSER)).filter((f) => f.endsWith(".test.mjs")).sort().map((f) => join("browser", f));
const first = await run(files);
if (first.code === 0) process.exit(0);

const named = first.failed.filter((f) => f.file);
// A failure outside any test (a file that does not load, a crash) or one without a location: no rerun.
if (named.length === 0 || named.length < first.failed.length) {
  console.error(`\nbrowser suite FAILED (exit ${first.code}): ${first.failed.map((f) => `"${f.name}" (${f.file ?? "no location"})`).join("; ") || "no test named"}`);
  process.exit(1);
}
const again = [...new Set(named.map((f) => f.file))];
console.error(`\nbrowser suite: ${named.length} failed: ${named.map((f) => `"${f.name}" (${f.file})`).join("; ")}. Running ${again.join(", ")} again.`);
const second = await run(again);
if (second.code === 0) {
  console.error(`\nbrowser suite passed; FLAKY (failed once, then passed): ${named.map((f) => `"${f.name}" (${f.file})`).join("; ")}`);
  process.exit(0);
}
console.error(`\nbrowser suite FAILED twice: ${second.failed.map((f) => `"${f.name}" (${f.file ?? "no location"})`).join("; ") || `exit ${second.code}`}`);
process.exit(1);
