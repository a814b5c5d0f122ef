"""Training data: synthetic renders, labelled real photos and teacher pseudo-labels, cached once.

`python -m peel_train.data --shared ../shared --synth DIR [DIR ...] --out target/peel-data`
writes one pickle per source. Real images are resized to cover 256x192 and centre-cropped.
Nothing from ../shared is ever written into the repository.
"""

import argparse
import json
import os
import pickle
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .vocab import CAMVID_CLASSES, VOC_CLASSES, coco_name

W, H = 256, 192
IGNORE = 255  # a label map's "no answer" value (the one definition: the trainer and teachers import it)
MIN_PIXELS = 64  # the smallest region (pixels) that counts as present, for a class, an instance or a referent


def extent(mask):
    """A mask's pixel count and bounding box [x0, y0, x1, y1) (x1, y1 exclusive; None when empty)."""
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return 0, None
    return int(len(xs)), [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


def depth_to_walk(depth):
    """The protocol's depth squash (λ = −3, c = 10/3): f = 1 − (1 + d/10)^−2; sky (inf) -> 1."""
    d = np.nan_to_num(np.maximum(depth.astype(np.float64), 0.0), posinf=np.inf)  # f64, as the Rust codec
    f = 1.0 - (1.0 + d / 10.0) ** -2.0
    return np.where(np.isinf(d), 1.0, f).astype(np.float32)


def cover_crop(img: Image.Image, resample, size=(W, H)):
    """Resized to cover `size` (the cached 256x192 by default), then centre-cropped to it."""
    w, h = size
    scale = max(w / img.width, h / img.height)
    img = img.resize((max(w, round(img.width * scale)), max(h, round(img.height * scale))), resample)
    x0, y0 = (img.width - w) // 2, (img.height - h) // 2
    return img.crop((x0, y0, x0 + w, y0 + h))


def load_synth(dirs):
    samples = []
    for root in dirs:
        for name in sorted(os.listdir(root)):
            d = Path(root) / name
            if not (d / "meta.json").exists():
                continue
            meta = json.loads((d / "meta.json").read_text())
            normal = np.load(d / "normal.npy").astype(np.float16)
            samples.append({
                "rgb": np.asarray(Image.open(d / "rgb.png").convert("RGB")),
                "walk": depth_to_walk(np.load(d / "depth.npy")).astype(np.float16),
                "normal": normal,
                "semantic": np.asarray(Image.open(d / "semantic.png")).astype(np.uint8),
                "instance": np.asarray(Image.open(d / "instance.png")).astype(np.uint16),
                "classes": meta["classes"],
                "instances": [{"id": i["id"], "class": i["class"], "thing": i["thing"],
                               "bbox": i["bbox"], "pixels": i["pixels"]} for i in meta["instances"]],
                "expressions": [{"text": e["text"], "ids": e["instance_ids"]} for e in meta["expressions"]],
            })
    return samples


def load_camvid(shared, splits):
    samples = []
    for split in splits:
        img_dir = Path(shared) / "data/camvid" / split
        for name in sorted(os.listdir(img_dir)):
            stem = Path(name).stem
            label = Image.open(Path(shared) / "data/camvid" / f"{split}annot" / f"{stem}.png")
            lab = np.asarray(label.resize((W, H), Image.NEAREST)).astype(np.uint8).copy()
            lab[lab >= len(CAMVID_CLASSES)] = IGNORE
            rgb = Image.open(img_dir / name).convert("RGB").resize((W, H), Image.BILINEAR)
            samples.append({"rgb": np.asarray(rgb), "semantic": lab, "classes": CAMVID_CLASSES})
    return samples


def coco_classes(shared):
    import yaml
    cfg = yaml.safe_load(open(Path(shared) / "data/coco128/semantic_segmentation/config.yaml"))
    return {int(k): coco_name(v) for k, v in cfg["classes"].items()}


def load_coco(shared, split):
    """Semantic (panoptic categories) and instances (polygons) for images that have both."""
    root = Path(shared) / "data/coco128"
    names = coco_classes(shared)
    ids = sorted(names)
    class_list = [names[i] for i in ids]
    index_of = {cid: k for k, cid in enumerate(ids)}  # 0 = unlabeled
    samples = []
    for label_file in sorted((root / "instance_segmentation/labels" / split).glob("*.txt")):
        stem = label_file.stem
        img = Image.open(root / "images" / split / f"{stem}.jpg").convert("RGB")
        mask_path = root / "semantic_segmentation/masks" / split / f"{stem}.png"
        if not mask_path.exists():
            continue
        ow, oh = img.size
        sem_raw = np.asarray(Image.open(mask_path))
        sem = np.vectorize(lambda v: index_of.get(int(v), 0))(sem_raw).astype(np.uint8)
        sem[sem == 0] = IGNORE
        scale = max(W / ow, H / oh)
        sw, sh = max(W, round(ow * scale)), max(H, round(oh * scale))
        x0, y0 = (sw - W) // 2, (sh - H) // 2
        inst = Image.new("I", (W, H), 0)
        draw = ImageDraw.Draw(inst)
        instances = []
        for k, line in enumerate(label_file.read_text().split("\n")):
            parts = line.split()
            if len(parts) < 7:
                continue
            cid = int(parts[0])
            xy = np.array(parts[1:], dtype=np.float64).reshape(-1, 2)
            pts = [(x * sw - x0, y * sh - y0) for x, y in xy]
            draw.polygon(pts, fill=k + 1)
            instances.append({"id": k + 1, "class": names.get(cid, str(cid)), "thing": True})
        inst = np.asarray(inst).astype(np.uint16)
        kept = []
        for i in instances:
            pixels, bbox = extent(inst == i["id"])
            if pixels >= 16:
                kept.append({**i, "pixels": pixels, "bbox": bbox})
        samples.append({
            "rgb": np.asarray(cover_crop(img, Image.BILINEAR)),
            "semantic": np.asarray(cover_crop(Image.fromarray(sem), Image.NEAREST)),
            "instance": inst, "instances": kept, "classes": class_list,
        })
    return samples


def load_photos_with_teacher(shared, limit=None):
    """DeepLabV3-MobileNetV2 (VOC 21 classes) pseudo-labels; uncertain pixels are ignored."""
    from ai_edge_litert.interpreter import Interpreter

    teacher = Interpreter(model_path=str(Path(shared) / "teachers/deeplabv3_257_mv_gpu.tflite"))
    teacher.allocate_tensors()
    inp, out = teacher.get_input_details()[0], teacher.get_output_details()[0]
    files = sorted(p for p in (Path(shared) / "data/photos").rglob("*")
                   if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"))
    samples = []
    for path in files[:limit]:
        try:
            rgb = cover_crop(Image.open(path).convert("RGB"), Image.BILINEAR)
        except OSError:
            continue
        x = np.asarray(rgb.resize((257, 257), Image.BILINEAR), dtype=np.float32)[None] / 127.5 - 1
        teacher.set_tensor(inp["index"], x)
        teacher.invoke()
        logits = teacher.get_tensor(out["index"])[0]
        e = np.exp(logits - logits.max(-1, keepdims=True))
        prob = e / e.sum(-1, keepdims=True)
        label = prob.argmax(-1).astype(np.uint8)
        label[prob.max(-1) < 0.6] = IGNORE
        label = np.asarray(Image.fromarray(label).resize((W, H), Image.NEAREST))
        samples.append({"rgb": np.asarray(rgb), "semantic": label, "classes": VOC_CLASSES,
                        "source": str(path.relative_to(Path(shared) / "data/photos"))})
    return samples


def write_pickle(path, samples):
    """Writes then renames, so a trainer polling the folder never loads a half-written file."""
    tmp = Path(f"{path}.tmp")
    with open(tmp, "wb") as f:
        pickle.dump(samples, f, protocol=5)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--synth", nargs="+", default=[], help="rendered scene folders (needed for the synth source)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--photo-limit", type=int, default=None)
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args()
    from .ccp import load_ccp
    os.makedirs(args.out, exist_ok=True)
    jobs = {
        "synth": lambda: load_synth(args.synth),
        "camvid": lambda: load_camvid(args.shared, ["train", "val"]),
        "coco": lambda: load_coco(args.shared, "train2017"),
        "photos": lambda: load_photos_with_teacher(args.shared, args.photo_limit),
        "ccp": lambda: load_ccp(args.shared, "train"),  # never the held-out photos (ccp.held_out)
    }
    for name, job in jobs.items():
        if args.only and name not in args.only:
            continue
        if name == "synth" and not args.synth:
            ap.error("the synth source needs --synth DIR [DIR ...] (or pick other sources with --only)")
        t = time.time()
        samples = job()
        write_pickle(Path(args.out) / f"{name}.pkl", samples)
        print(f"{name}: {len(samples)} samples in {time.time() - t:.1f}s", flush=True)


if __name__ == "__main__":
    main()
