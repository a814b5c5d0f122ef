#!/usr/bin/env bash
# Reproduces weights/ (the placeholder depth generator) and its parity fixture from scratch:
# render synthetic scenes, encode their depth with the protocol's colormap, train, export.
#   bash train/make_placeholder.sh [SAMPLES] [STEPS]
# The shipped weights took 5775 steps (two runs, the second with --resume, about 35 minutes
# on this project's shared 2-core machine); a single run of the same steps reproduces the recipe.
set -euo pipefail
cd "$(dirname "$0")/.."
samples=${1:-480}
steps=${2:-5775}
data=target/placeholder-data
cargo build --release -p peel-cli --quiet
peel=target/release/peel
rm -rf "$data"
"$peel" synth --count "$samples" --seed 11 --size 256x192 --kind mixed --out "$data"
for sample in "$data"/*/; do "$peel" encode depth "$sample/depth.npy" "$sample/depth_viz.png"; done
[ -x .venv/bin/python ] || { python3 -m venv .venv && .venv/bin/pip install -q -r train/requirements.txt; }
cd train
../.venv/bin/python -m peel_train.placeholder --data "../$data" --out ../weights \
  --fixture-dir ../crates/peel-model/tests/fixtures --max-steps "$steps" --minutes 600
