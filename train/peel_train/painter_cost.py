"""What the painter costs a semantic segmentation: VOC 14 with all 21 VOC names named, read five ways from the
same logits of the shipped (int8) scene network, each decoded by the nearest prompt colour.

    cd train && PYTHONPATH=. ../.venv/bin/python -m peel_train.painter_cost --weights ../weights

- `argmax_bilinear`: the arg-max of the logits enlarged bilinearly to the photo (ablate.py's probe);
- `argmax_nearest`: the same logits enlarged by nearest neighbour (what half resolution costs);
- `painted_argmax`: the painter (generator.paint_segmentation) at half resolution, enlarged by nearest;
- `painted_softmax10`: the painter until 2026-12-07, a softmax of the logits x 10 mixing the entries' colours;
- `painted_softmax10_full`: that painter applied to the bilinearly enlarged logits (blends at full resolution).
"""

import argparse
import json

import numpy as np
import torch
import torch.nn.functional as F

from .ablate import NOTHING, Confusion, voc_items
from .conditioning import condition
from .evaluate import REPO, load_shipped, preprocess, semantic_prompt
from .generator import TASK_SEMANTIC, paint_segmentation
from .vocab import VOC_CLASSES


def softmax10(logits, colours):
    """The former painter: logits [1+T,h,w] -> the softmax(x10)-weighted mix of colours [1+T,3], [h,w,3]."""
    return torch.einsum("thw,tc->hwc", torch.softmax(logits * 10.0, 0), colours)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=str(REPO / "weights"))
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    model, phrases, words = load_shipped(args.weights)
    side = model.input_sides[TASK_SEMANTIC]
    _, entries = semantic_prompt(VOC_CLASSES)
    # Entry 0 is the unnamed background (black); entries 1..21 are VOC's ids 0..20.
    colours = torch.tensor([(0, 0, 0)] + [c for _, c in entries], dtype=torch.float32) / 255
    palette = colours.numpy() * 255
    ids = np.array([NOTHING] + list(range(len(VOC_CLASSES))))
    ways = ["argmax_bilinear", "argmax_nearest", "painted_argmax", "painted_softmax10", "painted_softmax10_full"]
    scores = {way: Confusion(len(VOC_CLASSES)) for way in ways}

    def decoded(rgb):
        """[h,w,3] in [0,1] -> 8-bit -> the VOC id of the nearest entry's colour (the unnamed background's: nothing)."""
        rgb = np.round(rgb.numpy() * 255)
        return ids[((rgb[..., None, :] - palette) ** 2).sum(-1).argmin(-1)]

    for _, img, label in voc_items(args.shared):
        task, rows, slots, mask, _ = condition(TASK_SEMANTIC, entries, None, phrases, words)
        logits = model(preprocess(img, side), task, rows, slots, mask).logits[:, : len(entries) + 1]
        size = (img.height, img.width)
        bilinear = F.interpolate(logits, size=size, mode="bilinear", align_corners=False)[0]
        nearest = F.interpolate(logits, size=size, mode="nearest")[0]
        scores["argmax_bilinear"].add(ids[bilinear.argmax(0).numpy()], label)
        scores["argmax_nearest"].add(ids[nearest.argmax(0).numpy()], label)
        enlarge = lambda rgb: F.interpolate(rgb.permute(2, 0, 1)[None], size=size, mode="nearest")[0].permute(1, 2, 0)
        painted = paint_segmentation(logits, colours[None])[0].permute(1, 2, 0)
        scores["painted_argmax"].add(decoded(enlarge(painted)), label)
        scores["painted_softmax10"].add(decoded(enlarge(softmax10(logits[0], colours))), label)
        scores["painted_softmax10_full"].add(decoded(softmax10(bilinear, colours)), label)
    print(json.dumps({f"voc14_all_named_miou_{way}": round(c.miou(), 4) for way, c in scores.items()}, indent=1))


if __name__ == "__main__":
    main()
