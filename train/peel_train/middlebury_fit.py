"""Memorized or learned? Depth δ1 of exported models on the Middlebury 2014 scenes they trained on
against the scenes held out (realdepth.VALIDATION), whole frames, scored as evaluate.py scores.

    python -m peel_train.middlebury_fit --shared ../../shared ../target/peel-gen-1.8 ../target/peel-gen-2
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from .evaluate import MAX_DEPTH, load_shipped, painting, peel_metrics
from .generator import TASK_DEPTH
from .realdepth import VALIDATION, load_scene, scenes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default="../../shared")
    ap.add_argument("weights", nargs="+", help="exported weight folders (manifest.json inside)")
    args = ap.parse_args()
    out = Path(tempfile.mkdtemp(prefix="peel-middlebury-fit-"))
    groups = (("trained on", [n for n in scenes(args.shared) if n not in VALIDATION]), ("held out", VALIDATION))
    for weights in args.weights:
        model, phrases, words = load_shipped(weights)
        row = {}
        for group, names in groups:
            preds, gts = [], []
            for name in names:
                rgb, depth = load_scene(args.shared, name)
                g, p = out / f"{name}.npy", out / f"{Path(weights).name}_{name}.png"
                np.save(g, depth)
                painting(model, Image.fromarray(rgb), TASK_DEPTH, [], None, phrases, words).save(p)
                preds.append(p)
                gts.append(g)
            row[group] = peel_metrics("depth", preds, gts, "--max-depth", str(MAX_DEPTH))["delta1"]
        print(f"{weights}: δ1 {row['trained on']:.3f} on the {len(groups[0][1])} scenes trained on, "
              f"{row['held out']:.3f} on the {len(VALIDATION)} held out", flush=True)


if __name__ == "__main__":
    main()
