#!/usr/bin/env python3
"""Runs `peel` on every case of the bad-input corpus (tests/corpus/make_corpus.py) and checks it.

    python tests/corpus/run_corpus.py --peel target/debug/peel --corpus target/bad-input [--report FILE.md [--page PAGE.md]]

For each case the rule of issue 10: a correct result (exit 0, JSON on stdout, the expected size;
for `same_as`, the same painting pixel for pixel), or exit code 2 with exactly ONE stderr line
`peel: ...` matching the expected message, and no panic; within 60 s of wall time and 2 GB of
memory. Memory is capped with RLIMIT_AS = 4 GiB (so a runaway allocation fails instead of
swapping the machine) and the peak resident set (getrusage's ru_maxrss of the child) must stay
under 2 GiB. Prints a table and exits 1 if any case fails.
"""

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIME_LIMIT_S = 60
RSS_LIMIT = 2 << 30
AS_LIMIT = 4 << 30


def limit_child():
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_one(peel: str, args: list[str]):
    """Runs peel; returns (exit code or None if killed, stdout, stderr, seconds, peak RSS bytes)."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([peel, *args], stdout=out, stderr=err, preexec_fn=limit_child, env={**os.environ, "RUST_BACKTRACE": "0"})
        killed = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > TIME_LIMIT_S:
                proc.send_signal(signal.SIGKILL)
                killed = True
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        code = None if killed else proc.returncode
        return code, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"), seconds, usage.ru_maxrss * 1024


def check(case, code, stdout, stderr, seconds, rss, outputs):
    """Returns (ok, what happened) for one case."""
    if code is None:
        return False, f"killed after {TIME_LIMIT_S} s"
    if seconds > TIME_LIMIT_S:
        return False, f"took {seconds:.1f} s"
    if rss > RSS_LIMIT:
        return False, f"peak memory {rss / 2**20:.0f} MiB over 2 GiB"
    if "panicked" in stderr or code not in (0, 2):
        return False, f"exit {code}: {stderr.strip()[:200]}"
    if case["expect"] == "error":
        lines = stderr.splitlines()
        if code != 2:
            return False, f"exit {code}, expected 2 ({case['message']}); stdout {stdout.strip()[:120]}"
        if len(lines) != 1 or not lines[0].startswith("peel: "):
            return False, f"{len(lines)} stderr lines: {stderr[:300]!r}"
        if not re.search(case["message"], lines[0]):
            return False, f"message {lines[0]!r} does not match {case['message']!r}"
        return True, f"exit 2: {lines[0]}"
    if code != 0:
        return False, f"exit {code}: {stderr.strip()}"
    if stderr.strip():
        return False, f"exit 0 but stderr: {stderr.strip()[:200]}"
    summary = json.loads(stdout)
    if "size" in case:
        got = [summary.get("width"), summary.get("height")]
        if got != case["size"]:
            return False, f"size {got}, expected {case['size']}"
    if "same_as" in case:
        mine, theirs = outputs.get(case["name"]), outputs.get(case["same_as"])
        if mine is None or theirs is None or mine.read_bytes() != theirs.read_bytes():
            return False, f"painting differs from {case['same_as']}'s"
        return True, f"ok, {summary.get('width')}×{summary.get('height')}, painting identical to {case['same_as']}"
    what = f"ok, {summary['width']}×{summary['height']}" if "width" in summary else "ok"
    if summary.get("task") == "instance" and "instances" in summary:
        what += f", {len(summary['instances'])} instances"
    if "metrics" in summary:
        what += f", delta1 {summary['metrics'].get('delta1', 0):.3f}"
    return True, what


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peel", required=True)
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--report", type=Path, help="also write the table as Markdown here")
    parser.add_argument("--page", type=Path, help="the browser test's table (target/browser-tests/bad-input-page.md): "
                        "its outcome per photo case becomes the report's last column")
    parser.add_argument("--only", help="regex: run only the cases whose name matches")
    args = parser.parse_args()
    cases = json.loads((args.corpus / "manifest.json").read_text())
    if args.only:
        cases = [c for c in cases if re.search(args.only, c["name"])]
    scratch = Path(tempfile.mkdtemp(prefix="peel-corpus-"))
    outputs = {}
    rows, failures = [], 0
    total_started = time.monotonic()
    try:
        for i, case in enumerate(cases):
            out = scratch / f"case{i}"
            argv = [a.replace("{file}", str(args.corpus / case["file"])).replace("{out}", str(out)).replace("{dir}", str(args.corpus)) for a in case["args"]]
            code, stdout, stderr, seconds, rss = run_one(args.peel, argv)
            if case["command"] == "run":
                outputs[case["name"]] = Path(str(out) + ".png")
            ok, what = check(case, code, stdout, stderr, seconds, rss, outputs)
            failures += not ok
            expected = "ok" + (f" {case['size'][0]}×{case['size'][1]}" if "size" in case else "") if case["expect"] == "ok" else f"exit 2 /{case['message']}/"
            if case.get("same_as"):
                expected += f", = {case['same_as']}"
            rows.append((case["name"], case["kind"], case["command"], expected, what, seconds, rss, ok))
            print(f"{'PASS' if ok else 'FAIL'} {case['name']:<32} {case['command']:<7} {seconds:6.2f} s {rss / 2**20:6.0f} MiB  {what}", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    total = time.monotonic() - total_started
    worst_t = max(rows, key=lambda r: r[5])
    worst_m = max(rows, key=lambda r: r[6])
    print(f"{len(rows) - failures}/{len(rows)} cases pass in {total:.0f} s; slowest {worst_t[0]} {worst_t[5]:.1f} s; most memory {worst_m[0]} {worst_m[6] / 2**20:.0f} MiB")
    if args.report:
        # The page's outcome per file: the cell of its row that starts with the verdict (already escaped Markdown).
        page = {}
        if args.page:
            for line in args.page.read_text().splitlines()[2:]:
                cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)]
                page[cells[1].strip("`")] = next((c for c in cells[2:] if c.startswith(("✅", "❌"))), "?")
        lines = ["| file | what it is | command | expected | CLI result | time | peak RSS |" + (" page result |" if args.page else ""),
                 "|---|---|---|---|---|---|---|" + ("---|" if args.page else "")]
        for name, kind, command, expected, what, seconds, rss, ok in rows:
            cell = lambda t: t.replace("|", "\\|")
            on_page = f" {page.get(name, '– (not a photo case)')} |" if args.page else ""
            lines.append(f"| `{name}` | {cell(kind)} | {command} | {cell(expected)} | {'✅' if ok else '❌'} {cell(what)} | {seconds:.2f} s | {rss / 2**20:.0f} MiB |{on_page}")
        args.report.write_text("\n".join(lines) + "\n")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
