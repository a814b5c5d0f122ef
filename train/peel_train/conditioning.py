"""Request -> network inputs and paint colours; mirrors `crates/peel-model/src/conditioning.rs`."""

import numpy as np
import torch

from .generator import (MAX_INSTANCES, TASK_DEPTH, TASK_INSTANCE, TASK_NORMALS,
                        TASK_SEMANTIC, paint_depth, paint_normals, paint_segmentation, scale_presence_gate)
from .vocab import embed

# Instance colours: the first 8 at least INSTANCE_MARGIN (8-bit units, Euclidean) from the background are used.
INSTANCE_PALETTE = [
    (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255),
    (255, 128, 0), (128, 0, 255), (0, 255, 128), (255, 128, 192), (0, 128, 255), (255, 255, 255),
]
INSTANCE_MARGIN = 80
# A semantic prompt's unlisted pixels: the first candidate farther than UNLISTED_MARGIN from every class colour.
# conditioning.rs's SEMANTIC_BACKGROUNDS, SEMANTIC_BACKGROUND_MARGIN and INSTANCE_BACKGROUND_MARGIN; the smoke
# test (check_conditioning_constants) reads them there.
UNLISTED_CANDIDATES = [(0, 0, 0), (255, 255, 255), (128, 128, 128), (255, 0, 255), (0, 255, 255)]
UNLISTED_MARGIN = 48


def dist(a, b):
    return float(np.linalg.norm(np.subtract(a, b, dtype=np.float64)))


def unlisted_colour(colours):
    for c in UNLISTED_CANDIDATES:
        if all(dist(c, p) > UNLISTED_MARGIN for p in colours):
            return c
    raise ValueError("prompt colours leave no free colour for unlisted pixels")


def instance_colours(background):
    return [c for c in INSTANCE_PALETTE if dist(c, background) >= INSTANCE_MARGIN][:MAX_INSTANCES]


def condition(task, entries, background, phrases, words):
    """entries: [(phrase, (r, g, b))] for semantic/referring, [(class, None)] for instance.

    phrases/words: 384-d MiniLM rows or the shipped table's projected rows (see vocab.embed).
    Returns (task index, phrases [1,T,D], slots [1,T], mask [1,T], colours [1,1+T,3] in [0,1]);
    D is the rows' size.
    """
    if task in (TASK_DEPTH, TASK_NORMALS):
        vecs, slots, colours = [], [], [(0, 0, 0)]
    elif task == TASK_INSTANCE:
        bg = background or (0, 0, 0)
        vecs = [embed(entries[0][0], phrases, words)] * MAX_INSTANCES
        slots = list(range(1, MAX_INSTANCES + 1))
        colours = [bg] + instance_colours(bg)
    else:
        vecs = [embed(p, phrases, words) for p, _ in entries]
        slots = [0] * len(entries)
        given = [c for _, c in entries]
        bg = unlisted_colour(given) if task == TASK_SEMANTIC else (background or (0, 0, 0))
        colours = [bg] + given
    t = max(1, len(vecs))
    ph = np.zeros((1, t, len(next(iter(words.values())))), np.float32)
    mask = np.zeros((1, t), bool)
    for k, v in enumerate(vecs):
        ph[0, k] = v
        mask[0, k] = True
    sl = np.zeros((1, t), np.int64)
    sl[0, : len(slots)] = slots
    col = np.zeros((1, 1 + t, 3), np.float32)
    col[0, : len(colours)] = np.array(colours, np.float32) / 255
    return (torch.tensor([task]), torch.from_numpy(ph), torch.from_numpy(sl), torch.from_numpy(mask),
            torch.from_numpy(col))


@torch.no_grad()
def paint(model, image, task, entries, background, phrases, words):
    """image [1,3,H,W] normalized -> painted RGB [3,H/2,W/2] in [0,1]. A model given `presence_gate_scales`
    ({task index: scale}; only `evaluate.py --presence-gate-scale`, a probe) paints with its gate scaled."""
    t, ph, sl, mask, col = condition(task, entries, background, phrases, words)
    out = model(image, t, ph, sl, mask)
    walk, normal = out.walk, out.normal
    logits = scale_presence_gate(out.logits, out.presence, getattr(model, "presence_gate_scales", {}).get(task, 1.0))
    if task == TASK_DEPTH:
        return paint_depth(walk)[0]
    if task == TASK_NORMALS:
        return paint_normals(normal)[0]
    n = int(mask.sum())
    return paint_segmentation(logits[:, : n + 1], col[:, : n + 1])[0]
