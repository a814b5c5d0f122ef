"""Street-scale metric depth for CamVid's training photos, from its ground-truth labels and road geometry.

    python -m peel_train.streetdepth --data ../target/peel-data   # camvid.pkl -> camvid_depth.pkl

Peel learns depth from synthetic scenes and indoor Middlebury crops, and paints real streets at a
quarter of their distance. CamVid's photos come from one dashboard camera, nearly level, so a
flat road fixes their scale: a road pixel on row v lies at z = f·h / (v − v_h) (f the focal length
in pixels, h the camera height, v_h the horizon row). Above the road, for a level camera an image
column cuts a vertical surface (a façade, a car's back, a tree trunk, a person) in a vertical line
at one depth, so such a surface takes the depth of the road where it stands in that column, up to
where its class changes. Sky is infinitely far. Everything else is unlabelled (NaN): the loss
ignores it. Rows within `MIN_ROWS` of the horizon are unlabelled too, since a one-row error
there changes the depth by more than δ1's 25 %.

The camera is an assumption, not a calibration: `HFOV_DEG` is the typical field of view the
synthetic scenes are drawn around, `CAMERA_HEIGHT_M` a car's dashboard, and `HORIZON_ROW` the
lowest row the road ever reaches in CamVid's training labels (at 256x192: the 1st percentile of
the road's top rows in the middle columns is 91.7; the median is 100).
"""

import argparse
import math
import pickle
import time
from pathlib import Path

import numpy as np

from .data import H, IGNORE, depth_to_walk, write_pickle

HFOV_DEG = 60.0
CAMERA_HEIGHT_M = 1.3
HORIZON_ROW = 90.0
MIN_ROWS = 8  # rows below the horizon before a road pixel is labelled (z <= about 36 m)
GROUND = ("road", "pavement")
SKY = "sky"


def street_depth(semantic, classes, hfov_deg=HFOV_DEG, height_m=CAMERA_HEIGHT_M):
    """HxW label map (class indices into `classes`, IGNORE unlabelled) -> HxW metres (inf sky, NaN unknown).
    The horizon and the unlabelled band scale with the map's height (the constants are for H rows)."""
    h, w = semantic.shape
    f = (w / 2) / math.tan(math.radians(hfov_deg) / 2)
    below = np.arange(h, dtype=np.float64) + 0.5 - HORIZON_ROW * h / H
    plane = np.where(below >= MIN_ROWS * h / H, f * height_m / np.maximum(below, 1e-6), np.nan)
    ground = np.isin(semantic, [classes.index(c) for c in GROUND])
    sky = semantic == classes.index(SKY)
    depth = np.full((h, w), np.nan)
    depth[sky] = np.inf
    for x in range(w):
        contact, run = np.nan, None  # depth of the road below, and the class standing on it
        for y in range(h - 1, -1, -1):
            c = semantic[y, x]
            if ground[y, x]:
                contact, run = plane[y], None
                depth[y, x] = contact
            elif sky[y, x] or c == IGNORE:
                contact, run = np.nan, None
            elif not np.isnan(contact) and run in (None, c):
                run = c
                depth[y, x] = contact
            else:
                contact, run = np.nan, None
    return depth.astype(np.float32)


def build(samples):
    out = []
    for s in samples:
        depth = street_depth(s["semantic"], s["classes"])
        walk = np.where(np.isnan(depth), np.nan, depth_to_walk(np.nan_to_num(depth, nan=0.0)))
        out.append({"rgb": s["rgb"], "walk": walk.astype(np.float16), "source": "camvid/road-geometry"})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="the data folder holding camvid.pkl")
    ap.add_argument("--out", default=None, help="where to write camvid_depth.pkl (default: --data)")
    args = ap.parse_args()
    t = time.time()
    with open(Path(args.data) / "camvid.pkl", "rb") as f:
        samples = build(pickle.load(f))
    labelled = np.mean([np.isfinite(s["walk"].astype(np.float32)).mean() for s in samples])
    write_pickle(Path(args.out or args.data) / "camvid_depth.pkl", samples)
    print(f"camvid_depth: {len(samples)} photos, {labelled:.0%} of pixels labelled, {time.time() - t:.0f} s "
          f"(hfov {HFOV_DEG}°, camera {CAMERA_HEIGHT_M} m, horizon row {HORIZON_ROW})")


if __name__ == "__main__":
    main()
