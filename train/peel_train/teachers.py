"""Teacher pseudo-labels for real photos, measured on labelled data before they are trusted.

    python -m peel_train.teachers measure --shared ../../shared   # per-teacher scores -> target/peel-teachers/report.json
    python -m peel_train.teachers build --shared ../../shared --out ../target/peel-data   # pickles + build.json
    (both: `measure build`)

Teachers (TFLite, ../shared/teachers): DeepLabV3 VOC-21, DeepLabV3+ ADE20K-32, MOSAIC ADE20K-32 (measured only),
DeepLab Cityscapes-19 (street photos only), MediaPipe selfie (person) and SSD-MobileNet COCO boxes. Every teacher sees
the photo's cover crop (the region `data.cover_crop` keeps) resized to its square input, so its output maps onto the
256x192 training crop. Outputs are cached per teacher and image under target/peel-teachers/cache, so a rerun only
runs what is missing. Evaluation images (CamVid test, COCO128 val2017, voc-val-samples, Middlebury, the Vision Banana
photos) are never labelled for training.
"""

import argparse
import functools
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageFilter

from .data import H, IGNORE, W, coco_classes, cover_crop, write_pickle
from .vocab import CAMVID_CLASSES, VOC_CLASSES

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
CACHE = Path(__file__).resolve().parents[2] / "target/peel-teachers"

# ADE20K-32 (ade20k32.txt) in the words the other sources use: "other" is everything outside the 31 classes.
ADE_RENAME = {"other": "background", "windowpane": "window", "earth": "ground", "painting": "picture",
              "armchair": "chair"}
CITYSCAPES_RENAME = {"vegetation": "tree", "terrain": "ground"}
# VOC things in the merged label set: a potted plant is a plant and a dining table a table, as ADE20K labels them.
VOC_TO_MERGED = {"background": "background", "dining table": "table", "potted plant": "plant", "sofa": "sofa"}

# Confidence thresholds (max softmax probability), chosen from `measure` (docs/MODEL.md, "Teachers").
THRESHOLDS = {"voc": 0.6, "voc513": 0.6, "ade": 0.5, "cityscapes": 0.6, "selfie": 0.5}
SSD_SCORE = 0.5
# The VOC teacher of the merge: "voc" (DeepLabV3 MobileNetV2 at 257 px, peel-gen-1 and 2) or "voc513" (the
# quantized DeepLabV3 MobileNetV2 at 513 px: VOC val mIoU 0.829 against 0.671). `--voc-teacher` sets it.
VOC = "voc"
VOC_TEACHERS = ("voc", "voc513")


def teachers_merged():
    """merged_label's arguments, in order."""
    return ("ade", "mosaic", VOC, "selfie", "ssd")


def report_path(kind):
    """report.json / build.json for the VOC teacher in use (the 257-px one keeps the plain names)."""
    return CACHE / (f"{kind}.json" if VOC == "voc" else f"{kind}-{VOC}.json")
STREET_FRACTION = 0.15  # ADE20K road + sidewalk share that makes a photo a street scene for the Cityscapes teacher


SHARED = Path("../../shared")  # the shared/ folder (teachers and data); main() sets it from --shared


@functools.cache
def read_labels(name):
    return [line.strip() for line in open(SHARED / "teachers" / name) if line.strip()]


def crop_box(size):
    """The region of an image of `size` that `cover_crop` keeps, in the image's own pixels."""
    w, h = size
    s = max(W / w, H / h)
    sw, sh = max(W, round(w * s)), max(H, round(h * s))
    x0, y0 = (sw - W) // 2, (sh - H) // 2
    return (x0 * w / sw, y0 * h / sh, (x0 + W) * w / sw, (y0 + H) * h / sh)


def square_input(img, size):
    return np.asarray(img.resize((size, size), Image.BILINEAR, box=crop_box(img.size)))


def to_crop(logits):
    """HxWxC teacher logits (any square size) -> (label, confidence) at the 256x192 crop, bilinear like DeepLab."""
    t = torch.from_numpy(np.ascontiguousarray(logits, dtype=np.float32)).permute(2, 0, 1)[None]
    p = F.interpolate(t, size=(H, W), mode="bilinear", align_corners=False)[0].softmax(0)
    conf, label = p.max(0)
    return label.numpy().astype(np.uint8), conf.numpy().astype(np.float32)


class Teacher:
    """One TFLite model, one thread, XNNPACK; `logits` names the tensor read before the model's own arg-max."""

    def __init__(self, file, size, logits=None):
        from ai_edge_litert.interpreter import Interpreter

        with warnings.catch_warnings():  # reading the logits needs the (debug-labelled) tensor preservation
            warnings.simplefilter("ignore")
            self.it = Interpreter(model_path=str(SHARED / "teachers" / file), num_threads=1,
                                  experimental_preserve_all_tensors=logits is not None)
        self.it.allocate_tensors()
        self.inp = self.it.get_input_details()[0]
        self.size = size
        self.logits = None
        if logits is not None:
            self.logits = next(d for d in self.it.get_tensor_details()
                               if d["name"].startswith(logits) and len(d["shape"]) == 4)

    def run(self, x):
        self.it.set_tensor(self.inp["index"], x[None].astype(self.inp["dtype"]))
        self.it.invoke()

    def dequantized_logits(self):
        scale, zero = self.logits["quantization"]
        return (self.it.get_tensor(self.logits["index"])[0].astype(np.float32) - zero) * scale

    def output(self, k=0):
        return self.it.get_tensor(self.it.get_output_details()[k]["index"])[0]


def make_teachers():
    return {
        "voc": Teacher("deeplabv3_257_mv_gpu.tflite", 257),
        "voc513": Teacher("deeplabv3_mnv2_pascal_quant.tflite", 513, "logits/semantic/BiasAdd"),
        "ade": Teacher("deeplabv3_mnv2_ade20k_uint8.tflite", 512, "logits/semantic/BiasAdd"),
        "mosaic": Teacher("mobile_segmenter_r4_quant_argmax_uint8.tflite", 512, "decoder/add"),
        "cityscapes": Teacher("deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite", 513, "logits/semantic/BiasAdd"),
        "selfie": Teacher("selfie_segmentation.tflite", 256),
        "ssd": Teacher("ssd_mobilenet.tflite", 300),
    }


def infer(teachers, name, img):
    """Runs one teacher on a PIL image; returns arrays at the 256x192 crop (boxes in crop pixels)."""
    t = teachers[name]
    x = square_input(img, t.size)
    if name == "voc":
        t.run(x.astype(np.float32) / 127.5 - 1)
        label, conf = to_crop(t.output())
    elif name in ("ade", "mosaic", "cityscapes", "voc513"):
        t.run(x)
        label, conf = to_crop(t.dequantized_logits())
    elif name == "selfie":
        t.run(x.astype(np.float32) / 255)
        p = torch.from_numpy(t.output()[..., 0].copy())[None, None]
        p = F.interpolate(p, size=(H, W), mode="bilinear", align_corners=False)[0, 0].numpy()
        return {"person": np.round(p * 255).astype(np.uint8)}
    elif name == "ssd":
        t.run(x)
        boxes, classes, scores = t.output(0), t.output(1), t.output(2)
        n = int(t.output(3))
        yx = boxes[:n] * np.array([H, W, H, W], np.float32)
        return {"boxes": yx[:, [1, 0, 3, 2]], "classes": classes[:n].astype(np.int32), "scores": scores[:n]}
    else:
        raise KeyError(name)
    return {"label": label, "conf": np.round(conf * 255).astype(np.uint8)}


def cached(teachers, name, key, img_path):
    """Teacher output for one image, from target/peel-teachers/cache when it is there."""
    path = CACHE / "cache" / name / f"{key}.npz"
    if path.exists():
        with np.load(path) as z:
            return dict(z)
    out = infer(teachers, name, Image.open(img_path).convert("RGB"))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(f"{path}.tmp.npz", **out)
    os.replace(f"{path}.tmp.npz", path)
    return out


def confident(out, name, threshold=None):
    """The teacher's label map with pixels under the confidence threshold set to IGNORE."""
    label = out["label"].copy()
    label[out["conf"] < round(255 * (THRESHOLDS[name] if threshold is None else threshold))] = IGNORE
    return label


# ---- label sets -------------------------------------------------------------------------------------------

def ade_classes():
    return [ADE_RENAME.get(c, c) for c in read_labels("ade20k32.txt")]


def cityscapes_classes():
    return [CITYSCAPES_RENAME.get(c, c) for c in read_labels("cityscapes19.txt")]


def merged_classes():
    """ADE20K-32 stuff and things plus the VOC things ADE20K lacks, one name per meaning."""
    out = []
    for c in ade_classes() + [VOC_TO_MERGED.get(c, c) for c in VOC_CLASSES]:
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


def ade_agreement(ade, mosaic, threshold=None):
    """The two ADE20K-32 models' label where they agree and both are sure; IGNORE elsewhere."""
    t = round(255 * (THRESHOLDS["ade"] if threshold is None else threshold))
    label = ade["label"].copy()
    label[(ade["label"] != mosaic["label"]) | (np.minimum(ade["conf"], mosaic["conf"]) < t)] = IGNORE
    return label


def merged_label(ade, mosaic, voc, selfie=None, ssd=None):
    """Teacher outputs (as `cached` returns them) -> one label map over merged_classes().

    Neither ADE20K model ever answers "other", and VOC calls unknown animals dogs, so inside the boxes SSD finds
    for objects outside the merged classes (a giraffe, a pizza) only person pixels are kept.
    """
    person = None if selfie is None else selfie["person"] >= round(255 * THRESHOLDS["selfie"])
    out = merge(ade_agreement(ade, mosaic), confident(voc, VOC), person)
    if ssd is not None:
        names, labels = merged_classes(), ssd_names()
        for box, cls, score in zip(ssd["boxes"], ssd["classes"], ssd["scores"]):
            if score >= SSD_SCORE and 0 <= cls < len(labels) and labels[cls] not in names:
                x0, y0, x1, y1 = np.clip(np.round(box).astype(int), 0, [W, H, W, H])
                region = out[y0:y1, x0:x1]
                region[region != names.index("person")] = IGNORE
    return out


def merge(ade, voc, person=None):
    """One label map over merged_classes(): ADE20K where it is sure, VOC things over it where VOC is sure.

    ade, voc: confident label maps (IGNORE where unsure) in their own class lists. Where ADE20K names a class VOC
    also has (person, car, chair, sofa, table, plant) and VOC is sure it is background, the pixel is ignored.
    `person` (optional bool map from the selfie teacher) must agree with every person pixel.
    """
    names = merged_classes()
    bg = names.index("background")
    a = lut(ade_classes(), names)[ade]
    v = lut(VOC_CLASSES, names, VOC_TO_MERGED)[voc]
    out = a.copy()
    voc_thing = (v != IGNORE) & (v != bg)
    out[voc_thing] = v[voc_thing]
    both = [names.index(VOC_TO_MERGED.get(c, c)) for c in VOC_CLASSES[1:] if VOC_TO_MERGED.get(c, c) in ade_classes()]
    out[np.isin(a, both) & (v == bg)] = IGNORE
    if person is not None:
        out[(out == names.index("person")) & ~person] = IGNORE
    return out


# ---- measurement ------------------------------------------------------------------------------------------

# COCO panoptic names (after vocab.coco_name) -> the names the teachers use.
COCO_ALIASES = {"wall brick": "wall", "wall stone": "wall", "wall tile": "wall", "wall wood": "wall",
                "floor wood": "floor", "window blind": "window", "pavement": "sidewalk", "dirt": "ground",
                "sand": "ground", "gravel": "ground", "dining table": "table", "potted plant": "plant",
                "couch": "sofa", "river": "water", "tv": "tv monitor"}
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


def measure_semantic(teachers, shared):
    """ADE20K (two models), VOC, their merge and the person teachers on COCO128 train2017 panoptic masks."""
    report = {}
    merged = merged_classes()
    voc_names = [VOC_TO_MERGED.get(c, c) for c in VOC_CLASSES]
    gts = {"ade": list(coco_gt(shared, ade_classes())), "voc": list(coco_gt(shared, voc_names)),
           "merged": list(coco_gt(shared, merged))}
    outs = {}
    for img, key, _ in gts["merged"]:
        for name in (VOC, "ade", "mosaic", "selfie", "ssd"):
            outs[(name, key)] = cached(teachers, name, key, img)
    for name, space in (("ade", "ade"), ("mosaic", "ade"), (VOC, "voc")):
        names = ade_classes() if space == "ade" else voc_names
        src = ade_classes() if space == "ade" else VOC_CLASSES
        rename = None if space == "ade" else VOC_TO_MERGED
        pairs = [(as_names(outs[(name, key)]["label"], src, names, rename), outs[(name, key)]["conf"], gt)
                 for _, key, gt in gts[space]]
        report[f"{name} on COCO128 train2017"] = sweep(pairs, names)
    pairs = []
    for _, key, gt in gts["ade"]:
        both = ade_agreement(outs[("ade", key)], outs[("mosaic", key)], 0.0)
        pairs.append((both, np.minimum(outs[("ade", key)]["conf"], outs[("mosaic", key)]["conf"]), gt))
    report["ade = mosaic (both sure) on COCO128 train2017"] = sweep(pairs, ade_classes())
    for variant in ("ade+voc", "ade+voc+selfie", "ade+voc+selfie+ssd"):
        c = Confusion(merged)
        for _, key, gt in gts["merged"]:
            c.add(merged_label(outs[("ade", key)], outs[("mosaic", key)], outs[(VOC, key)],
                               outs[("selfie", key)] if "selfie" in variant else None,
                               outs[("ssd", key)] if "ssd" in variant else None), gt)
        report[f"merged {variant} on COCO128 train2017"] = c.summary()
    street = {"flagged": 0, "ground truth": 0, "both": 0}
    for _, key, gt in gts["ade"]:
        truth = np.isin(gt, [ade_classes().index("road"), ade_classes().index("sidewalk")]).mean() >= STREET_FRACTION
        flagged = is_street(outs[("ade", key)])
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
    for name, src in ((VOC, VOC_CLASSES), ("ade", ade_classes())):
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


def measure_final(teachers, shared, untrusted):
    """The merged map exactly as `build` writes it, on COCO128 train2017."""
    names = merged_classes()
    c = Confusion(names)
    for img, key, gt in coco_gt(shared, names):
        sem = merged_label(*(cached(teachers, t, key, img) for t in teachers_merged()))
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
    table = lut(cityscapes_classes(), names, CITYSCAPES_TO_CAMVID)
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
            street += is_street(cached(teachers, "ade", f"camvid/{split}/{stem}", img))
    return {"cityscapes on CamVid train+val": sweep(pairs, names),
            "street detector recall on CamVid train+val": round(street / len(pairs), 3), "images": len(pairs)}


def is_street(ade_out):
    names = ade_classes()
    label = confident(ade_out, "ade")
    return bool(np.isin(label, [names.index("road"), names.index("sidewalk")]).mean() >= STREET_FRACTION)


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


PET_CLASSES = ["background", "cat", "dog"]


def pet_stems(shared, split):
    return [line.split()[0] for line in open(Path(shared) / f"data/pets/{split}.txt") if line.strip()]


def measure_pets(teachers, shared):
    """VOC teacher (cat, dog, background) against the pet trimaps of trainval."""
    table = lut(VOC_CLASSES, PET_CLASSES)
    table[[i for i, c in enumerate(VOC_CLASSES) if c not in PET_CLASSES]] = 0  # any other VOC class: not a pet
    pairs = []
    for stem in pet_stems(shared, "trainval"):
        img, gt = load_pet(shared, stem)
        out = cached(teachers, VOC, f"pets/{stem}", Path(shared) / "data/pets/images" / f"{stem}.jpg")
        pairs.append((table[out["label"]], out["conf"], gt))
    return {f"{VOC} on pets trainval (cat/dog trimaps)": sweep(pairs, PET_CLASSES)}


TRUST_PRECISION = 0.5  # a class whose measured pixel precision is lower is never labelled
TRUST_MIN_PIXELS = 2000  # a class predicted on fewer measured pixels than this counts as unmeasured (kept)
MERGED_REPORT = "merged ade+voc+selfie+ssd on COCO128 train2017"


def untrusted_classes(report):
    """Classes whose measured pixel precision is under TRUST_PRECISION, per label set.

    Merged: on COCO128 train2017, except cat and dog, measured on the 300 pet photos (COCO128 has a handful).
    Street: a Cityscapes class takes the precision of the CamVid class it maps to (CamVid train+val).
    """
    merged = report[MERGED_REPORT]
    precision = {c: p for c, p in merged["precision"].items() if merged["pixels"][c] >= TRUST_MIN_PIXELS}
    pets = report[f"{VOC} on pets trainval (cat/dog trimaps)"][str(THRESHOLDS[VOC])]
    precision.update({c: pets["precision"][c] for c in ("cat", "dog")})
    city = report["cityscapes on CamVid train+val"][str(THRESHOLDS["cityscapes"])]
    street = {c: city["precision"][CITYSCAPES_TO_CAMVID[c]] for c in cityscapes_classes()
              if c in CITYSCAPES_TO_CAMVID and city["pixels"].get(CITYSCAPES_TO_CAMVID[c], 0) >= TRUST_MIN_PIXELS}
    return {"merged": sorted(c for c, p in precision.items() if p < TRUST_PRECISION),
            "street": sorted(c for c, p in street.items() if p < TRUST_PRECISION)}


# ---- instances: SSD boxes x the merged class map ----------------------------------------------------------

MIN_PIXELS = 64  # as the trainer's smallest usable region
INSTANCE_COVERAGE = 0.9  # a class gets instances only when they cover this share of its pixels


def ssd_names():
    """SSD output class k is line k + 1 of ssd_mobilenet.txt (line 0 is the '???' placeholder)."""
    return [COCO_ALIASES.get(c, c) for c in read_labels("ssd_mobilenet.txt")[1:]]


def instances_from(ssd, semantic, names, score=SSD_SCORE):
    """Each detection (best score first) claims the unclaimed pixels of its class inside its box.

    Returns (uint16 instance map, instance list). A class whose instances leave over 10 % of its pixels
    unclaimed gets none, since the trainer would read those pixels as background.
    """
    labels = ssd_names()
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


def match_instances(pred, pred_list, gt, gt_list, classes):
    """Greedy IoU matching per class; returns (tp, n_pred, n_gt, IoUs of matches at >= 0.5)."""
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


def measure_instances(teachers, shared, untrusted):
    """SSD boxes x merged class map (untrusted classes dropped, as in `build`) against COCO128 train2017
    instance polygons of the classes this can produce."""
    from .data import load_coco

    names = merged_classes()
    classes = sorted(set(ssd_names()) & set(names) - {"background"} - set(untrusted["merged"]))
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
            sem = merged_label(*(cached(teachers, t, key, img) for t in teachers_merged()))
            sem[np.isin(sem, [names.index(c) for c in untrusted["merged"]])] = IGNORE
            inst, lst = instances_from(cached(teachers, "ssd", key, img), sem, names, score)
            gt_list = [dict(i, **{"class": COCO_ALIASES.get(i["class"], i["class"])}) for i in s["instances"]]
            a, b, c, d = match_instances(inst, lst, s["instance"], gt_list, classes)
            tp, n_pred, n_gt, ious = tp + a, n_pred + b, n_gt + c, ious + d
        p, r = tp / max(n_pred, 1), tp / max(n_gt, 1)
        report[f"score >= {score}"] = {"precision@0.5": round(p, 3), "recall@0.5": round(r, 3),
                                       "F1@0.5": round(2 * p * r / max(p + r, 1e-9), 3),
                                       "mean IoU of matches": round(float(np.mean(ious)), 3) if ious else None,
                                       "predicted": n_pred, "ground truth": n_gt}
    return report


# ---- building the pickles ---------------------------------------------------------------------------------

def photo_files(shared, folder):
    root = Path(shared) / "data"
    return [(str(p.relative_to(root).with_suffix("")), p) for p in sorted((root / folder).rglob("*"))
            if p.suffix.lower() in IMAGE_SUFFIXES and (folder != "duts-sample" or p.parent.name == "images")]


def repeat_factors(samples, t=0.1):
    """LVIS repeat-factor sampling: r = max(1, sqrt(t / f_c)) over the classes present in the image."""
    present = []
    for s in samples:
        counts = np.bincount(s["semantic"].ravel(), minlength=256)
        present.append({s["classes"][c] for c in range(len(s["classes"]))
                        if counts[c] >= MIN_PIXELS and s["classes"][c] != "background"})
    freq = {}
    for p in present:
        for c in p:
            freq[c] = freq.get(c, 0) + 1
    for s, p in zip(samples, present):
        s["weight"] = float(max([1.0] + [np.sqrt(t / (freq[c] / len(samples))) for c in p]))
    return samples


def label_photos(teachers, shared, files, untrusted, log_every=200):
    """Merged (ADE20K x2 + VOC + selfie) samples with SSD instances, and Cityscapes samples for street scenes."""
    names = merged_classes()
    merged, street = [], []
    t0 = time.time()
    for n, (key, path) in enumerate(files):
        try:
            img = Image.open(path).convert("RGB")
        except OSError as e:
            print(f"skipped {path}: {e}", flush=True)
            continue
        rgb = np.asarray(cover_crop(img, Image.BILINEAR))
        ade = cached(teachers, "ade", key, path)
        sem = merged_label(*(cached(teachers, t, key, path) for t in teachers_merged()))
        sem[np.isin(sem, [names.index(c) for c in untrusted["merged"]])] = IGNORE
        s = {"rgb": rgb, "semantic": sem, "classes": names, "source": key}
        inst, lst = instances_from(cached(teachers, "ssd", key, path), sem, names)
        if lst:
            s["instance"], s["instances"] = inst, lst
        merged.append(s)
        if is_street(ade):
            city = confident(cached(teachers, "cityscapes", key, path), "cityscapes")
            city[np.isin(city, [cityscapes_classes().index(c) for c in untrusted["street"]])] = IGNORE
            street.append({"rgb": rgb, "semantic": city, "classes": cityscapes_classes(), "source": key})
        if (n + 1) % log_every == 0:
            print(f"  {n + 1}/{len(files)} images, {time.time() - t0:.0f}s", flush=True)
    return merged, street


def load_pets(shared, split="trainval"):
    """Ground-truth cat/dog masks from the trimaps (train on trainval; test stays out), one instance per photo."""
    samples = []
    for stem in pet_stems(shared, split):
        img, label = load_pet(shared, stem)
        inst = (label == PET_CLASSES.index(pet_class(stem))).astype(np.uint16)
        ys, xs = np.nonzero(inst)
        samples.append({"rgb": np.asarray(cover_crop(img, Image.BILINEAR)), "semantic": label,
                        "classes": PET_CLASSES, "instance": inst, "source": f"pets/{stem}",
                        "instances": [{"id": 1, "class": pet_class(stem), "thing": True,
                                       "bbox": [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1],
                                       "pixels": int(len(xs))}] if len(xs) else []})
    return samples


def describe(samples):
    w = np.array([s["weight"] for s in samples])
    present = {}
    for s in samples:
        counts = np.bincount(s["semantic"].ravel(), minlength=256)
        for c in range(len(s["classes"])):
            if counts[c] >= MIN_PIXELS:
                present[s["classes"][c]] = present.get(s["classes"][c], 0) + 1
    labelled = np.mean([float((s["semantic"] != IGNORE).mean()) for s in samples])
    return {"samples": len(samples), "with instances": sum(1 for s in samples if s.get("instances")),
            "instances": sum(len(s.get("instances", [])) for s in samples),
            "labelled pixel share": round(float(labelled), 3),
            "weight": {"min": round(float(w.min()), 2), "median": round(float(np.median(w)), 2),
                       "max": round(float(w.max()), 2), "sum": round(float(w.sum()), 1)},
            "images per class": dict(sorted(present.items(), key=lambda kv: -kv[1]))}


def build(shared, out, duts_limit=None):
    if not report_path("report").exists():
        measure(shared)
    untrusted = untrusted_classes(json.loads(report_path("report").read_text()))
    print("not trusted, never labelled:", json.dumps(untrusted), flush=True)
    teachers = make_teachers()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = {"untrusted": untrusted}
    sets, street_all = {}, []
    for name, folder in (("photos_merged", "photos"), ("duts_merged", "duts-sample")):
        t = time.time()
        files = photo_files(shared, folder)[:duts_limit if folder == "duts-sample" else None]
        sets[name], street = label_photos(teachers, shared, files, untrusted)
        street_all += street
        print(f"{name}: {len(sets[name])} samples ({len(street)} street scenes) in {time.time() - t:.0f}s", flush=True)
    repeat_factors([s for samples in sets.values() for s in samples])  # one class frequency over both
    for name, samples in sets.items():
        write_pickle(out / f"{name}.pkl", samples)
        summary[name] = describe(samples)
    if VOC != "voc":
        # data.py's photos.pkl (the VOC teacher's labels alone) from this VOC teacher, the same photos and crop.
        voc_only = [{"rgb": s["rgb"], "semantic": confident(cached(teachers, VOC, s["source"], None), VOC),
                     "classes": VOC_CLASSES, "source": s["source"], "weight": 1.0} for s in sets["photos_merged"]]
        write_pickle(out / "photos.pkl", voc_only)
        summary["photos"] = describe(voc_only)
    write_pickle(out / "street.pkl", repeat_factors(street_all))
    summary["street"] = describe(street_all)
    pets = repeat_factors(load_pets(shared))
    write_pickle(out / "pets.pkl", pets)
    summary["pets"] = describe(pets)
    for name, s in summary.items():
        print(name, json.dumps({k: v for k, v in s.items() if k != "images per class"}), flush=True)
    report_path("build").write_text(json.dumps(summary, indent=1))


def check():
    """Self-test of the geometry and the merge, instance and weighting rules on made-up arrays."""
    rng = np.random.default_rng(0)
    for size in ((320, 293), (240, 320), (500, 500), (1000, 300)):
        img = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).filter(ImageFilter.BLUR)
        a = np.asarray(cover_crop(img, Image.BILINEAR), np.float32)
        b = np.asarray(img.resize((W, H), Image.BILINEAR, box=crop_box(img.size)), np.float32)
        assert np.abs(a - b).mean() < 0.5, f"teacher crop differs from cover_crop for {size}"
    names, ade, voc = merged_classes(), ade_classes(), VOC_CLASSES
    a = np.full((H, W), ade.index("wall"), np.uint8)
    a[:, :50] = ade.index("person")
    v = np.zeros((H, W), np.uint8)  # VOC: background everywhere...
    v[:, 100:150] = voc.index("cat")  # ...but a cat over the wall
    v[:, 200:] = IGNORE
    m = merge(a, v)
    assert (m[:, 100:150] == names.index("cat")).all(), "a sure VOC thing must win over ADE20K stuff"
    assert (m[:, :50] == IGNORE).all(), "ADE20K person where VOC is sure of background must be ignored"
    assert (m[:, 60:90] == names.index("wall")).all() and (m[:, 210:] == names.index("wall")).all()
    sem = np.full((H, W), names.index("wall"), np.uint8)
    sem[10:60, 10:60] = sem[10:60, 100:150] = names.index("person")
    ssd = {"boxes": np.array([[8, 8, 62, 62], [98, 8, 152, 62]], np.float32),
           "classes": np.array([0, 0], np.int32), "scores": np.array([0.9, 0.8], np.float32)}
    inst, lst = instances_from(ssd, sem, names)
    assert [i["pixels"] for i in lst] == [2500, 2500] and set(np.unique(inst)) == {0, 1, 2}
    sem[100:150, 200:250] = names.index("person")  # a third person SSD missed: the class gets no instances
    assert instances_from(ssd, sem, names)[1] == []
    samples = [{"semantic": np.full((H, W), names.index("sky"), np.uint8), "classes": names} for _ in range(99)]
    samples.append({"semantic": np.full((H, W), names.index("horse"), np.uint8), "classes": names})
    w = [s["weight"] for s in repeat_factors(samples)]
    assert w[0] == 1.0 and abs(w[-1] - np.sqrt(0.1 / 0.01)) < 1e-9, w[-1]
    print("teachers check: ok")


def main():
    global SHARED, VOC
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("commands", nargs="+", choices=["check", "measure", "build"])
    ap.add_argument("--shared", default="../../shared")
    ap.add_argument("--out", default=str(CACHE.parent / "peel-data"))
    ap.add_argument("--duts-limit", type=int, default=None, help="label only the first N DUTS photos (CPU budget)")
    ap.add_argument("--voc-teacher", choices=VOC_TEACHERS, default=VOC,
                    help="the VOC teacher of the merge (its report and build summary get their own names)")
    args = ap.parse_args()
    SHARED = Path(args.shared)
    VOC = args.voc_teacher
    if not (SHARED / "teachers").is_dir():
        ap.error(f"no teachers/ under --shared {args.shared}")
    torch.set_num_threads(1)
    if "check" in args.commands:
        check()
    if "measure" in args.commands:
        measure(args.shared)
    if "build" in args.commands:
        build(args.shared, args.out, args.duts_limit)


def measure(shared):
    teachers = make_teachers()
    report = {}
    for part in (measure_semantic, measure_pets, measure_cityscapes):
        t = time.time()
        report.update(part(teachers, shared))
        print(f"{part.__name__}: {time.time() - t:.0f}s", flush=True)
    report["CPU ms per image (one thread)"] = time_teachers(teachers, shared)
    report["untrusted"] = untrusted_classes(report)
    report["merged, untrusted classes dropped, on COCO128 train2017"] = measure_final(teachers, shared,
                                                                                     report["untrusted"])
    report["instances on COCO128 train2017"] = measure_instances(teachers, shared, report["untrusted"])
    CACHE.mkdir(parents=True, exist_ok=True)
    report_path("report").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
