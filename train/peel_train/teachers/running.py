"""Running the teachers: each TFLite model on the photo's cover crop, outputs cached per teacher and image."""

import functools
import os
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..data import H, IGNORE, W

CACHE = Path(__file__).resolve().parents[3] / "target/peel-teachers"

# Confidence thresholds (max softmax probability), chosen from `measure` (docs/MODEL.md, "Teachers").
THRESHOLDS = {"voc": 0.6, "voc513": 0.6, "ade": 0.5, "cityscapes": 0.6, "selfie": 0.5}
# The VOC teacher of the merge: "voc" (DeepLabV3 MobileNetV2 at 257 px, peel-gen-1 and 2) or "voc513" (the
# quantized DeepLabV3 MobileNetV2 at 513 px: VOC val mIoU 0.829 against 0.671). `--voc-teacher` picks it and the
# functions that depend on it take it as `voc_teacher`.
VOC_TEACHERS = ("voc", "voc513")


def report_path(kind, voc_teacher):
    """report.json / build.json for the VOC teacher in use (the 257-px one keeps the plain names)."""
    return CACHE / (f"{kind}.json" if voc_teacher == "voc" else f"{kind}-{voc_teacher}.json")


@functools.cache
def read_labels(shared, name):
    """The class names in shared/teachers/`name`, one a line."""
    return [line.strip() for line in open(Path(shared) / "teachers" / name) if line.strip()]


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
    """One TFLite model (shared/teachers/`file`), one thread, XNNPACK; `logits` names the tensor read before
    the model's own arg-max."""

    def __init__(self, shared, file, size, logits=None):
        from ai_edge_litert.interpreter import Interpreter

        with warnings.catch_warnings():  # reading the logits needs the (debug-labelled) tensor preservation
            warnings.simplefilter("ignore")
            self.it = Interpreter(model_path=str(Path(shared) / "teachers" / file), num_threads=1,
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


def make_teachers(shared):
    return {
        "voc": Teacher(shared, "deeplabv3_257_mv_gpu.tflite", 257),
        "voc513": Teacher(shared, "deeplabv3_mnv2_pascal_quant.tflite", 513, "logits/semantic/BiasAdd"),
        "ade": Teacher(shared, "deeplabv3_mnv2_ade20k_uint8.tflite", 512, "logits/semantic/BiasAdd"),
        "mosaic": Teacher(shared, "mobile_segmenter_r4_quant_argmax_uint8.tflite", 512, "decoder/add"),
        "cityscapes": Teacher(shared, "deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite", 513,
                              "logits/semantic/BiasAdd"),
        "selfie": Teacher(shared, "selfie_segmentation.tflite", 256),
        "ssd": Teacher(shared, "ssd_mobilenet.tflite", 300),
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
