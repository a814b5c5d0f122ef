#!/usr/bin/env bash
# The ablations of docs/MODEL.md ("Ablations: what limits peel-gen-2"). Every arm continues the checkpoint in
# train/checkpoints/peel-gen.pt for the same number of steps (seed 0, batch 16, the same data but where the arm
# changes it), at nice 19 and one thread, then `peel_train.ablate` probes it. Run two arms at once on 2 cores.
#   bash train/ablations.sh ARM [ARM ...]      (STEPS=1500 by default)
# Arms:
#   control    today's generalist mix and prompts
#   absent     the same, half the semantic prompts also naming up to 24 absent classes
#   semantic   semantic segmentation only, today's prompts
#   fixed      semantic only, every prompt the source's whole label set in one fixed order (a fixed class head)
#   semantic513  (b) semantic only with today's prompts, on those labels (the control: labels513)
#   labels513  today's recipe on labels re-made with the 513-px VOC teacher (target/peel-data-513)
#   absent513  absent prompts on those labels
#   imagenet   today's recipe with the encoder put back to ImageNet's EfficientNet-Lite0 and frozen whole
#   voctrunk   (d) labels513 with the encoder replaced by the 513-px VOC teacher's MobileNetV2 trunk
#              (voc_trunk.py), its stem and blocks 0-12 (to stride 16) frozen; the decoder keeps every
#              tensor whose shape fits
#   voctrunk-frozen  the same trunk frozen whole
#   anchor     labels513 plus a feature-distillation loss holding the encoder's stride-16/32 features to
#              ImageNet Lite0's (train.EncoderAnchor, weight 1)
#   imagenet513      labels513 with the encoder put back to ImageNet's Lite0 and frozen whole
#   imagenet-anchor  labels513 with the encoder put back to ImageNet's Lite0, blocks 4-15 trained but held
#              to their start by the same anchor (weight 1)
# Redesign 2 (start from INIT, the imagenet-anchor arm continued: docs/MODEL.md):
#   absent-anchor  labels513, the anchor, and absent prompts (the control for presence)
#   presence   the same plus a presence head (generator.PresenceHead): an image-level "is it here?"
#              logit per named thing that gates its pixels, trained with a binary cross-entropy
#   presence513  absent513 plus the presence head, on peel-gen-2 itself (the default INIT)
#   anchor-mixed   labels513 and the anchor with today's (mixed) prompts: the control for presence-mixed
#   presence-mixed the same plus the presence head
#   presence-probes  presence-mixed plus 16 probe names per semantic example (--presence-probes): unnamed
#              classes labelled present or absent that train the presence head alone
#   presence-probes-g2  the same on peel-gen-2 itself (the default INIT), without the anchor
# (e) Input size, from the scene network in train/checkpoints/peel-gen.pt with its recipe's flags, every step at
# full resolution, probed at 256 and 320 px:
#   side256    the control: the scene network fine-tuned at the cached 256 px
#   side320    the same at 320 px (--input-side: the cached crops enlarged)
#   side320-ref  side320 with referring drawn twice as often (--task-weight referring 0.3: 40 % of examples
#              instead of 25 %), to keep the referring row while the 320-px steps continue
#   side320-lowlr  side320 at a third of its peak learning rate (5e-5): does the restarted schedule's step
#              size cost the referring row?
#   side320-inst  side320-lowlr with instances drawn twice as often (--task-weight instance 0.3: 40 % of
#              examples instead of 25 %): does instance recall, low even on the training photos, follow the share?
#   side320-instbal  side320-lowlr with each true instance's pixels weighted by area^-0.5 (--instance-balance 0.5):
#              do small instances, which it misses even on its training photos, follow their weight?
# INIT=FILE (a model-only checkpoint with its FILE.json) starts the arms there instead of peel-gen.pt; SEED=N
# changes the seed (0).
set -euo pipefail
cd "$(dirname "$0")"
steps=${STEPS:-1500}
init=${INIT:-checkpoints/peel-gen.pt}
start=$(python3 -c "import json; print(json.load(open('$init.json'))['step'])")
total=$((start + steps))
# Half resolution for the first 70 % of the arm's steps, as the recipe does (a fraction of --total-steps).
low_res=$(python3 -c "print(($start + 0.7 * $steps) / $total)")
py() { PYTHONPATH=. nice -n 19 ../.venv/bin/python "$@"; }
mkdir -p ../target/ablate
scene=(--lr 1.5e-4 --low-res-until 0 --freeze-blocks 0 --anchor-encoder 1 --semantic-prompts absent --presence-head
       --tasks semantic instance referring)
for arm in "$@"; do
  data=../target/peel-data
  sizes=(256)
  case $arm in
    control) flags=() ;;
    absent) flags=(--semantic-prompts absent) ;;
    semantic) flags=(--tasks semantic) ;;
    fixed) flags=(--tasks semantic --semantic-prompts fixed) ;;
    labels513) data=../target/peel-data-513; flags=() ;;
    semantic513) data=../target/peel-data-513; flags=(--tasks semantic) ;;
    absent513) data=../target/peel-data-513; flags=(--semantic-prompts absent) ;;
    imagenet) flags=(--encoder-from-imagenet --freeze-blocks 16) ;;
    voctrunk) data=../target/peel-data-513; flags=(--encoder mobilenetv2 --freeze-blocks 13) ;;
    voctrunk-frozen) data=../target/peel-data-513; flags=(--encoder mobilenetv2 --freeze-blocks 17) ;;
    anchor) data=../target/peel-data-513; flags=(--anchor-encoder 1) ;;
    imagenet513) data=../target/peel-data-513; flags=(--encoder-from-imagenet --freeze-blocks 16) ;;
    imagenet-anchor) data=../target/peel-data-513; flags=(--encoder-from-imagenet --anchor-encoder 1) ;;
    absent-anchor) data=../target/peel-data-513; flags=(--anchor-encoder 1 --semantic-prompts absent) ;;
    presence) data=../target/peel-data-513; flags=(--anchor-encoder 1 --semantic-prompts absent --presence-head) ;;
    presence513) data=../target/peel-data-513; flags=(--semantic-prompts absent --presence-head) ;;
    anchor-mixed) data=../target/peel-data-513; flags=(--anchor-encoder 1) ;;
    presence-mixed) data=../target/peel-data-513; flags=(--anchor-encoder 1 --presence-head) ;;
    presence-probes) data=../target/peel-data-513; flags=(--anchor-encoder 1 --presence-head --presence-probes 16) ;;
    presence-probes-g2) data=../target/peel-data-513; flags=(--presence-head --presence-probes 16) ;;
    side256) data=../target/peel-data-513; flags=("${scene[@]}"); sizes=(256 320) ;;
    side320) data=../target/peel-data-513; flags=("${scene[@]}" --input-side 320); sizes=(256 320) ;;
    side320-ref) data=../target/peel-data-513; flags=("${scene[@]}" --input-side 320 --task-weight referring 0.3)
      sizes=(320) ;;
    side320-lowlr) data=../target/peel-data-513; flags=("${scene[@]}" --input-side 320 --lr 5e-5); sizes=(320) ;;
    side320-inst) data=../target/peel-data-513
      flags=("${scene[@]}" --input-side 320 --lr 5e-5 --task-weight instance 0.3); sizes=(320) ;;
    side320-instbal) data=../target/peel-data-513
      flags=("${scene[@]}" --input-side 320 --lr 5e-5 --instance-balance 0.5); sizes=(320) ;;
    *) echo "unknown arm $arm" >&2; exit 2 ;;
  esac
  run=../target/ablate/run-$arm
  py -m peel_train.train --data "$data" --run-dir "$run" --shared ../../shared --init "$init" \
    --total-steps "$total" --batch 16 --lr 2e-4 --si-weight 2 --low-res-until "$low_res" \
    --freeze-blocks 4 --freeze-until 1.0 "${flags[@]}" --workers 1 --threads 1 --seed "${SEED:-0}" > "$run.log" 2>&1
  py -m peel_train.ablate --checkpoint "$run/checkpoint.pt" --data "$data" --out "../target/ablate/$arm.json" \
    --sizes "${sizes[@]}" >> "$run.log" 2>&1
done
