"""What scaling the presence gate does to each segmentation task (docs/MODEL.md, "A stricter gate for semantic
prompts (not shipped)"), on data no evaluation uses: COCO128 train2017 and CamVid train (both trained on)
and synthetic scenes rendered for it with their own seed.

The scene network adds log-sigmoid(presence) to each entry's pixel logits; a painter could add it `scale`
times instead (`generator.scale_presence_gate`). Each prompt is run through the network once; its logits
and presence logits are painted at every scale, enlarged by `peel upsample` (the app's code) and scored
by `peel metrics` (or, for present-named prompts, decoded by `peel decode`):
- semantic: COCO128 train2017 with all 20 VOC classes named (each photo's COCO masks of those classes,
  the rest background, as VOC labels it) and with only the VOC classes in the photo named; every 4th
  CamVid train photo with its 11 classes;
- referring: COCO128 train2017's template expressions and absent names (no-target), and the synthetic
  scenes' expressions;
- instance: COCO128 train2017's classes and the synthetic scenes' things.

    peel synth --count 120 --seed 77 --size 256x192 --out target/synth-select
    cd train && PYTHONPATH=. ../.venv/bin/python -m peel_train.gate_scale --synth ../target/synth-select
"""
import argparse
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from . import evaluate as ev
from .conditioning import condition
from .generator import TASK_INSTANCE, TASK_SEMANTIC, TASKS, paint_segmentation, scale_presence_gate
from .speck_share import INSTANCE_PROMPT, REFERRING_PROMPT, refuse_heldout, selection_prompts
from .vocab import CAMVID_CLASSES, VOC_CLASSES

SCALES = (0.5, 1, 1.5, 2, 3, 4, 6)
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", default=str(ev.REPO / "weights"))
    ap.add_argument("--shared", default=str(ev.REPO.parent / "shared"))
    ap.add_argument("--synth", required=True, help="synthetic scenes rendered for it (not target/synth-heldout)")
    ap.add_argument("--out", default=str(ev.REPO / "target/gate-scale"))
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    refuse_heldout(ap, args.synth)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model, ph, wd = ev.load_shipped(args.weights)
    jobs = []  # (task, set, name, logits, presence, colours, photo, truth)

    def run(img, task, entries, set_name, name, photo, truth):
        t, p, sl, mask, col = condition(task, entries, None, ph, wd)
        o = model(ev.preprocess(img, model.input_sides[task]), t, p, sl, mask)
        n = int(mask.sum())
        jobs.append((task, set_name, name, o.logits[:, : n + 1], o.presence[:, :n], col[:, : n + 1], photo, truth))

    voc_prompt, voc_entries = ev.semantic_prompt(VOC_CLASSES)
    images, names = ev.coco_photos(args.shared, "train2017")
    for stem, img, by_class in images:
        photo = out / f"coco_{stem}.png"
        img.save(photo)
        g = out / f"coco_{stem}_voc_gt.png"
        labels = ev.voc_labels(by_class, names, img.size)
        labels.save(g)
        run(img, TASK_SEMANTIC, voc_entries, "COCO128 train, VOC names", f"coco_{stem}_voc", photo, g)
        present = ev.present_classes(labels)
        if len(present) > 1:  # background and the VOC classes in the photo, in VOC's order
            present_entries = ev.semantic_prompt([VOC_CLASSES[i] for i in present])[1]
            run(img, TASK_SEMANTIC, present_entries, "COCO128 train, present", f"coco_{stem}_present", photo,
                (g, present))
    camvid_prompt, camvid_entries = ev.semantic_prompt(CAMVID_CLASSES)
    root = Path(args.shared) / "data/camvid"
    for name in sorted(os.listdir(root / "train"))[::4]:
        stem = Path(name).stem
        run(Image.open(root / "train" / name).convert("RGB"), TASK_SEMANTIC, camvid_entries, "CamVid train",
            f"camvid_{stem}", root / "train" / name, root / "trainannot" / f"{stem}.png")
    for task, set_name, img, entries, name, photo, truth in selection_prompts(args.shared, args.synth, out):
        run(img, task, entries, set_name, name, photo, truth)
    print(f"{len(jobs)} prompts", flush=True)

    def score(task, set_name, preds, gts):
        if set_name.endswith("present"):
            return {"miou": ev.present_named_miou(preds, gts)}
        if task == TASK_SEMANTIC:
            voc = set_name.startswith("COCO")
            prompt = voc_prompt if voc else camvid_prompt
            extra = ["--num-classes", "21"] if voc else ["--num-classes", "11", "--ignore-index", "11"]
            return {"miou": ev.peel_metrics("semantic", preds, gts, "--prompt", prompt, *extra)["miou"]}
        if task == TASK_INSTANCE:
            m = ev.peel_metrics("instance", preds, gts, "--prompt", INSTANCE_PROMPT)
            return {"f1": m["f1"], "precision": m["precision"], "recall": m["recall"]}
        m = ev.peel_metrics("referring", preds, gts, "--prompt", REFERRING_PROMPT)
        return {"painted_nothing": m["giou"]} if set_name.endswith("absent") else {"ciou": m["ciou"], "giou": m["giou"]}

    report = {}
    for scale in SCALES:
        groups = {}
        for task, set_name, name, logits, presence, colours, photo, truth in jobs:
            rgb = paint_segmentation(scale_presence_gate(logits, presence, scale), colours)[0]
            low = out / f"{name}_low.png"
            Image.fromarray((rgb.permute(1, 2, 0).clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8)).save(low)
            big = out / f"{name}_scale{scale}.png"
            subprocess.run([str(ev.PEEL), "upsample", TASKS[task], str(low), "--guide", str(photo), "--out", str(big)],
                           check=True, capture_output=True)
            groups.setdefault((task, set_name), ([], []))
            groups[(task, set_name)][0].append(big)
            groups[(task, set_name)][1].append(truth)
        for (task, set_name), (preds, gts) in sorted(groups.items()):
            figure = score(task, set_name, preds, gts)
            report[f"{scale} {TASKS[task]} {set_name}"] = figure
            print(f"scale {scale:<4} {TASKS[task]:9s} {set_name:25s} n={len(preds):4d}  "
                  + "  ".join(f"{k} {v:.4f}" for k, v in figure.items()), flush=True)
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
