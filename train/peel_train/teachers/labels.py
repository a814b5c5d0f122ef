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


# ---- things no semantic teacher knows: a mask cut inside each SSD box ----------------------------------------

# How a box becomes a mask (measured on COCO128 train2017 by `measure_box_masks`, docs/MODEL.md "Box masks"):
#   box       every pixel of the box
#   grabcut   OpenCV's GrabCut initialised with the box (outside it is background)
#   grabcut+teachers  the same, and pixels the merged teachers are sure are another class start as background
BOX_MASK_METHODS = ("box", "grabcut", "grabcut+teachers")
BOX_MASK_METHOD = "grabcut"
BOX_MARGIN = 0.25  # GrabCut sees the box and this share of its size around it
BOX_MIN_SIDE = 6  # boxes narrower or shorter than this (crop pixels) are too small to cut


def box_classes(shared):
    """SSD's COCO things that no semantic teacher labels (cup, bowl, laptop, ...), in SSD's order."""
    names = merged_classes(shared)
    out = []
    for c in ssd_names(shared):
        if c not in names and c != "???" and c not in out:
            out.append(c)
    return out


def photo_classes(shared):
    """The class list of a teacher-labelled photo: the merged classes, then the box classes."""
    return merged_classes(shared) + box_classes(shared)


def box_mask(rgb, box, method, sure_other=None, iterations=4):
    """bool HxW mask of the thing inside `box` (x0, y0, x1, y1 in crop pixels), or None if the box is too small.

    sure_other: bool HxW, pixels the teachers are sure belong to some other class (for "grabcut+teachers").
    """
    import cv2

    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = np.clip(np.round(box).astype(int), 0, [w, h, w, h])
    if x1 - x0 < BOX_MIN_SIDE or y1 - y0 < BOX_MIN_SIDE:
        return None
    out = np.zeros((h, w), bool)
    if method == "box":
        out[y0:y1, x0:x1] = True
        return out
    mx, my = round(BOX_MARGIN * (x1 - x0)), round(BOX_MARGIN * (y1 - y0))
    cx0, cy0, cx1, cy1 = max(0, x0 - mx), max(0, y0 - my), min(w, x1 + mx), min(h, y1 + my)
    crop = np.ascontiguousarray(rgb[cy0:cy1, cx0:cx1, ::-1])  # OpenCV wants BGR
    mask = np.full(crop.shape[:2], cv2.GC_BGD, np.uint8)
    mask[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0] = cv2.GC_PR_FGD
    if method == "grabcut+teachers" and sure_other is not None:
        inside = mask == cv2.GC_PR_FGD
        mask[inside & sure_other[cy0:cy1, cx0:cx1]] = cv2.GC_PR_BGD
    if (mask == cv2.GC_BGD).sum() == 0 or (mask != cv2.GC_BGD).sum() == 0:
        # GrabCut needs both sides; a box covering the whole crop keeps a one-pixel frame as background.
        mask[0, :] = mask[-1, :] = cv2.GC_BGD
        mask[:, 0] = mask[:, -1] = cv2.GC_BGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(crop, mask, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        return None  # e.g. a flat box GrabCut cannot model
    fg = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
    out[cy0:cy1, cx0:cx1] = fg
    out[:y0] = out[y1:] = False
    out[:, :x0] = out[:, x1:] = False
    return out


def box_things(shared, ssd, semantic, rgb, names, trusted, method=BOX_MASK_METHOD, score=SSD_SCORE):
    """Labels the box classes SSD finds (best score first) with a mask cut inside each box.

    semantic: label map over `names` (photo_classes); only pixels no teacher answered (IGNORE: merged_label
    leaves the boxes of things outside the merged classes so) are labelled. The rest of each box stays IGNORE.
    Returns the new instances [(class, bool mask)], in the order they were labelled.
    """
    labels = ssd_names(shared)
    sure_other = semantic != IGNORE
    found = []
    for k in np.argsort(-ssd["scores"]):
        if ssd["scores"][k] < score:
            break
        cls = labels[int(ssd["classes"][k])] if 0 <= int(ssd["classes"][k]) < len(labels) else "???"
        if cls not in trusted:
            continue
        mask = box_mask(rgb, ssd["boxes"][k], method, sure_other)
        if mask is None:
            continue
        mask &= semantic == IGNORE
        if mask.sum() >= MIN_PIXELS:
            semantic[mask] = names.index(cls)
            found.append((cls, mask))
    return found


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
