"""How the speck rule was chosen (`peel_model::preprocess::SPECK_SHARE`; docs/MODEL.md, "Specks are not
instances"), on data no evaluation uses: COCO128 train2017 (trained on) and synthetic scenes rendered for
the choice with their own seed.

Each instance, referring and no-target prompt is painted once at the network's resolution, then enlarged
by `peel upsample --speck-share S` for each share S (0 keeps every piece) and scored by `peel metrics`.
Before that, the pieces the instance decoder finds in COCO128 train's raw paintings are counted by size,
with how many of them match a true instance (IoU > 0.5).

    peel synth --count 120 --seed 77 --size 256x192 --out target/synth-select
    cd train && PYTHONPATH=. ../.venv/bin/python -m peel_train.speck_share --weights ../weights \\
        --synth ../target/synth-select --out ../target/speck-share
"""
import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from . import evaluate as ev
from .conditioning import paint
from .generator import TASK_INSTANCE, TASK_REFERRING

SHARES = (0, 1 / 1600, 1 / 800, 1 / 400, 1 / 200, 1 / 100)
INSTANCE_PROMPT = "Generate an instance segmentation visualization of this image. Each object is colored differently."
REFERRING_PROMPT = "The target is rendered in white."
SIZE_BINS = (0, 0.001, 0.005, 0.02, 0.1, 1.01)  # shares of the photo


def instance_gt(polys, size):
    gt = Image.new("I;16", size, 0)
    draw = ImageDraw.Draw(gt)
    for k, poly in enumerate(polys):
        draw.polygon(poly, fill=k + 1)
    return gt


def piece_sizes(painting, gt_path):
    """[(share of the photo, matches a true instance)] for each piece the instance decoder finds."""
    gt = np.asarray(Image.open(gt_path)).astype(np.int64)
    with tempfile.TemporaryDirectory(prefix="peel-specks-") as tmp:
        subprocess.run([str(ev.PEEL), "decode", "instance", str(painting), "--prompt", INSTANCE_PROMPT,
                        "--out", f"{tmp}/labels.png"], check=True, capture_output=True)
        labels = np.asarray(Image.open(f"{tmp}/labels.png")).astype(np.int64)
    truths = [gt == g for g in np.unique(gt) if g]
    out = []
    for k in np.unique(labels):
        if k:
            m = labels == k
            best = max(((m & t).sum() / (m | t).sum() for t in truths), default=0.0)
            out.append((m.sum() / m.size, best > 0.5))  # IoU above 0.5, as `peel metrics instance` counts
    return out


def refuse_heldout(ap, synth):
    """Selection scripts choose on scenes rendered for them: the held-out ones are an evaluation set."""
    if Path(synth).resolve() == (ev.REPO / "target/synth-heldout").resolve():
        ap.error("--synth: the held-out scenes are an evaluation set; render others (see the module's docstring)")


def selection_prompts(shared, synth, out):
    """The instance and referring prompts of the selection data, their truths written to `out`:
    (task, set name, photo, entries, file stem, photo file, truth file) for COCO128 train2017's classes,
    template expressions and two absent names a photo ("COCO128 train", "COCO128 train, absent"), and
    the synthetic scenes' things and expressions in `synth` ("synthetic")."""
    images, names = ev.coco_photos(shared, "train2017")
    ids = {v: k for k, v in names.items()}
    for n, (stem, img, by_class) in enumerate(images):
        photo = out / f"coco_{stem}.png"
        img.save(photo)
        for cid, polys in by_class.items():
            g = out / f"coco_{stem}_{cid}_gt.png"
            instance_gt(polys, img.size).save(g)
            yield TASK_INSTANCE, "COCO128 train", img, [(names[cid], None)], f"coco_{stem}_{cid}", photo, g
        for k, (text, mask) in enumerate(ev.coco_referring_expressions(by_class, names, img.size)):
            g = out / f"cocoref_{stem}_{k}_gt.png"
            Image.fromarray(mask.astype(np.uint8) * 255).save(g)
            yield TASK_REFERRING, "COCO128 train", img, [(text, (255, 255, 255))], f"cocoref_{stem}_{k}", photo, g
        absent = [c for c in ev.NO_TARGET_PROBES if ids[c] not in by_class]
        for k, name in enumerate(absent[n % max(len(absent), 1):][:2]):
            g = out / f"nothing_{stem}_{k}_gt.png"
            Image.new("L", img.size, 0).save(g)
            yield (TASK_REFERRING, "COCO128 train, absent", img, [(f"the {name}", (255, 255, 255))],
                   f"nothing_{stem}_{k}", photo, g)
    for d in sorted(Path(synth).iterdir()):
        if not (d / "meta.json").exists():
            continue
        meta = json.loads((d / "meta.json").read_text())
        inst = np.asarray(Image.open(d / "instance.png"))
        img = Image.open(d / "rgb.png").convert("RGB")
        by_class = {}
        for i in meta["instances"]:
            if i["thing"]:
                by_class.setdefault(i["class"], []).append(i["id"])
        for cls, instance_ids in by_class.items():
            gt = np.zeros(inst.shape, np.uint16)
            for k, i in enumerate(instance_ids):
                gt[inst == i] = k + 1
            g = out / f"synth_{d.name}_{cls}_gt.png"
            Image.fromarray(gt).save(g)
            yield TASK_INSTANCE, "synthetic", img, [(cls, None)], f"synth_{d.name}_{cls}", d / "rgb.png", g
        for k, e in enumerate(meta["expressions"]):
            g = out / f"synthref_{d.name}_{k}_gt.png"
            Image.fromarray((np.isin(inst, e["instance_ids"]) * 255).astype(np.uint8)).save(g)
            yield TASK_REFERRING, "synthetic", img, [(e["text"], (255, 255, 255))], f"synthref_{d.name}_{k}", d / "rgb.png", g


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", default=str(ev.REPO / "weights"))
    ap.add_argument("--shared", default=str(ev.REPO.parent / "shared"))
    ap.add_argument("--synth", required=True, help="synthetic scenes rendered for the choice (not target/synth-heldout)")
    ap.add_argument("--out", default=str(ev.REPO / "target/speck-share"))
    args = ap.parse_args()
    refuse_heldout(ap, args.synth)
    torch.set_grad_enabled(False)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model, ph, wd = ev.load_shipped(args.weights)
    jobs = []  # (kind, source, low-resolution painting, photo, truth)

    def low(img, task, entries, name):
        side = getattr(model, "input_sides", {}).get(task, ev.LONG_SIDE)  # as evaluate.painting sizes it
        rgb = paint(model, ev.preprocess(img, side), task, entries, None, ph, wd)
        path = out / f"{name}_low.png"
        Image.fromarray((rgb.permute(1, 2, 0).clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8)).save(path)
        return path

    for task, set_name, img, entries, name, photo, truth in selection_prompts(args.shared, args.synth, out):
        kind = "instance" if task == TASK_INSTANCE else "no-target" if set_name.endswith("absent") else "referring"
        jobs.append((kind, "synth" if set_name == "synthetic" else "coco", low(img, task, entries, name), photo, truth))
    print(f"{len(jobs)} paintings", flush=True)
    report = {}
    for share in SHARES:
        groups = {}
        for kind, source, low_path, photo, g in jobs:
            big = out / low_path.name.replace("_low.png", f"_share{share:.5f}.png")
            subprocess.run([str(ev.PEEL), "upsample", "instance" if kind == "instance" else "referring", str(low_path),
                            "--guide", str(photo), "--out", str(big), "--speck-share", str(share)],
                           check=True, capture_output=True)
            groups.setdefault((kind, source), ([], []))
            groups[(kind, source)][0].append(big)
            groups[(kind, source)][1].append(g)
        for (kind, source), (preds, gts) in sorted(groups.items()):
            if kind == "instance":
                m = ev.peel_metrics("instance", preds, gts, "--prompt", INSTANCE_PROMPT)
                figure = {"f1": m["f1"], "precision": m["precision"], "recall": m["recall"]}
            else:
                m = ev.peel_metrics("referring", preds, gts, "--prompt", REFERRING_PROMPT)
                figure = {"ciou": m["ciou"], "giou": m["giou"]} if kind == "referring" else {"painted_nothing": m["giou"]}
            report[f"{share:.5f} {kind} {source}"] = figure
            print(f"share {share:.5f}  {kind:9s} {source:5s} n={len(preds):4d}  "
                  + "  ".join(f"{k} {v:.3f}" for k, v in figure.items()), flush=True)
        if share == 0:
            pieces = [p for kind, source, low_path, _, g in jobs if (kind, source) == ("instance", "coco")
                      for p in piece_sizes(out / low_path.name.replace("_low.png", "_share0.00000.png"), g)]
            for lo, hi in zip(SIZE_BINS, SIZE_BINS[1:]):
                inside = [match for s, match in pieces if lo <= s < hi]
                print(f"  COCO128 train, raw: pieces of {lo:.1%}-{min(hi, 1):.1%} of the photo: {len(inside):4d}, "
                      f"{sum(inside)} of them a true instance", flush=True)
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
