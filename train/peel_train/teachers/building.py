"""Building the training labels: the photos labelled by the merged teachers (and Cityscapes for street scenes),
the pets from their trimaps, repeat-factor weights, written as pickles with a summary (build.json)."""

import json
import time
from pathlib import Path

import numpy as np
from PIL import Image

from ..data import IGNORE, MIN_PIXELS, cover_crop, write_pickle
from ..vocab import VOC_CLASSES
from .labels import (PET_CLASSES, cityscapes_classes, instances_from, is_street, load_pet,
                     merged_classes, merged_label, pet_class, pet_stems, teachers_merged)
from .measuring import measure, untrusted_classes
from .running import cached, confident, make_teachers, report_path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")


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


def label_photos(teachers, shared, voc_teacher, files, untrusted, log_every=200):
    """Merged (ADE20K x2 + VOC + selfie) samples with SSD instances, and Cityscapes samples for street scenes."""
    names = merged_classes(shared)
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
        sem = merged_label(shared, voc_teacher, *(cached(teachers, t, key, path) for t in teachers_merged(voc_teacher)))
        sem[np.isin(sem, [names.index(c) for c in untrusted["merged"]])] = IGNORE
        s = {"rgb": rgb, "semantic": sem, "classes": names, "source": key}
        inst, lst = instances_from(shared, cached(teachers, "ssd", key, path), sem, names)
        if lst:
            s["instance"], s["instances"] = inst, lst
        merged.append(s)
        if is_street(shared, ade):
            city = confident(cached(teachers, "cityscapes", key, path), "cityscapes")
            city[np.isin(city, [cityscapes_classes(shared).index(c) for c in untrusted["street"]])] = IGNORE
            street.append({"rgb": rgb, "semantic": city, "classes": cityscapes_classes(shared), "source": key})
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


def build(shared, out, voc_teacher, duts_limit=None):
    if not report_path("report", voc_teacher).exists():
        measure(shared, voc_teacher)
    untrusted = untrusted_classes(shared, voc_teacher, json.loads(report_path("report", voc_teacher).read_text()))
    print("not trusted, never labelled:", json.dumps(untrusted), flush=True)
    teachers = make_teachers(shared)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = {"untrusted": untrusted}
    sets, street_all = {}, []
    for name, folder in (("photos_merged", "photos"), ("duts_merged", "duts-sample")):
        t = time.time()
        files = photo_files(shared, folder)[:duts_limit if folder == "duts-sample" else None]
        sets[name], street = label_photos(teachers, shared, voc_teacher, files, untrusted)
        street_all += street
        print(f"{name}: {len(sets[name])} samples ({len(street)} street scenes) in {time.time() - t:.0f}s", flush=True)
    repeat_factors([s for samples in sets.values() for s in samples])  # one class frequency over both
    for name, samples in sets.items():
        write_pickle(out / f"{name}.pkl", samples)
        summary[name] = describe(samples)
    if voc_teacher != "voc":
        # data.py's photos.pkl (the VOC teacher's labels alone) from this VOC teacher, the same photos and crop.
        voc_only = [{"rgb": s["rgb"],
                     "semantic": confident(cached(teachers, voc_teacher, s["source"], None), voc_teacher),
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
    report_path("build", voc_teacher).write_text(json.dumps(summary, indent=1))
