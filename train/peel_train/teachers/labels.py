"""Label sets and the rules that turn teacher outputs into one label map: class lists and lookups, the merge of
ADE20K x2 + VOC + selfie, instances cut from SSD boxes, the street detector, and the pets' trimap ground truth."""

from pathlib import Path

import numpy as np
from PIL import Image

from ..data import H, IGNORE, MIN_PIXELS, W, cover_crop
from ..vocab import VOC_CLASSES
from .running import THRESHOLDS, confident, read_labels

# ADE20K-32 (ade20k32.txt) in the words the other sources use: "other" is everything outside the 31 classes.
ADE_RENAME = {"other": "background", "windowpane": "window", "earth": "ground", "painting": "picture",
              "armchair": "chair"}
CITYSCAPES_RENAME = {"vegetation": "tree", "terrain": "ground"}
# VOC things in the merged label set: a potted plant is a plant and a dining table a table, as ADE20K labels them.
VOC_TO_MERGED = {"background": "background", "dining table": "table", "potted plant": "plant", "sofa": "sofa"}
# COCO panoptic names (after vocab.coco_name) -> the names the teachers use.
COCO_ALIASES = {"wall brick": "wall", "wall stone": "wall", "wall tile": "wall", "wall wood": "wall",
                "floor wood": "floor", "window blind": "window", "pavement": "sidewalk", "dirt": "ground",
                "sand": "ground", "gravel": "ground", "dining table": "table", "potted plant": "plant",
                "couch": "sofa", "river": "water", "tv": "tv monitor"}

SSD_SCORE = 0.5
STREET_FRACTION = 0.15  # ADE20K road + sidewalk share that makes a photo a street scene for the Cityscapes teacher


def teachers_merged(voc_teacher):
    """merged_label's teacher arguments, in order."""
    return ("ade", "mosaic", voc_teacher, "selfie", "ssd")


# ---- label sets -------------------------------------------------------------------------------------------

def ade_classes(shared):
    return [ADE_RENAME.get(c, c) for c in read_labels(shared, "ade20k32.txt")]


def cityscapes_classes(shared):
    return [CITYSCAPES_RENAME.get(c, c) for c in read_labels(shared, "cityscapes19.txt")]


def merged_classes(shared):
    """ADE20K-32 stuff and things plus the VOC things ADE20K lacks, one name per meaning."""
    out = []
    for c in ade_classes(shared) + [VOC_TO_MERGED.get(c, c) for c in VOC_CLASSES]:
        if c not in out:
            out.append(c)
    return out


def lut(src, dst, rename=None):
    """uint8 lookup from one class list's indices to another's (by name); unknown names -> IGNORE."""
    table = np.full(256, IGNORE, np.uint8)
    for i, c in enumerate(src):
        c = (rename or {}).get(c, c)
        if c in dst:
            table[i] = dst.index(c)
    return table


# ---- the merge --------------------------------------------------------------------------------------------

def ade_agreement(ade, mosaic, threshold=None):
    """The two ADE20K-32 models' label where they agree and both are sure; IGNORE elsewhere."""
    t = round(255 * (THRESHOLDS["ade"] if threshold is None else threshold))
    label = ade["label"].copy()
    label[(ade["label"] != mosaic["label"]) | (np.minimum(ade["conf"], mosaic["conf"]) < t)] = IGNORE
    return label


def merged_label(shared, voc_teacher, ade, mosaic, voc, selfie=None, ssd=None):
    """Teacher outputs (as `cached` returns them; `voc` is voc_teacher's) -> one label map over merged_classes().

    Neither ADE20K model ever answers "other", and VOC calls unknown animals dogs, so inside the boxes SSD finds
    for objects outside the merged classes (a giraffe, a pizza) only person pixels are kept.
    """
    person = None if selfie is None else selfie["person"] >= round(255 * THRESHOLDS["selfie"])
    out = merge(shared, ade_agreement(ade, mosaic), confident(voc, voc_teacher), person)
    if ssd is not None:
        names, labels = merged_classes(shared), ssd_names(shared)
        for box, cls, score in zip(ssd["boxes"], ssd["classes"], ssd["scores"]):
            if score >= SSD_SCORE and 0 <= cls < len(labels) and labels[cls] not in names:
                x0, y0, x1, y1 = np.clip(np.round(box).astype(int), 0, [W, H, W, H])
                region = out[y0:y1, x0:x1]
                region[region != names.index("person")] = IGNORE
    return out


def merge(shared, ade, voc, person=None):
    """One label map over merged_classes(): ADE20K where it is sure, VOC things over it where VOC is sure.

    ade, voc: confident label maps (IGNORE where unsure) in their own class lists. Where ADE20K names a class VOC
    also has (person, car, chair, sofa, table, plant) and VOC is sure it is background, the pixel is ignored.
    `person` (optional bool map from the selfie teacher) must agree with every person pixel.
    """
    names = merged_classes(shared)
    bg = names.index("background")
    a = lut(ade_classes(shared), names)[ade]
    v = lut(VOC_CLASSES, names, VOC_TO_MERGED)[voc]
    out = a.copy()
    voc_thing = (v != IGNORE) & (v != bg)
    out[voc_thing] = v[voc_thing]
    both = [names.index(VOC_TO_MERGED.get(c, c)) for c in VOC_CLASSES[1:]
            if VOC_TO_MERGED.get(c, c) in ade_classes(shared)]
    out[np.isin(a, both) & (v == bg)] = IGNORE
    if person is not None:
        out[(out == names.index("person")) & ~person] = IGNORE
    return out


def is_street(shared, ade_out):
    names = ade_classes(shared)
    label = confident(ade_out, "ade")
    return bool(np.isin(label, [names.index("road"), names.index("sidewalk")]).mean() >= STREET_FRACTION)


# ---- instances: SSD boxes x the merged class map ----------------------------------------------------------

INSTANCE_COVERAGE = 0.9  # a class gets instances only when they cover this share of its pixels


def ssd_names(shared):
    """SSD output class k is line k + 1 of ssd_mobilenet.txt (line 0 is the '???' placeholder)."""
    return [COCO_ALIASES.get(c, c) for c in read_labels(shared, "ssd_mobilenet.txt")[1:]]


def instances_from(shared, ssd, semantic, names, score=SSD_SCORE):
    """Each detection (best score first) claims the unclaimed pixels of its class inside its box.

    Returns (uint16 instance map, instance list). A class whose instances leave over 10 % of its pixels
    unclaimed gets none, since the trainer would read those pixels as background.
    """
    labels = ssd_names(shared)
    inst = np.zeros(semantic.shape, np.uint16)
    found = []
    for k in np.argsort(-ssd["scores"]):
        if ssd["scores"][k] < score:
            break
        cls = labels[int(ssd["classes"][k])] if 0 <= int(ssd["classes"][k]) < len(labels) else "???"
        if cls not in names or cls == "background":
            continue
        x0, y0, x1, y1 = np.clip(np.round(ssd["boxes"][k]).astype(int), 0, [W, H, W, H])
        region = np.zeros(semantic.shape, bool)
        region[y0:y1, x0:x1] = True
        mask = region & (semantic == names.index(cls)) & (inst == 0)
        if mask.sum() >= MIN_PIXELS:
            found.append({"id": len(found) + 1, "class": cls, "thing": True, "score": float(ssd["scores"][k])})
            inst[mask] = found[-1]["id"]
    kept = []
    for c in {i["class"] for i in found}:
        ids = [i["id"] for i in found if i["class"] == c]
        if np.isin(inst, ids).sum() < INSTANCE_COVERAGE * (semantic == names.index(c)).sum():
            inst[np.isin(inst, ids)] = 0
            continue
        kept += [i for i in found if i["class"] == c]
    out, instances = np.zeros_like(inst), []
    for new_id, i in enumerate(sorted(kept, key=lambda i: i["id"]), 1):
        ys, xs = np.nonzero(inst == i["id"])
        out[inst == i["id"]] = new_id
        instances.append({"id": new_id, "class": i["class"], "thing": True,
                          "bbox": [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1],
                          "pixels": int(len(xs))})
    return out, instances


# ---- pets: ground truth from the Oxford-IIIT Pet trimaps (measured against, and trained on) ----------------

PET_CLASSES = ["background", "cat", "dog"]


def pet_class(stem):
    """Oxford-IIIT Pet convention: cat breeds are capitalised (Abyssinian, Bengal), dog breeds lower case."""
    return "cat" if stem[0].isupper() else "dog"


def load_pet(shared, stem):
    """(cover-cropped photo, label over PET_CLASSES) from the trimap: 1 pet, 2 background, 3 boundary (IGNORE)."""
    root = Path(shared) / "data/pets"
    img = Image.open(root / "images" / f"{stem}.jpg").convert("RGB")
    tri = np.asarray(cover_crop(Image.open(root / "trimaps" / f"{stem}.png"), Image.NEAREST))
    label = np.full(tri.shape, IGNORE, np.uint8)
    label[tri == 2] = 0
    label[tri == 1] = PET_CLASSES.index(pet_class(stem))
    return img, label


def pet_stems(shared, split):
    return [line.split()[0] for line in open(Path(shared) / f"data/pets/{split}.txt") if line.strip()]
