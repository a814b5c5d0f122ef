#!/usr/bin/env bash
# README's test command: every test, native and in the browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "==> Native tests (cargo test --workspace)"
cargo test --workspace --quiet
echo "==> Tests on the shared data beside the repository (a plain cargo test lists them as ignored)"
# --workspace, not -p: the same feature set as above, so nothing is rebuilt.
cargo test --workspace --quiet --test real_outputs --test cli -- --ignored
echo "==> Bad-input corpus: every file through peel run/decode/metrics (a result, or exit 2 with one line; <= 60 s, <= 2 GB each)"
TARGET="${CARGO_TARGET_DIR:-target}"
.venv/bin/python tests/corpus/make_corpus.py "$TARGET/bad-input"
.venv/bin/python tests/corpus/run_corpus.py --peel "$TARGET/debug/peel" --corpus "$TARGET/bad-input" --report "$TARGET/bad-input-report.md"
echo "==> Fuzzing: each parser of outside bytes for 15 s from its committed corpus (libFuzzer; 0 crashes)"
bash fuzz/run.sh smoke 15
echo "==> Training smoke test (a few steps on a few synthetic scenes, resume, int8 export)"
(cd train && PYTHONPATH=. ../.venv/bin/python -m peel_train.smoke --peel ../target/debug/peel --weights ../weights)
echo "==> Building the page"
bash scripts/build-web.sh
echo "==> Browser tests (headless chromium; screenshots in target/browser-tests/)"
(cd tests && npm test)
