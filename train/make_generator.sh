#!/usr/bin/env bash
# Reproduces weights/ (the generalist generator), its parity fixtures and its evaluation from scratch:
# render synthetic scenes, cache real data and teacher labels, train, quantize, evaluate.
#   bash train/make_generator.sh [STEPS]
# Resumable: rerun the same command after an interruption; training continues from
# target/peel-run/checkpoint.pt. On a CUDA machine the same command trains on the GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-6000}
shared=${PEEL_SHARED:-../shared}
cargo build --release -p peel-cli --quiet
peel=target/release/peel
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet -r train/requirements.txt
py() { (cd train && PYTHONPATH=. ../.venv/bin/python "$@"); }

# The shipped run used the first 480 scenes of seed 11 twice (an earlier placeholder set and the
# 1600-scene set overlap); rendering both reproduces that mix exactly.
[ -f target/synth-train/001599/meta.json ] || "$peel" synth --count 1600 --seed 11 --size 256x192 --out target/synth-train
[ -f target/synth-train-480/000479/meta.json ] || "$peel" synth --count 480 --seed 11 --size 256x192 --out target/synth-train-480
[ -f target/synth-heldout/000119/meta.json ] || "$peel" synth --count 120 --seed 99 --size 256x192 --out target/synth-heldout
[ -f target/peel-data/synth.pkl ] || py -m peel_train.data --shared "../$shared" \
  --synth ../target/synth-train-480 ../target/synth-train --out ../target/peel-data
[ -f target/peel-data/pets.pkl ] || py -m peel_train.teachers measure build --shared "../$shared" --out ../target/peel-data
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} py -m peel_train.train --data ../target/peel-data --run ../target/peel-run \
  --steps "$steps" --threads "${OMP_NUM_THREADS:-1}" --shared "../$shared"
py -m peel_train.export --run ../target/peel-run --data ../target/peel-data
py -m peel_train.evaluate --shared "../$shared" --float-run ../target/peel-run --write-manifest
py -m peel_train.report --run ../target/peel-run --shared "../$shared"
