#!/usr/bin/env bash
# The benchmark (issue 11): Peel (CPU and WebGPU) against onnxruntime-web (WASM 1 and 2 threads,
# WebGPU) on the same photo, network and conditioning, in headless chromium; writes
# docs/PERFORMANCE.md. Prints figures; asserts nothing about time.
#   BENCH_RUNS=N            warm runs per configuration (default 10)
#   BENCH_ONLY=peel-cpu,…   only these configurations (peel-cpu, peel-webgpu, ort-wasm-1, ort-wasm-2, ort-webgpu)
#   BENCH_BASELINE_DIST=DIR also Peel CPU from another build of dist/ (say, main's), for an A/B
#   BENCH_SKIP_BUILD=1      use dist/ as it is
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
bash scripts/setup.sh
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  echo "==> Building the page"
  bash scripts/build-web.sh
fi
echo "==> Exporting the shipped generator to ONNX (the PyTorch mirror, same weights)"
if ! cmp -s bench/requirements.txt .venv/.installed-bench-requirements 2>/dev/null; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
  cp bench/requirements.txt .venv/.installed-bench-requirements
fi
meta="$TARGET/bench/onnx/meta.json"
if [ ! -f "$meta" ] || [ weights/manifest.json -nt "$meta" ] || [ train/peel_train/onnx_export.py -nt "$meta" ]; then
  (cd train && PYTHONPATH=. ../.venv/bin/python -W ignore -m peel_train.onnx_export \
    --weights ../weights --photo ../static/samples/chelsea.png --out "$TARGET/bench/onnx" >/dev/null)
fi
echo "==> Installing onnxruntime-web (bench/package.json)"
if [ ! -d bench/node_modules/onnxruntime-web ]; then (cd bench && npm ci --no-audit --no-fund); fi
echo "==> Profiling Peel's CPU network natively (bench/profile_cpu.sh)"
rm -f "$TARGET/bench/profile.md"
if ! command -v perf >/dev/null; then echo "    skipped: no perf (Debian: linux-perf)"
elif ! bash bench/profile_cpu.sh >/dev/null; then echo "    failed: the report goes without the profile"; rm -f "$TARGET/bench/profile.md"; fi
echo "==> Measuring in headless chromium"
CARGO_TARGET_DIR="$TARGET" node bench/bench.mjs
