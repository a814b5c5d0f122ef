"""Measuring the teachers on labelled data (COCO128 train2017, CamVid train+val, the pet trimaps) before they are
trusted: pixel confusions, confidence sweeps, instance matching, and the classes found untrustworthy."""

import json
import os
import time
from pathlib import Path

import numpy as np
from PIL import Image

from ..data import IGNORE, MIN_PIXELS, coco_classes, cover_crop
from ..vocab import CAMVID_CLASSES, VOC_CLASSES
from .labels import (COCO_ALIASES, PET_CLASSES, STREET_FRACTION, VOC_TO_MERGED, ade_agreement,
                     ade_classes, cityscapes_classes, instances_from, is_street, load_pet, lut, merged_classes,
                     merged_label, pet_stems, ssd_names, teachers_merged)
from .running import CACHE, THRESHOLDS, cached, confident, infer, make_teachers, report_path

# COCO classes a teacher may fairly call one of its own classes or "other": not scored.
COCO_AMBIGUOUS = {"playingfield", "snow", "roof", "flower", "truck", "tent", "bench", "rock", "light", "stairs",
                  "platform", "railroad", "bridge", "counter", "fence"}
# Cityscapes train ids -> CamVid's 11 classes (SegNet grouping: walls are buildings, trucks and buses cars,
# riders and two-wheelers bicyclists); terrain has no CamVid class and is not scored.
CITYSCAPES_TO_CAMVID = {"road": "road", "sidewalk": "pavement", "building": "building", "wall": "building",
                        "fence": "fence", "pole": "pole", "traffic light": "sign symbol",
                        "traffic sign": "sign symbol", "tree": "tree", "sky": "sky", "person": "pedestrian",
                        "rider": "bicyclist", "car": "car", "truck": "car", "bus": "car", "train": "car",
                        "motorcycle": "bicyclist", "bicycle": "bicyclist"}


def coco_gt(shared, names):
    """COCO128 train2017 semantic ground truth (cover crops) mapped onto `names`: classes outside them are
    background, ambiguous ones and unlabelled pixels IGNORE. Yields (image path, key, label map)."""
    root = Path(shared) / "data/coco128"
    cid_name = coco_classes(shared)
    table = np.full(256, IGNORE, np.uint8)
    for cid, name in cid_name.items():
        name = COCO_ALIASES.get(name, name)
        if name in names:
            table[cid] = names.index(name)
        elif name not in COCO_AMBIGUOUS and cid != 0:
            table[cid] = names.index("background")
    for mask in sorted((root / "semantic_segmentation/masks/train2017").glob("*.png")):
        gt = np.asarray(cover_crop(Image.open(mask), Image.NEAREST))
        img = root / "images/train2017" / f"{mask.stem}.jpg"
        yield img, f"coco128/train2017/{mask.stem}", table[gt]


class Confusion:
    """Pixel confusion over classes; prediction IGNORE = no answer (counted as coverage, not as an error)."""

    def __init__(self, names):
        self.names = names
        self.m = np.zeros((len(names), len(names) + 1), np.int64)

    def add(self, pred, gt):
        ok = gt != IGNORE
        p = np.where(pred[ok] == IGNORE, len(self.names), pred[ok]).astype(np.int64)
        self.m += np.bincount(gt[ok].astype(np.int64) * (len(self.names) + 1) + p,
                              minlength=self.m.size).reshape(self.m.shape)

    def summary(self):
        answered = self.m[:, :-1]
        tp = np.diag(answered)
        union = answered.sum(0) + answered.sum(1) - tp
        present = self.m.sum(1) > 0
        iou = {self.names[c]: round(float(tp[c] / union[c]), 3) for c in range(len(self.names))
               if present[c] and union[c] > 0}
        said = answered.sum(0)
        precision = {self.names[c]: round(float(tp[c] / said[c]), 3) for c in range(len(self.names)) if said[c] > 0}
        return {"coverage": round(float(answered.sum() / max(self.m.sum(), 1)), 3),
                "accuracy": round(float(tp.sum() / max(answered.sum(), 1)), 3),
                "miou": round(float(np.mean(list(iou.values()))), 3) if iou else None,
                "iou": iou, "precision": precision,
                "pixels": {self.names[c]: int(said[c]) for c in range(len(self.names)) if said[c] > 0}}


def sweep(pairs, names, levels=(0.0, 0.4, 0.5, 0.6, 0.7, 0.8)):
    """pairs: list of (label, conf, gt) -> per threshold: coverage, accuracy, mIoU over confident pixels."""
    out = {}
    for t in levels:
        c = Confusion(names)
        for label, conf, gt in pairs:
            pred = label.copy()
            pred[conf < round(255 * t)] = IGNORE
            c.add(pred, gt)
        out[str(t)] = c.summary()
    return out


def as_names(label, src, dst, rename=None):
    return lut(src, dst, rename)[label]


def measure_semantic(teachers, shared, voc_teacher):
    """ADE20K (two models), VOC, their merge and the person teachers on COCO128 train2017 panoptic masks."""
    report = {}
    merged = merged_classes(shared)
    voc_names = [VOC_TO_MERGED.get(c, c) for c in VOC_CLASSES]
    gts = {"ade": list(coco_gt(shared, ade_classes(shared))), "voc": list(coco_gt(shared, voc_names)),
           "merged": list(coco_gt(shared, merged))}
    outs = {}
    for img, key, _ in gts["merged"]:
        for name in (voc_teacher, "ade", "mosaic", "selfie", "ssd"):
            outs[(name, key)] = cached(teachers, name, key, img)
    for name, space in (("ade", "ade"), ("mosaic", "ade"), (voc_teacher, "voc")):
        names = ade_classes(shared) if space == "ade" else voc_names
        src = ade_classes(shared) if space == "ade" else VOC_CLASSES
        rename = None if space == "ade" else VOC_TO_MERGED
        pairs = [(as_names(outs[(name, key)]["label"], src, names, rename), outs[(name, key)]["conf"], gt)
                 for _, key, gt in gts[space]]
        report[f"{name} on COCO128 train2017"] = sweep(pairs, names)
    pairs = []
    for _, key, gt in gts["ade"]:
        both = ade_agreement(outs[("ade", key)], outs[("mosaic", key)], 0.0)
        pairs.append((both, np.minimum(outs[("ade", key)]["conf"], outs[("mosaic", key)]["conf"]), gt))
    report["ade = mosaic (both sure) on COCO128 train2017"] = sweep(pairs, ade_classes(shared))
    for variant in ("ade+voc", "ade+voc+selfie", "ade+voc+selfie+ssd"):
        c = Confusion(merged)
        for _, key, gt in gts["merged"]:
            c.add(merged_label(shared, voc_teacher, outs[("ade", key)], outs[("mosaic", key)],
                               outs[(voc_teacher, key)],
                               outs[("selfie", key)] if "selfie" in variant else None,
                               outs[("ssd", key)] if "ssd" in variant else None), gt)
        report[f"merged {variant} on COCO128 train2017"] = c.summary()
    street = {"flagged": 0, "ground truth": 0, "both": 0}
    for _, key, gt in gts["ade"]:
        truth = np.isin(gt, [ade_classes(shared).index("road"),
                             ade_classes(shared).index("sidewalk")]).mean() >= STREET_FRACTION
        flagged = is_street(shared, outs[("ade", key)])
        street["flagged"] += flagged
        street["ground truth"] += bool(truth)
        street["both"] += bool(flagged and truth)
    report["street detector on COCO128 train2017"] = street
    # person: one class, three teachers
    person = {}
    gt_person = [(key, gt == merged.index("person"), gt != IGNORE) for _, key, gt in gts["merged"]]
    for t in (0.3, 0.5, 0.7):
        person[f"selfie >= {t}"] = binary_iou([(outs[("selfie", k)]["person"] >= round(255 * t), g, v)
                                              for k, g, v in gt_person])
    for name, src in ((voc_teacher, VOC_CLASSES), ("ade", ade_classes(shared))):
        idx = src.index("person")
        person[f"{name} person (conf >= {THRESHOLDS[name]})"] = binary_iou(
            [(confident(outs[(name, k)], name) == idx, g, v & (outs[(name, k)]["conf"] >= round(255 * THRESHOLDS[name])))
             for k, g, v in gt_person])
    report["person on COCO128 train2017"] = person
    return report


def time_teachers(teachers, shared, count=11):
    """CPU time of one uncached inference per teacher, mean over `count` COCO128 train2017 photos."""
    paths = sorted((Path(shared) / "data/coco128/images/train2017").glob("*.jpg"))[:count + 1]
    images = [Image.open(p).convert("RGB") for p in paths]
    out = {}
    for name in teachers:
        infer(teachers, name, images[0])  # warm-up
        t = time.process_time()
        for img in images[1:]:
            infer(teachers, name, img)
        out[name] = round((time.process_time() - t) / count * 1000)
    return out


def measure_final(teachers, shared, voc_teacher, untrusted):
    """The merged map exactly as `build` writes it, on COCO128 train2017."""
    names = merged_classes(shared)
    c = Confusion(names)
    for img, key, gt in coco_gt(shared, names):
        sem = merged_label(shared, voc_teacher, *(cached(teachers, t, key, img) for t in teachers_merged(voc_teacher)))
        sem[np.isin(sem, [names.index(n) for n in untrusted["merged"]])] = IGNORE
        c.add(sem, gt)
    return c.summary()


def binary_iou(items):
    """items: (pred bool, gt bool, valid bool) -> IoU, precision, recall over valid pixels."""
    tp = fp = fn = 0
    for p, g, v in items:
        tp += int((p & g & v).sum())
        fp += int((p & ~g & v).sum())
        fn += int((~p & g & v).sum())
    return {"iou": round(tp / max(tp + fp + fn, 1), 3), "precision": round(tp / max(tp + fp, 1), 3),
            "recall": round(tp / max(tp + fn, 1), 3)}


def measure_cityscapes(teachers, shared, step=2):
    """Cityscapes teacher on every `step`-th CamVid train+val image, classes mapped onto CamVid's 11."""
    names = CAMVID_CLASSES
    table = lut(cityscapes_classes(shared), names, CITYSCAPES_TO_CAMVID)
    pairs, street = [], 0
    for split in ("train", "val"):
        for name in sorted(os.listdir(Path(shared) / "data/camvid" / split))[::step]:
            stem = Path(name).stem
            gt = np.asarray(cover_crop(Image.open(Path(shared) / f"data/camvid/{split}annot/{stem}.png"),
                                       Image.NEAREST)).copy()
            gt[gt >= len(names)] = IGNORE
            img = Path(shared) / "data/camvid" / split / name
            out = cached(teachers, "cityscapes", f"camvid/{split}/{stem}", img)
            pairs.append((table[out["label"]], out["conf"], gt))
            street += is_street(shared, cached(teachers, "ade", f"camvid/{split}/{stem}", img))
    return {"cityscapes on CamVid train+val": sweep(pairs, names),
            "street detector recall on CamVid train+val": round(street / len(pairs), 3), "images": len(pairs)}


def measure_pets(teachers, shared, voc_teacher):
    """VOC teacher (cat, dog, background) against the pet trimaps of trainval."""
    table = lut(VOC_CLASSES, PET_CLASSES)
    table[[i for i, c in enumerate(VOC_CLASSES) if c not in PET_CLASSES]] = 0  # any other VOC class: not a pet
    pairs = []
    for stem in pet_stems(shared, "trainval"):
        img, gt = load_pet(shared, stem)
        out = cached(teachers, voc_teacher, f"pets/{stem}", Path(shared) / "data/pets/images" / f"{stem}.jpg")
        pairs.append((table[out["label"]], out["conf"], gt))
    return {f"{voc_teacher} on pets trainval (cat/dog trimaps)": sweep(pairs, PET_CLASSES)}


TRUST_PRECISION = 0.5  # a class whose measured pixel precision is lower is never labelled
TRUST_MIN_PIXELS = 2000  # a class predicted on fewer measured pixels than this counts as unmeasured (kept)
MERGED_REPORT = "merged ade+voc+selfie+ssd on COCO128 train2017"


def untrusted_classes(shared, voc_teacher, report):
    """Classes whose measured pixel precision is under TRUST_PRECISION, per label set.

    Merged: on COCO128 train2017, except cat and dog, measured on the 300 pet photos (COCO128 has a handful).
    Street: a Cityscapes class takes the precision of the CamVid class it maps to (CamVid train+val).
    """
    merged = report[MERGED_REPORT]
    precision = {c: p for c, p in merged["precision"].items() if merged["pixels"][c] >= TRUST_MIN_PIXELS}
    pets = report[f"{voc_teacher} on pets trainval (cat/dog trimaps)"][str(THRESHOLDS[voc_teacher])]
    precision.update({c: pets["precision"][c] for c in ("cat", "dog")})
    city = report["cityscapes on CamVid train+val"][str(THRESHOLDS["cityscapes"])]
    street = {c: city["precision"][CITYSCAPES_TO_CAMVID[c]] for c in cityscapes_classes(shared)
              if c in CITYSCAPES_TO_CAMVID and city["pixels"].get(CITYSCAPES_TO_CAMVID[c], 0) >= TRUST_MIN_PIXELS}
    return {"merged": sorted(c for c, p in precision.items() if p < TRUST_PRECISION),
            "street": sorted(c for c, p in street.items() if p < TRUST_PRECISION)}


def match_instances_by_iou(pred, pred_list, gt, gt_list, classes):
    """Greedy IoU matching of predicted to ground-truth instances per class; returns (tp, n_pred, n_gt, IoUs of
    matches at >= 0.5)."""
    tp, ious, n_pred, n_gt = 0, [], 0, 0
    for c in classes:
        p = [i["id"] for i in pred_list if i["class"] == c]
        g = [i["id"] for i in gt_list if i["class"] == c and i["pixels"] >= MIN_PIXELS]
        n_pred, n_gt = n_pred + len(p), n_gt + len(g)
        pairs = []
        for a in p:
            pa = pred == a
            for b in g:
                gb = gt == b
                inter = int((pa & gb).sum())
                if inter:
                    pairs.append((inter / int((pa | gb).sum()), a, b))
        used_p, used_g = set(), set()
        for iou, a, b in sorted(pairs, reverse=True):
            if iou >= 0.5 and a not in used_p and b not in used_g:
                used_p.add(a), used_g.add(b)
                tp += 1
                ious.append(iou)
    return tp, n_pred, n_gt, ious


def measure_instances(teachers, shared, voc_teacher, untrusted):
    """SSD boxes x merged class map (untrusted classes dropped, as in `build`) against COCO128 train2017
    instance polygons of the classes this can produce."""
    from ..data import load_coco

    names = merged_classes(shared)
    classes = sorted(set(ssd_names(shared)) & set(names) - {"background"} - set(untrusted["merged"]))
    samples = load_coco(shared, "train2017")
    stems = [mask.stem for mask in sorted((Path(shared) / "data/coco128/semantic_segmentation/masks/train2017")
                                          .glob("*.png"))
             if (Path(shared) / "data/coco128/instance_segmentation/labels/train2017" / f"{mask.stem}.txt").exists()]
    assert len(stems) == len(samples)
    report = {"classes": classes}
    for score in (0.3, 0.5, 0.7):
        tp = n_pred = n_gt = 0
        ious = []
        for stem, s in zip(stems, samples):
            key = f"coco128/train2017/{stem}"
            img = Path(shared) / "data/coco128/images/train2017" / f"{stem}.jpg"
            sem = merged_label(shared, voc_teacher,
                               *(cached(teachers, t, key, img) for t in teachers_merged(voc_teacher)))
            sem[np.isin(sem, [names.index(c) for c in untrusted["merged"]])] = IGNORE
            inst, lst = instances_from(shared, cached(teachers, "ssd", key, img), sem, names, score)
            gt_list = [dict(i, **{"class": COCO_ALIASES.get(i["class"], i["class"])}) for i in s["instances"]]
            a, b, c, d = match_instances_by_iou(inst, lst, s["instance"], gt_list, classes)
            tp, n_pred, n_gt, ious = tp + a, n_pred + b, n_gt + c, ious + d
        p, r = tp / max(n_pred, 1), tp / max(n_gt, 1)
        report[f"score >= {score}"] = {"precision@0.5": round(p, 3), "recall@0.5": round(r, 3),
                                       "F1@0.5": round(2 * p * r / max(p + r, 1e-9), 3),
                                       "mean IoU of matches": round(float(np.mean(ious)), 3) if ious else None,
                                       "predicted": n_pred, "ground truth": n_gt}
    return report


def measure(shared, voc_teacher):
    """Every measurement above -> target/peel-teachers/report.json (report-voc513.json for that VOC teacher)."""
    teachers = make_teachers(shared)
    report = {}
    for part, more in ((measure_semantic, (voc_teacher,)), (measure_pets, (voc_teacher,)), (measure_cityscapes, ())):
        t = time.time()
        report.update(part(teachers, shared, *more))
        print(f"{part.__name__}: {time.time() - t:.0f}s", flush=True)
    report["CPU ms per image (one thread)"] = time_teachers(teachers, shared)
    report["untrusted"] = untrusted_classes(shared, voc_teacher, report)
    report["merged, untrusted classes dropped, on COCO128 train2017"] = measure_final(teachers, shared, voc_teacher,
                                                                                     report["untrusted"])
    report["instances on COCO128 train2017"] = measure_instances(teachers, shared, voc_teacher, report["untrusted"])
    CACHE.mkdir(parents=True, exist_ok=True)
    report_path("report", voc_teacher).write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
