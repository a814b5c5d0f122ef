#!/usr/bin/env bash
# Reproduces weights/ (the generalist generator), its parity fixtures and its evaluation from scratch:
# render synthetic scenes, cache real data and teacher labels, train, quantize, evaluate.
#   bash train/make_generator.sh [TOTAL_STEPS] [MAX_MINUTES]
# Resumable: rerun the same command after an interruption (Ctrl-C and SIGTERM save); training
# continues from target/peel-run/checkpoint.pt, and every stop also writes the model-only
# checkpoint train/checkpoints/peel-gen.pt (+ .json) that a fresh clone continues with --init.
# On a CUDA machine the same command trains on the GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-9000}
minutes=${2:-}
shared=${PEEL_SHARED:-../shared}
cargo build --release -p peel-cli --quiet
peel=target/release/peel
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet -r train/requirements.txt
py() { (cd train && PYTHONPATH=. ../.venv/bin/python "$@"); }

# Rendered ahead of time (about 9 minutes on 2 cores); seed 99 is held out for evaluation.
[ -f target/synth-train/001599/meta.json ] || "$peel" synth --count 1600 --seed 11 --size 256x192 --out target/synth-train
[ -f target/synth-train-2/002999/meta.json ] || "$peel" synth --count 3000 --seed 21 --size 256x192 --out target/synth-train-2
[ -f target/synth-heldout/000119/meta.json ] || "$peel" synth --count 120 --seed 99 --size 256x192 --out target/synth-heldout
[ -f target/peel-data/synth.pkl ] || py -m peel_train.data --shared "../$shared" \
  --synth ../target/synth-train ../target/synth-train-2 --out ../target/peel-data
[ -f target/peel-data/camvid.pkl ] || py -m peel_train.data --shared "../$shared" --out ../target/peel-data --only camvid coco photos
[ -f target/peel-data/camvid_depth.pkl ] || py -m peel_train.streetdepth --data ../target/peel-data
[ -f target/peel-data/middlebury.pkl ] || py -m peel_train.realdepth --shared "../$shared" --out ../target/peel-data
[ -f target/peel-data/pets.pkl ] || py -m peel_train.teachers measure build --shared "../$shared" --out ../target/peel-data
# The recipe: batch 16, the stem and encoder blocks 0-3 frozen throughout; the first 70 % of steps at
# half resolution (128x96), then full resolution (docs/MODEL.md, "The training machine").
py -m peel_train.train --data ../target/peel-data --run-dir ../target/peel-run --shared "../$shared" \
  --total-steps "$steps" ${minutes:+--max-minutes "$minutes"} --batch 16 --low-res-until 0.7 \
  --freeze-blocks 4 --freeze-until 1.0 --workers 1 --threads 2 --model-out checkpoints/peel-gen.pt
py -m peel_train.export --run ../target/peel-run --data ../target/peel-data
py -m peel_train.evaluate --shared "../$shared" --float-run ../target/peel-run --write-manifest
py -m peel_train.report --run ../target/peel-run --shared "../$shared"
