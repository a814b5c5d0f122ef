"""Real metric depth: Middlebury 2014 scenes (training crops and held-out validation scenes).

    python -m peel_train.realdepth --shared ../shared --out ../target/peel-data

writes `middlebury.pkl`: depth-only samples (rgb + walk, NaN where the ground truth is invalid)
from the training scenes, several crops each (cropping keeps metric depth: it only narrows the
field of view). The held-out scenes (`VALIDATION`) are never written; evaluate.py scores them.
"""

import argparse
import pickle
import random
import time
from pathlib import Path

import numpy as np
from PIL import Image

from .data import H, W, depth_to_walk

# Held out for validation; near-duplicate pairs (Piano/PianoL, Playtable/PlaytableP) stay together.
VALIDATION = ["Adirondack", "Pipes", "Playroom", "Teddy"]
CROPS_PER_SCENE = 12


def scenes(shared):
    root = Path(shared) / "data/middlebury2014"
    return sorted(p.name[: -len("_im0.jpg")] for p in root.glob("*_im0.jpg"))


def load_scene(shared, name):
    """-> (rgb uint8 HxWx3, depth metres float32 HxW with NaN where invalid)."""
    root = Path(shared) / "data/middlebury2014"
    rgb = np.asarray(Image.open(root / f"{name}_im0.jpg").convert("RGB"))
    mm = np.asarray(Image.open(root / f"{name}_depth_mm.png")).astype(np.float32)
    return rgb, np.where(mm > 0, mm / 1000.0, np.nan).astype(np.float32)


def crop(rgb, depth, zoom, fx, fy):
    """A W:H crop covering 1/zoom of the image's cover area, at relative position (fx, fy), resized to WxH."""
    h, w = depth.shape
    scale = max(W / w, H / h) * zoom
    cw, ch = min(w, round(W / scale)), min(h, round(H / scale))
    x0, y0 = round((w - cw) * fx), round((h - ch) * fy)
    box = (x0, y0, x0 + cw, y0 + ch)
    rgb = np.asarray(Image.fromarray(rgb).crop(box).resize((W, H), Image.BILINEAR))
    # Nearest for depth: no blending across depth edges; NaN (invalid) stays NaN.
    d = np.asarray(Image.fromarray(depth).crop(box).resize((W, H), Image.NEAREST))
    return rgb, d


def training_samples(shared, seed=0):
    rng = random.Random(seed)
    samples = []
    for name in scenes(shared):
        if name in VALIDATION:
            continue
        rgb, depth = load_scene(shared, name)
        for k in range(CROPS_PER_SCENE):
            zoom = 1.0 if k == 0 else rng.uniform(1.0, 2.0)
            r, d = crop(rgb, depth, zoom, rng.random(), rng.random())
            walk = np.where(np.isnan(d), np.nan, depth_to_walk(np.nan_to_num(d, nan=0.0)))
            samples.append({"rgb": r, "walk": walk.astype(np.float16), "source": f"middlebury2014/{name}"})
    return samples


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    t = time.time()
    samples = training_samples(args.shared)
    out = Path(args.out) / "middlebury.pkl"
    with open(str(out) + ".tmp", "wb") as f:
        pickle.dump(samples, f, protocol=5)
    Path(str(out) + ".tmp").rename(out)
    print(f"middlebury: {len(samples)} depth crops from {len(scenes(args.shared)) - len(VALIDATION)} scenes "
          f"in {time.time() - t:.1f}s ({', '.join(VALIDATION)} held out)")


if __name__ == "__main__":
    main()
