#!/usr/bin/env bash
# A few minutes on one large GPU: continue the run from its model-only checkpoint on a data pack.
#   bash train/gpu_train.sh PACK MODEL_IN MODEL_OUT [STEPS] [MINUTES]
# PACK: `python -m peel_train.pack` output (<= 64 MiB); MODEL_IN: a model-only checkpoint with its
# .json note (train.py --model-out; the committed one is train/checkpoints/peel-gen.pt). Trains at
# most MINUTES (default 8) with bf16 autocast, batch PEEL_BATCH (96) and PEEL_WORKERS (12) data
# processes, the loss on the GPU, and writes MODEL_OUT (fp16, about 6.4 MB) and MODEL_OUT.json.
# Needs python3 with torch, numpy, scipy and pillow.
# The training smoke test runs it on the CPU for a few steps (PEEL_DEVICE=cpu) so it does not rot.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: bash train/gpu_train.sh PACK MODEL_IN MODEL_OUT [STEPS] [MINUTES]" >&2; exit 2; }
pack=$(realpath "$1") model_in=$(realpath "$2") model_out=$(realpath -m "$3")
steps=${4:-6000} minutes=${5:-8}
device=${PEEL_DEVICE:-cuda} batch=${PEEL_BATCH:-96} workers=${PEEL_WORKERS:-12}
cd "$(dirname "$0")"
python=${PYTHON:-$( [ -x ../.venv/bin/python ] && echo ../.venv/bin/python || echo python3 )}
start=$("$python" -c "import json, sys; print(json.load(open(sys.argv[1]))['step'])" "$model_in.json")
run=$(mktemp -d "${TMPDIR:-/tmp}/peel-gpu-run.XXXXXX")
bf16=--bf16; [ "$device" = cpu ] && bf16=--no-bf16
PYTHONPATH=. PYTHONUNBUFFERED=1 "$python" -m peel_train.train --data "$pack" --run "$run" --init "$model_in" \
  --model-out "$model_out" --total-steps $((start + steps)) --max-minutes "$minutes" --batch "$batch" \
  --workers "$workers" --device "$device" $bf16 --log-every "${PEEL_LOG_EVERY:-100}" --checkpoint-every 1000000000
rm -rf "$run"
