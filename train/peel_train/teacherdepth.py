"""FastDepth (NYUv2-trained indoor metric depth, TFLite) measured as a depth teacher on Middlebury 2014.

    python -m peel_train.teacherdepth measure --shared ../../shared   # -> target/peel-teachers/fastdepth-report.json

The model (../shared/teachers/fast_depth_224.tflite) takes uint8 NHWC 224x224 RGB with input scale 1/255, so raw
pixels go in as they are ([0, 1] to the float graph); its uint8 output times its scale (0.0717) is metres, 0-18.3 m.
On Middlebury, raw RGB scored better than BGR and than halved intensities, so that is the reading used.

`measure` runs it on the cover crop of every Middlebury 2014 scene (the region `data.cover_crop` keeps, resized
to 224x224 by `teachers.square_input`), resizes the prediction bilinearly to the 256x192 training crop and scores
it against the ground truth cropped the same way (nearest) on valid pixels: δ1, AbsRel, median(pred)/median(true),
and δ1 / AbsRel after per-scene median scaling; means are per scene, as `peel metrics` averages. The skimage
Middlebury motorcycle (an evaluation image: measured, never labelled) is scored too, and so is the whole frame
squashed to 224x224 and scored at full size (the pixels evaluate.py scores the peel model on).

Verdict (report of this module): not useful as metric labels. On the held-out scenes (realdepth.VALIDATION) the
mean is δ1 0.40, AbsRel 0.29 (the peel model: 0.367, 0.294; the best single constant: 0.38), under the bar in
USEFUL; its metric scale is off by up to 2.3x (Pipes 0.43x, Playroom 0.62x, Shelves 0.59x), and even its
median-scaled shape there is worse than the peel model's (whole frame, pooled as evaluate.py's depth_context:
δ1 0.63 against 0.81). So no photos are labelled with it.
"""

import argparse
import json
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .data import H, W
from .realdepth import VALIDATION, load_scene, scenes
from .teachers import CACHE, Teacher, crop_box, square_input

REPORT = CACHE / "fastdepth-report.json"
# The bar (the peel model on the held-out Middlebury scenes: δ1 0.367, AbsRel 0.294): the teacher is used only
# when its mean over those scenes beats both clearly.
USEFUL = {"delta1": 0.45, "abs_rel": 0.25}


def predict(model, img, size=None):
    """Metric depth (metres) at the 256x192 cover crop of a PIL image, or with `size` (w, h) of the whole frame
    squashed to 224x224 and resized back to `size`."""
    model.run(square_input(img, 224) if size is None else np.asarray(img.resize((224, 224), Image.BILINEAR)))
    q = model.it.get_output_details()[0]["quantization"][0]
    d = torch.from_numpy(model.output()[..., 0].astype(np.float32) * q)[None, None]
    return F.interpolate(d, size=(H, W) if size is None else size[::-1], mode="bilinear", align_corners=False)[0, 0].numpy()


def scores(pred, true):
    ok = np.isfinite(true) & (true > 0)
    p, t = np.maximum(pred[ok], 1e-3), true[ok]
    s = p * np.median(t) / np.median(p)
    return {"delta1": float(np.mean(np.maximum(p / t, t / p) < 1.25)), "abs_rel": float(np.mean(np.abs(p - t) / t)),
            "median_ratio": float(np.median(p) / np.median(t)),
            "scaled_delta1": float(np.mean(np.maximum(s / t, t / s) < 1.25)),
            "scaled_abs_rel": float(np.mean(np.abs(s - t) / t))}


def motorcycle():
    """skimage's Middlebury motorcycle (left image, metres), with evaluate.py's calibration."""
    from skimage import data
    left, _, disparity = data.stereo_motorcycle()
    z = np.where(np.isfinite(disparity), 193.001 * 994.978 / (disparity + 31.086) / 1000.0, np.nan)
    return left, z.astype(np.float32)


def mean(rows):
    return {k: round(float(np.mean([r[k] for r in rows])), 3) for k in rows[0]}


def best_constant(truths):
    """δ1 of the best single depth for all these pixels pooled (what ignoring the photo scores; evaluate.py's)."""
    t = np.concatenate(truths)
    return round(max(float(np.mean(np.maximum(c / t, t / c) < 1.25)) for c in np.geomspace(0.1, 80, 400)), 3)


def measure(shared):
    model = Teacher(shared, "fast_depth_224.tflite", 224)
    items = [(name, *load_scene(shared, name)) for name in scenes(shared)] + [("motorcycle", *motorcycle())]
    per, full, truths, band = {}, {}, {}, {"border 8px": [], "interior": []}
    bins = {(a, b): [0, 0] for a, b in ((0, 1.5), (1.5, 2.5), (2.5, 4), (4, 8), (8, 99))}
    t0 = time.process_time()
    for name, rgb, depth in items:
        img = Image.fromarray(rgb)
        pred = predict(model, img)
        true = np.asarray(Image.fromarray(depth).resize((W, H), Image.NEAREST, box=crop_box(img.size)))
        per[name] = scores(pred, true)
        full[name] = scores(predict(model, img, img.size), depth)
        ok = np.isfinite(true) & (true > 0)
        truths[name] = true[ok]
        t = np.where(ok, true, 1.0)
        good = np.maximum(pred / t, t / np.maximum(pred, 1e-3)) < 1.25
        edge = np.ones((H, W), bool)
        edge[8:-8, 8:-8] = False
        band["border 8px"].append(float(good[ok & edge].mean()))
        band["interior"].append(float(good[ok & ~edge].mean()))
        for (a, b), n in bins.items():
            sel = ok & (pred >= a) & (pred < b)
            n[0], n[1] = n[0] + int(sel.sum()), n[1] + int(good[sel].sum())
    seconds = (time.process_time() - t0) / len(items)
    held, train = VALIDATION, [n for n in scenes(shared) if n not in VALIDATION]
    report = {
        "input": "uint8 RGB NHWC 224x224, raw pixels (scale 1/255 -> [0, 1]); output uint8 x 0.0717 = metres",
        "per scene (cover crop)": {n: {k: round(v, 3) for k, v in r.items()} for n, r in per.items()},
        "mean, held-out (VALIDATION)": mean([per[n] for n in held]),
        "mean, the other 9 scenes": mean([per[n] for n in train]),
        "mean, all 13 Middlebury scenes": mean([per[n] for n in held + train]),
        "motorcycle": {k: round(v, 3) for k, v in per["motorcycle"].items()},
        "best constant delta1 (cover crop, pooled)": {"held-out": best_constant([truths[n] for n in held]),
                                                      "other 9": best_constant([truths[n] for n in train]),
                                                      "motorcycle": best_constant([truths["motorcycle"]])},
        "whole frame squashed to 224, scored at full size": {
            "held-out": mean([full[n] for n in held]), "other 9": mean([full[n] for n in train]),
            "motorcycle": {k: round(v, 3) for k, v in full["motorcycle"].items()}},
        "delta1 by band (cover crop), mean over scenes": {k: round(float(np.mean(v)), 3) for k, v in band.items()},
        "delta1 by predicted depth (cover crop), pooled [delta1, pixels]": {
            f"{a}-{b} m": [round(g / n, 3), n] for (a, b), (n, g) in bins.items() if n},
        "peel model, held-out (target/peel-eval-s3)": {"delta1": 0.367, "abs_rel": 0.294, "median_scaled_delta1": 0.806},
        "bar": USEFUL, "CPU seconds per image (two inferences)": round(seconds, 3),
    }
    h = report["mean, held-out (VALIDATION)"]
    report["useful"] = bool(h["delta1"] >= USEFUL["delta1"] and h["abs_rel"] <= USEFUL["abs_rel"])
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=1))
    cols = ("delta1", "abs_rel", "median_ratio", "scaled_delta1", "scaled_abs_rel")
    print(f"{'cover crop':<32}" + "".join(f"{c:>15}" for c in cols))
    for n, r in list(per.items()) + [(k, report[k]) for k in report if k.startswith("mean")]:
        print(f"{n + (' (held out)' if n in held else ''):<32}" + "".join(f"{r[c]:>15.3f}" for c in cols))
    for k, v in report.items():
        if not k.startswith(("per scene", "mean", "motorcycle", "input")):
            print(k, json.dumps(v))
    return report


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["measure"])
    ap.add_argument("--shared", default="../../shared")
    args = ap.parse_args()
    torch.set_num_threads(1)
    measure(args.shared)


if __name__ == "__main__":
    main()
