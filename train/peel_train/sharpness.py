"""Sharp paintings: CamVid mIoU and boundary F-score of `peel run` with the plain resize and with the
photo-guided upsampling (docs/MODEL.md, "Sharp paintings").

    cd train && PYTHONPATH=. ../.venv/bin/python -m peel_train.sharpness [--split test] [--crops ../docs/sharp-crops.png]

Each image is painted by the release CLI (`target/release/peel run`, shipped weights) with the
CamVid prompt the evaluation uses, once per `--upsample` method, at the photo's own size, and
scored by `peel metrics semantic` exactly as `evaluate.eval_camvid` does. The boundary F-score
compares where the painting changes colour with where the ground truth changes class (void
excluded), matched within BOUNDARY_TOLERANCE pixels. Writes `target/sharpness/<split>/report.json`.
"""

import argparse
import json
import os
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from .evaluate import PEEL, REPO, peel_metrics, semantic_prompt
from .vocab import CAMVID_CLASSES

METHODS = ("resize", "guided")
VOID = 11
BOUNDARY_TOLERANCE = 2  # pixels (0.4 % of a 480x360 image's diagonal)


def boundaries(ids, valid):
    """Pixels whose right or lower neighbour has another id, both pixels valid."""
    edge = np.zeros(ids.shape, bool)
    edge[:, :-1] |= (ids[:, 1:] != ids[:, :-1]) & valid[:, 1:] & valid[:, :-1]
    edge[:-1] |= (ids[1:] != ids[:-1]) & valid[1:] & valid[:-1]
    return edge


def boundary_counts(painting, gt):
    """-> (matched predicted, predicted, matched true, true) boundary pixels; void and its
    surroundings are left out."""
    # Pixels at least BOUNDARY_TOLERANCE from void: boundaries are counted there only.
    counted = ndimage.binary_erosion(gt != VOID, iterations=BOUNDARY_TOLERANCE, border_value=1)
    true = boundaries(gt, counted)
    pred = boundaries(painting.astype(np.int32) @ np.array([1 << 16, 1 << 8, 1]), counted)
    near_true = ndimage.distance_transform_edt(~true) <= BOUNDARY_TOLERANCE
    near_pred = ndimage.distance_transform_edt(~pred) <= BOUNDARY_TOLERANCE
    return int((pred & near_true).sum()), int(pred.sum()), int((true & near_pred).sum()), int(true.sum())


def paint_all(names, root, out, prompt, method):
    out.mkdir(parents=True, exist_ok=True)
    preds = []
    for name in names:
        p = out / f"{Path(name).stem}.png"
        cmd = [str(PEEL), "run", str(root / name), "--prompt", prompt, "--out", str(p), "--upsample", method]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip())
        preds.append(p)
    return preds


def crops(photo_path, paintings, out, box, zoom=3):
    """photo | each method's painting over the photo (50 %), the `box` crop zoomed `zoom`x (nearest)."""
    photo = Image.open(photo_path).convert("RGB")
    tiles = [("photo", photo)] + [(m, Image.blend(photo, Image.open(p).convert("RGB"), 0.5)) for m, p in paintings]
    w, h = (box[2] - box[0]) * zoom, (box[3] - box[1]) * zoom
    sheet = Image.new("RGB", (len(tiles) * w + (len(tiles) - 1) * 4, h + 18), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (label, image) in enumerate(tiles):
        sheet.paste(image.crop(box).resize((w, h), Image.NEAREST), (i * (w + 4), 18))
        draw.text((i * (w + 4) + 4, 3), label, fill="black")
    sheet.save(out, optimize=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    ap.add_argument("--split", default="test", choices=["val", "test"])
    ap.add_argument("--out", default=str(REPO / "target/sharpness"))
    ap.add_argument("--limit", type=int, default=None, help="only the first N images (a quick check, not a result)")
    ap.add_argument("--methods", default=",".join(METHODS), help="comma-separated `peel run --upsample` methods")
    ap.add_argument("--crops", default=None, help="also write a crop sheet of the first image here (PNG)")
    ap.add_argument("--crop-box", default="160,120,320,240", help="x0,y0,x1,y1 of the crop")
    args = ap.parse_args()

    root = Path(args.shared) / "data/camvid" / args.split
    annot = Path(args.shared) / "data/camvid" / f"{args.split}annot"
    names = sorted(os.listdir(root))[: args.limit]
    gts = [annot / f"{Path(n).stem}.png" for n in names]
    prompt, _ = semantic_prompt(CAMVID_CLASSES)
    out = Path(args.out) / args.split
    report = {"split": args.split, "images": len(names), "boundary_tolerance_px": BOUNDARY_TOLERANCE}
    paintings = {}
    methods = args.methods.split(",")
    for method in methods:
        preds = paint_all(names, root, out / method, prompt, method)
        paintings[method] = preds
        m = peel_metrics("semantic", preds, gts, "--prompt", prompt, "--num-classes", "11", "--ignore-index", str(VOID))
        counts = np.zeros(4, np.int64)
        for p, g in zip(preds, gts):
            counts += boundary_counts(np.asarray(Image.open(p).convert("RGB")), np.asarray(Image.open(g)))
        precision, recall = counts[0] / max(counts[1], 1), counts[2] / max(counts[3], 1)
        f = 2 * precision * recall / max(precision + recall, 1e-12)
        report[method] = {"miou": m["miou"], "pixel_accuracy": m["pixel_accuracy"],
                          "boundary_precision": round(float(precision), 4), "boundary_recall": round(float(recall), 4),
                          "boundary_f": round(float(f), 4)}
        print(method, json.dumps(report[method]), flush=True)
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    if args.crops:
        box = tuple(int(v) for v in args.crop_box.split(","))
        crops(root / names[0], [(m, paintings[m][0]) for m in methods], args.crops, box)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
