#!/usr/bin/env bash
# Where Peel's CPU network time goes: the shipped network on the benchmark's photo, run natively on
# Burn's flex backend (the backend the worker runs in wasm) under `perf`, grouped by function.
# Writes $TARGET/bench/profile.md, which bench.mjs puts into docs/PERFORMANCE.md. Needs `perf`
# (Debian: linux-perf); bench.sh skips it where there is none.
#   bash bench/profile_cpu.sh [RUNS]     (default 200 paints)
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
runs=${1:-200}
mkdir -p "$TARGET/bench"
cargo build --release --quiet -p peel-model --example network_profile
perf record --quiet -F 499 -o "$TARGET/bench/perf.data" \
  "$TARGET/release/examples/network_profile" static/samples/chelsea.png "$runs" > "$TARGET/bench/profile-run.txt"
perf report -i "$TARGET/bench/perf.data" --no-children --sort symbol --stdio --percent-limit 0.5 2>/dev/null |
  python3 -c '
import re, sys
what = [  # symbol pattern -> what it is in this network
    ("gemm", "matrix multiply (gemm crate): the 1×1 convolutions and the im2col of the dense 3×3 ones"),
    ("conv_plane_accumulate", "depthwise 3×3 convolutions (and convolutions with few input channels): a loop per channel plane"),
    ("conv3d_f32", "convolution driver: padding, im2col, bias"),
    ("unary_op", "elementwise ReLU / ReLU6 / sigmoid, one pass over memory each"),
    ("memset", "zeroing new buffers"),
    ("interpolate", "the decoder'"'"'s 2× nearest upsampling"),
    ("read_weights|load_model|safetensors", "loading the weights (once per process, not per paint)"),
]
groups = {}
for line in sys.stdin:
    m = re.match(r"\s*([\d.]+)%\s+\[\.\]\s+(.*?)[\s-]*$", line)
    if m:
        share, symbol = float(m.group(1)), m.group(2)
        w = next((w for p, w in what if re.search(p, symbol)), "other")
        g = groups.setdefault(w, [0.0, []])
        g[0] += share
        g[1].append(f"`{symbol}` {share:.1f} %")
run = open(sys.argv[1]).read().strip()
print("Where Peel CPU'"'"'s network time goes (`bash bench/profile_cpu.sh`: the same network, photo and prompt run")
print(f"natively on Burn'"'"'s flex backend under `perf record`; {run}; functions under 0.5 % of the")
print("samples left out). Natively gemm uses AVX2/FMA kernels where the wasm worker has simd128, so the shares")
print("in the browser differ, but the same functions run:")
print()
print("| self time | what | functions |")
print("|---|---|---|")
for w, (share, symbols) in sorted(groups.items(), key=lambda g: -g[1][0]):
    names = "; ".join(symbols)
    print(f"| {share:.1f} % | {w} | {names} |")
' "$TARGET/bench/profile-run.txt" > "$TARGET/bench/profile.md"
cat "$TARGET/bench/profile.md"
