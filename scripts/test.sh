#!/usr/bin/env bash
# README's test command: every test, native and in the browser.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each step's wall time, printed again at the end (CI shows a log's tail): where a slow run spent it.
timings=()
step_name="Set-up (scripts/setup.sh)"
step_start=$SECONDS
step() {
  timings+=("$(printf '%5d s  %s' $((SECONDS - step_start)) "$step_name")")
  step_name="$1"
  step_start=$SECONDS
  echo "==> $1"
}
report_timings() {
  local status=$?
  timings+=("$(printf '%5d s  %s%s' $((SECONDS - step_start)) "$step_name" "$([ "$status" = 0 ] || echo " (failed)")")")
  echo "==> Wall time per step (total $SECONDS s)"
  printf '%s\n' "${timings[@]}"
}
trap report_timings EXIT
# The trainer's packages install in the background (network and disk) while the compilers work.
bash scripts/setup.sh python &
python_setup=$!
bash scripts/setup.sh tools
step "The page's wasm must not depend on Burn, CubeCL or wgpu (only the worker's may)"
page_deps=$(cargo tree -p peel-web --target wasm32-unknown-unknown -e normal --prefix none)
worker_deps=$(cargo tree -p peel-worker --target wasm32-unknown-unknown -e normal --prefix none)
# The worker does depend on Burn: if this grep ever finds nothing there, the check itself is broken.
grep -qE '^burn ' <<<"$worker_deps" || { echo "cargo tree shows no burn under peel-worker: the check is broken" >&2; exit 1; }
if grep -E '^(burn|cubecl|wgpu)' <<<"$page_deps"; then echo "the page's wasm (peel-web) depends on the crates above" >&2; exit 1; fi
step "Native tests (cargo test --workspace)"
cargo test --workspace --quiet
step "Tests on the shared data beside the repository (a plain cargo test lists them as ignored)"
# --workspace, not -p: the same feature set as above, so nothing is rebuilt.
cargo test --workspace --quiet --test real_outputs --test cli -- --ignored
wait "$python_setup" || { echo "scripts/setup.sh python failed (above)" >&2; exit 1; }
step "Bad-input corpus: every file through peel run/decode/metrics (a result, or exit 2 with one line; <= 60 s, <= 2 GB each)"
TARGET="${CARGO_TARGET_DIR:-target}"
.venv/bin/python tests/corpus/make_corpus.py "$TARGET/bad-input"
.venv/bin/python tests/corpus/run_corpus.py --peel "$TARGET/debug/peel" --corpus "$TARGET/bad-input" --report "$TARGET/bad-input-report.md"
step "Fuzzing: each parser of outside bytes for 15 s from its committed corpus (libFuzzer; 0 crashes)"
bash fuzz/run.sh smoke 15
step "Training smoke test (a few steps on a few synthetic scenes, resume, int8 export)"
(cd train && PYTHONPATH=. ../.venv/bin/python -m peel_train.smoke --peel ../target/debug/peel --weights ../weights)
step "Building the page"
bash scripts/build-web.sh
step "Browser tests (headless chromium; screenshots in target/browser-tests/)"
(cd tests && npm test)
