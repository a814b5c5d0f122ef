"""Score the shipped weights with the protocol's own decoders and metrics (`peel metrics`).

    python -m peel_train.evaluate --weights ../weights --out ../target/peel-eval [--float-run ../target/peel-run]

The shipped int8 weights are dequantized into the PyTorch mirror (the Rust parity test holds Burn to
it within 1e-3); each painting is written as an 8-bit PNG at the ground truth's size and decoded and
scored by `target/release/peel metrics`. With --float-run the float checkpoint is scored too, so
the cost of quantization is measured on every metric.
"""

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from safetensors.numpy import load_file

from .conditioning import paint
from .data import IGNORE
from .export import FOLDED, dequantized_state
from .generator import (TASK_DEPTH, TASK_INSTANCE, TASK_NORMALS, TASK_REFERRING,
                        TASK_SEMANTIC, TASKS, PeelGenerator)
from .sizes import LONG_SIDE, model_size
from .vocab import CAMVID_CLASSES, VOC_CLASSES, coco_name, load_table, lookups

REPO = Path(__file__).resolve().parents[2]
LIMIT = None  # --limit: score only the first N items of each set (a quick check, not a result)
INPUT_LONG_SIDE = None  # --input-long-side: every task from another input size than the app's (a probe, not the app)
SPECK_SHARE = None  # --speck-share: `peel upsample --speck-share` (None: the app's; 0 scores the raw painting)
PEEL = REPO / "target/release/peel"
# Depth is scored up to 80 m (predictions are clamped to it), so a pixel painted as sky costs a
# finite error instead of making AbsRel infinite.
MAX_DEPTH = 80.0
# Distinct prompt colours for up to 21 classes (CSS names the prompt parser knows; the smoke test holds each
# to the protocol's table, crates/peel-protocol/src/color.rs).
COLOURS = {
    "red": (255, 0, 0), "lime": (0, 255, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0),
    "cyan": (0, 255, 255), "magenta": (255, 0, 255), "white": (255, 255, 255), "orange": (255, 165, 0),
    "purple": (128, 0, 128), "teal": (0, 128, 128), "navy": (0, 0, 128), "maroon": (128, 0, 0),
    "olive": (128, 128, 0), "gray": (128, 128, 128), "pink": (255, 192, 203), "brown": (165, 42, 42),
    "gold": (255, 215, 0), "darkgreen": (0, 100, 0), "skyblue": (135, 206, 235), "coral": (255, 127, 80),
    "indigo": (75, 0, 130),
}


class TaskRouted(torch.nn.Module):
    """A model of several networks (the manifest's `task_networks`): each call goes to the network
    that paints its task, as `Generator` routes it in the app."""

    def __init__(self, main, by_task):
        super().__init__()
        self.main, self.by_task = main, by_task

    def forward(self, image, task, *rest):
        return self.by_task.get(int(task.reshape(-1)[0]), self.main)(image, task, *rest)


def load_network(path):
    state = dequantized_state(load_file(str(path)))
    model = PeelGenerator.for_state(state)
    # NaN, so that feeding 384-d rows to this model fails loudly instead of silently.
    state[FOLDED] = torch.full_like(model.phrase_proj.weight, float("nan"))
    model.load_state_dict(state)
    return model.eval()


def load_shipped(weights_dir):
    """-> (dequantized model, phrase rows, word rows). The rows are the shipped table's, already
    multiplied by phrase_proj.weight (not shipped), which the model's `tokens` accepts as is."""
    manifest = json.loads((Path(weights_dir) / "manifest.json").read_text())
    model = load_network(Path(weights_dir) / manifest["weights_file"])
    networks = manifest.get("task_networks", [])
    if networks:
        by_task = {}
        for spec in networks:
            network = load_network(Path(weights_dir) / spec["weights_file"])
            by_task.update({TASKS.index(t): network for t in spec["tasks"]})
        model = TaskRouted(model, by_task).eval()
    model.input_sides = input_sides(manifest)
    phrases, words = lookups(load_table(Path(weights_dir) / manifest["phrases_file"]))
    return model, phrases, words


def input_sides(manifest):
    """{task index: the long side its photos are resized to}: its network's own, else the manifest's (as
    `Manifest::input_long_side_for`)."""
    sides = dict.fromkeys(range(len(TASKS)), manifest["input_long_side"])
    for spec in manifest.get("task_networks", []):
        sides.update(dict.fromkeys((TASKS.index(t) for t in spec["tasks"]),
                                   spec.get("input_long_side", manifest["input_long_side"])))
    return sides


def load_float(run_dir):
    ckpt = torch.load(Path(run_dir) / "checkpoint.pt", map_location="cpu", weights_only=False)
    model = PeelGenerator.for_state(ckpt["model"])
    model.load_state_dict(ckpt["model"])
    return model.eval()


def preprocess(img: Image.Image, long_side=LONG_SIDE):
    """The app's model input (crates/peel-model/src/preprocess.rs `prepare`): the size by the same rule
    (`sizes.model_size`), PIL's antialiased bilinear resize (Rust: image's Triangle filter), rgb/127.5 - 1."""
    tw, th = model_size(*img.size, long_side)
    x = np.asarray(img.convert("RGB").resize((tw, th), Image.BILINEAR), dtype=np.float32)
    return torch.from_numpy(x).permute(2, 0, 1)[None] / 127.5 - 1


def painting(model, img, task, entries, bg, phrases, words):
    """-> uint8 PIL image at the photo's size, enlarged by `peel upsample`: the app's own code (guided
    by the photo), so evaluation scores what users see."""
    side = INPUT_LONG_SIDE or getattr(model, "input_sides", {}).get(task, LONG_SIDE)
    rgb = paint(model, preprocess(img, side), task, entries, bg, phrases, words)
    arr = (rgb.permute(1, 2, 0).clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8)
    with tempfile.TemporaryDirectory(prefix="peel-upsample-") as tmp:
        low, guide, out = Path(tmp) / "painting.png", Path(tmp) / "photo.png", Path(tmp) / "out.png"
        Image.fromarray(arr).save(low)
        img.convert("RGB").save(guide)
        cmd = [str(PEEL), "upsample", TASKS[task], str(low), "--guide", str(guide), "--out", str(out)]
        extra = [] if SPECK_SHARE is None else ["--speck-share", str(SPECK_SHARE)]
        done = subprocess.run(cmd + extra, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip())
        return Image.open(out).convert("RGB")


def semantic_prompt(classes):
    names = list(COLOURS)[: len(classes)]
    body = ", ".join(f'"{c}": "{n}"' for c, n in zip(classes, names))
    return ("Generate a semantic segmentation visualization image, using this color mapping: {" + body + "}",
            [(c, COLOURS[n]) for c, n in zip(classes, names)])


def peel_metrics(task, preds, gts, *extra):
    cmd = [str(PEEL), "metrics", task, "--pred", *map(str, preds), "--gt", *map(str, gts), *extra]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    return json.loads(out.stdout)["metrics"]


def voc_palette():
    pal = {}
    for i in range(256):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        pal[(r, g, b)] = i
    return pal


def eval_camvid(model, shared, out, ph, wd):
    prompt, entries = semantic_prompt(CAMVID_CLASSES)
    preds, gts = [], []
    for name in sorted(os.listdir(Path(shared) / "data/camvid/test"))[:LIMIT]:
        img = Image.open(Path(shared) / "data/camvid/test" / name).convert("RGB")
        p = out / f"camvid_{Path(name).stem}.png"
        painting(model, img, TASK_SEMANTIC, entries, None, ph, wd).save(p)
        preds.append(p)
        gts.append(Path(shared) / "data/camvid/testannot" / f"{Path(name).stem}.png")
    m = peel_metrics("semantic", preds, gts, "--prompt", prompt, "--num-classes", "11", "--ignore-index", "11")
    return {"camvid_test_miou": m["miou"], "camvid_images": len(preds)}


def present_named_miou(preds, truths):
    """mIoU over VOC's 21 classes of semantic paintings each prompted with its own photo's classes (as a
    person who knows what is there names them): truths are (VOC label image, the prompt's class indices in
    VOC's order, background first). `peel decode` labels entry i as i + 1 and unlisted pixels 0 (background).
    Labels of 21 and over (VOC's border) are ignored."""
    confusion = np.zeros((21, 21), np.int64)
    for pred, (truth, classes) in zip(preds, truths):
        prompt = semantic_prompt([VOC_CLASSES[i] for i in classes])[0]
        decoded = Path(pred).with_name(Path(pred).stem + "_labels.png")
        done = subprocess.run([str(PEEL), "decode", "semantic", str(pred), "--prompt", prompt, "--out", str(decoded)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip())
        entry = np.asarray(Image.open(decoded)).astype(np.int64)
        painted = np.asarray(list(classes) + [0])[entry - 1]  # entry 0 (unlisted) -> index -1 -> background
        label = np.asarray(Image.open(truth)).astype(np.int64)
        keep = label < 21
        np.add.at(confusion, (label[keep], painted[keep]), 1)
    inter = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - inter
    seen = confusion.sum(1) > 0
    return float(np.mean(inter[seen] / union[seen]))


def present_classes(label):
    """VOC class indices in a label map, background first (as `present_named_miou` takes them)."""
    return [0] + sorted(set(np.unique(np.asarray(label)).tolist()) - {0, IGNORE})


def eval_voc(model, shared, out, ph, wd):
    """VOC 14 with all 20 classes named, and with only each photo's own classes named beside it."""
    prompt, entries = semantic_prompt(VOC_CLASSES)
    pal = voc_palette()
    preds, gts, present_preds, present_gts = [], [], [], []
    root = Path(shared) / "data/voc-val-samples"
    for name in sorted(root.glob("*_image.png"))[:LIMIT]:
        img = Image.open(name).convert("RGB")
        p = out / f"voc_{name.stem}.png"
        painting(model, img, TASK_SEMANTIC, entries, None, ph, wd).save(p)
        tgt = np.asarray(Image.open(str(name).replace("_image", "_target")).convert("RGB"))
        lab = np.full(tgt.shape[:2], IGNORE, np.uint8)
        for colour, idx in pal.items():
            if idx < 21:
                lab[(tgt == colour).all(-1)] = idx
        g = out / f"voc_{name.stem}_gt.png"
        Image.fromarray(lab).save(g)
        preds.append(p)
        gts.append(g)
        present = present_classes(lab)
        p = out / f"voc_{name.stem}_present.png"
        painting(model, img, TASK_SEMANTIC, semantic_prompt([VOC_CLASSES[i] for i in present])[1], None, ph, wd).save(p)
        present_preds.append(p)
        present_gts.append((g, present))
    m = peel_metrics("semantic", preds, gts, "--prompt", prompt, "--num-classes", "21")
    return {"voc14_miou": m["miou"], "voc14_present_miou": present_named_miou(present_preds, present_gts),
            "voc_images": len(preds)}


def coco_photos(shared, split="val2017"):
    """COCO128's `split`, by default val2017 (never trained on; "train2017" holds the photos trained on):
    (image id, photo, {class id: instance polygons in pixels}) per image, and the class names."""
    import yaml
    root = Path(shared) / "data/coco128"
    cfg = yaml.safe_load(open(root / "instance_segmentation/config.yaml"))
    names = {int(k): coco_name(v) for k, v in cfg["names"].items()}

    def images():
        for label_file in sorted((root / f"instance_segmentation/labels/{split}").glob("*.txt"))[:LIMIT]:
            img = Image.open(root / f"images/{split}" / f"{label_file.stem}.jpg").convert("RGB")
            by_class = {}
            for line in label_file.read_text().split("\n"):
                parts = line.split()
                if len(parts) >= 7:
                    xy = np.array(parts[1:], dtype=np.float64).reshape(-1, 2) * img.size
                    by_class.setdefault(int(parts[0]), []).append([tuple(p) for p in xy])
            yield label_file.stem, img, by_class

    return images(), names


# COCO's names for VOC's classes where they differ.
COCO_AS_VOC = {"couch": "sofa", "tv": "tv monitor"}


def voc_labels(by_class, names, size):
    """COCO polygons -> VOC class index per pixel (classes VOC lacks are background, as VOC labels them)."""
    lab = Image.new("L", size, 0)
    draw = ImageDraw.Draw(lab)
    for cid, polys in by_class.items():
        name = COCO_AS_VOC.get(names[cid], names[cid])
        if name in VOC_CLASSES[1:]:
            for poly in polys:
                draw.polygon(poly, fill=VOC_CLASSES.index(name))
    return lab


def eval_coco_voc(model, shared, out, ph, wd):
    """COCO128 val with all 20 VOC classes named, its COCO masks as VOC labels: VOC 14's question on 100 photos."""
    prompt, entries = semantic_prompt(VOC_CLASSES)
    images, names = coco_photos(shared)
    preds, gts = [], []
    for stem, img, by_class in images:
        g = out / f"cocovoc_{stem}_gt.png"
        voc_labels(by_class, names, img.size).save(g)
        p = out / f"cocovoc_{stem}.png"
        painting(model, img, TASK_SEMANTIC, entries, None, ph, wd).save(p)
        preds.append(p)
        gts.append(g)
    m = peel_metrics("semantic", preds, gts, "--prompt", prompt, "--num-classes", "21")
    return {"coco128_val_voc_miou": m["miou"], "coco_voc_images": len(preds)}


def eval_coco_instances(model, shared, out, ph, wd):
    images, names = coco_photos(shared)
    preds, gts = [], []
    for stem, img, by_class in images:
        for cid, polys in by_class.items():
            gt = Image.new("I;16", img.size, 0)
            draw = ImageDraw.Draw(gt)
            for k, poly in enumerate(polys):
                draw.polygon(poly, fill=k + 1)
            g = out / f"coco_{stem}_{cid}_gt.png"
            gt.save(g)
            p = out / f"coco_{stem}_{cid}.png"
            painting(model, img, TASK_INSTANCE, [(names[cid], None)], None, ph, wd).save(p)
            preds.append(p)
            gts.append(g)
    m = peel_metrics("instance", preds, gts, "--prompt",
                     "Generate an instance segmentation visualization of this image. Each object is colored differently.")
    return {"coco128_val_instance_f1": m["f1"], "coco_pairs": len(preds)}


def coco_referring_expressions(polys_by_class, names, size):
    """(text, mask) per class of one COCO image, built from its instance polygons the way the
    issue asks ("the dog", "the dog on the left", "the largest person"); which of the three
    spatial forms a multi-instance class gets cycles with the class id, so the set is fixed."""
    out = []
    for cid, polys in sorted(polys_by_class.items()):
        masks = []
        for poly in polys:
            m = Image.new("L", size, 0)
            ImageDraw.Draw(m).polygon(poly, fill=1)
            masks.append(np.asarray(m, bool))
        masks = [m for m in masks if m.any()]
        if not masks:
            continue
        name = names[cid]
        if len(masks) == 1:
            out.append((f"the {name}", masks[0]))
            continue
        cx = [np.nonzero(m)[1].mean() for m in masks]
        form = cid % 3
        if form == 0:
            out.append((f"the {name} on the left", masks[int(np.argmin(cx))]))
        elif form == 1:
            out.append((f"the {name} on the right", masks[int(np.argmax(cx))]))
        else:
            out.append((f"the largest {name}", masks[int(np.argmax([m.sum() for m in masks]))]))
    return out


def eval_coco_referring(model, shared, out, ph, wd):
    """COCO128 val2017 (never trained on): one expression per image and class, scored by cIoU."""
    images, names = coco_photos(shared)
    preds, gts = [], []
    for stem, img, by_class in images:
        for k, (text, mask) in enumerate(coco_referring_expressions(by_class, names, img.size)):
            g = out / f"cocoref_{stem}_{k}_gt.png"
            Image.fromarray(mask.astype(np.uint8) * 255).save(g)
            p = out / f"cocoref_{stem}_{k}.png"
            painting(model, img, TASK_REFERRING, [(text, (255, 255, 255))], None, ph, wd).save(p)
            preds.append(p)
            gts.append(g)
    m = peel_metrics("referring", preds, gts, "--prompt", "The target is rendered in white.")
    return {"coco128_val_referring_ciou": m.get("ciou"), "coco128_val_referring_giou": m.get("giou"),
            "coco_referring_pairs": len(preds)}


NO_TARGET_PROBES = ("person", "dog", "cat", "car", "cup", "chair", "bird", "bottle")


def eval_coco_no_target(model, shared, out, ph, wd):
    """COCO128 val2017 (never trained on): "the <thing>" for two of NO_TARGET_PROBES that the image does not
    contain (its labels list every COCO thing in it), as a user asks about what is not there. Scored as
    gRefCOCO's no-target accuracy (the share of prompts painted empty: `peel metrics`' per-sample IoU against
    an empty mask) and the mean share of the photo painted (`peel decode`'s pixel count)."""
    images, names = coco_photos(shared)
    ids = {v: k for k, v in names.items()}
    preds, gts, shares = [], [], []
    for n, (stem, img, by_class) in enumerate(images):
        absent = [c for c in NO_TARGET_PROBES if ids[c] not in by_class]
        rotated = absent[n % len(absent):] + absent[:n % len(absent)] if absent else []
        for k, name in enumerate(rotated[:2]):
            g, p = out / f"nothing_{stem}_{k}_gt.png", out / f"nothing_{stem}_{k}.png"
            Image.new("L", img.size, 0).save(g)
            painting(model, img, TASK_REFERRING, [(f"the {name}", (255, 255, 255))], None, ph, wd).save(p)
            done = subprocess.run([str(PEEL), "decode", "referring", str(p), "--prompt", "The target is rendered in white.",
                                   "--out", str(out / f"nothing_{stem}_{k}_mask.png")], capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(done.stderr.strip())
            shares.append(json.loads(done.stdout)["entries"][0]["pixels"] / (img.width * img.height))
            preds.append(p)
            gts.append(g)
    m = peel_metrics("referring", preds, gts, "--prompt", "The target is rendered in white.")
    return {"coco128_val_no_target_accuracy": m.get("giou"), "coco128_val_no_target_painted_share": float(np.mean(shares)),
            "coco_no_target_prompts": len(preds)}


def eval_synth(model, synth_dir, out, ph, wd):
    dp, dg, np_, ng, rp, rg = [], [], [], [], [], []
    for d in sorted(Path(synth_dir).iterdir())[:LIMIT]:
        if not (d / "meta.json").exists():
            continue
        img = Image.open(d / "rgb.png").convert("RGB")
        p = out / f"synth_{d.name}_depth.png"
        painting(model, img, TASK_DEPTH, [], None, ph, wd).save(p)
        dp.append(p)
        dg.append(d / "depth.npy")
        p = out / f"synth_{d.name}_normals.png"
        painting(model, img, TASK_NORMALS, [], None, ph, wd).save(p)
        np_.append(p)
        ng.append(d / "normal.npy")
        meta = json.loads((d / "meta.json").read_text())
        if meta["expressions"]:
            e = meta["expressions"][0]
            inst = np.asarray(Image.open(d / "instance.png"))
            g = out / f"synth_{d.name}_ref_gt.png"
            Image.fromarray((np.isin(inst, e["instance_ids"]) * 255).astype(np.uint8)).save(g)
            p = out / f"synth_{d.name}_ref.png"
            painting(model, img, TASK_REFERRING, [(e["text"], (255, 255, 255))], None, ph, wd).save(p)
            rp.append(p)
            rg.append(g)
    depth = peel_metrics("depth", dp, dg, "--max-depth", str(MAX_DEPTH))
    normals = peel_metrics("normals", np_, ng)
    ref = peel_metrics("referring", rp, rg, "--prompt", "The target is rendered in white.")
    return {"synth_depth_delta1": depth["delta1"], "synth_depth_abs_rel": depth["abs_rel"],
            "synth_normals_mean_deg": normals["mean_deg"], "synth_normals_within_11_25_pct": normals["pct_within_11_25"],
            "synth_referring_ciou": ref.get("ciou"), "synth_referring_giou": ref.get("giou"),
            "synth_images": len(dp)}


def depth_context(preds, gts):
    """Two yardsticks beside a depth δ1: the best single constant depth's δ1 (what a model that
    ignores the photo can score) and the painting's δ1 after scaling it by median(gt)/median(painted)
    per image (its shape, scale aside). Pixels as `peel metrics depth` counts them: 0 < gt < MAX_DEPTH."""
    painted, truth = [], []
    with tempfile.TemporaryDirectory(prefix="peel-depth-") as tmp:
        for k, (p, g) in enumerate(zip(preds, gts)):
            m = Path(tmp) / f"{k}.npy"
            subprocess.run([str(PEEL), "decode", "depth", str(p), "--out", str(m)], check=True, capture_output=True)
            d, t = np.load(m), np.load(g)
            if d.shape != t.shape:
                d = np.asarray(Image.fromarray(d).resize(t.shape[::-1], Image.NEAREST))
            ok = np.isfinite(t) & (t > 0) & (t < MAX_DEPTH) & np.isfinite(d) & (d > 0)
            painted.append(d[ok] * np.median(t[ok]) / np.median(d[ok]))
            truth.append(t[ok])
    delta1 = lambda a, b: float(np.mean(np.maximum(a / b, b / a) < 1.25))
    everything = np.concatenate(truth)
    constant = max(delta1(np.full_like(everything, c), everything) for c in np.geomspace(0.1, MAX_DEPTH, 400))
    return constant, delta1(np.concatenate(painted), everything)


def eval_motorcycle(model, out, ph, wd):
    from skimage import data
    left, _, disparity = data.stereo_motorcycle()
    z = 193.001 * 994.978 / (disparity + 31.086) / 1000.0  # metres; inf disparity -> 0 (skipped)
    z = np.where(np.isfinite(disparity), z, np.nan).astype(np.float32)
    g = out / "motorcycle_gt.npy"
    np.save(g, z)
    p = out / "motorcycle_depth.png"
    painting(model, Image.fromarray(left), TASK_DEPTH, [], None, ph, wd).save(p)
    m = peel_metrics("depth", [p], [g], "--max-depth", str(MAX_DEPTH))
    constant, scaled = depth_context([p], [g])
    return {"motorcycle_depth_delta1": m["delta1"], "motorcycle_depth_abs_rel": m["abs_rel"],
            "motorcycle_constant_delta1": constant, "motorcycle_median_scaled_delta1": scaled}


def eval_middlebury(model, shared, out, ph, wd):
    """Real metric depth on the Middlebury 2014 scenes held out from training (realdepth.VALIDATION)."""
    from .realdepth import VALIDATION, load_scene
    preds, gts = [], []
    for name in VALIDATION[:LIMIT]:
        rgb, depth = load_scene(shared, name)
        g = out / f"middlebury_{name}_gt.npy"
        np.save(g, depth)
        p = out / f"middlebury_{name}_depth.png"
        painting(model, Image.fromarray(rgb), TASK_DEPTH, [], None, ph, wd).save(p)
        preds.append(p)
        gts.append(g)
    m = peel_metrics("depth", preds, gts, "--max-depth", str(MAX_DEPTH))
    constant, scaled = depth_context(preds, gts)
    return {"middlebury_val_depth_delta1": m["delta1"], "middlebury_val_depth_abs_rel": m["abs_rel"],
            "middlebury_val_constant_delta1": constant, "middlebury_val_median_scaled_delta1": scaled,
            "middlebury_val_scenes": len(preds)}


def eval_street_depth(model, shared, out, ph, wd):
    """Street scale: depth on CamVid test photos against road geometry from their labels
    (streetdepth.py: the same assumed camera as the training labels, so this checks that the
    model paints streets at the rig's scale, not agreement with measured depth). Every 4th photo."""
    from .streetdepth import street_depth
    preds, gts = [], []
    for name in sorted(os.listdir(Path(shared) / "data/camvid/test"))[::4][:LIMIT]:
        img = Image.open(Path(shared) / "data/camvid/test" / name).convert("RGB")
        label = np.asarray(Image.open(Path(shared) / "data/camvid/testannot" / f"{Path(name).stem}.png"))
        label = Image.fromarray(np.where(label < len(CAMVID_CLASSES), label, IGNORE).astype(np.uint8))
        small = np.asarray(label.resize((256, 192), Image.NEAREST))  # the geometry's own resolution
        depth = Image.fromarray(street_depth(small, CAMVID_CLASSES)).resize(img.size, Image.NEAREST)
        g = out / f"street_{Path(name).stem}_gt.npy"
        np.save(g, np.asarray(depth, dtype=np.float32))
        p = out / f"street_{Path(name).stem}_depth.png"
        painting(model, img, TASK_DEPTH, [], None, ph, wd).save(p)
        preds.append(p)
        gts.append(g)
    m = peel_metrics("depth", preds, gts, "--max-depth", str(MAX_DEPTH))
    constant, scaled = depth_context(preds, gts)
    return {"street_depth_delta1": m["delta1"], "street_depth_abs_rel": m["abs_rel"],
            "street_constant_delta1": constant, "street_median_scaled_delta1": scaled, "street_images": len(preds)}


def eval_vision_banana(model, shared, out, ph, wd):
    """Agreement with the paper's own model on its real photos: its depth and normal paintings,
    decoded by `peel decode`, are the reference (they are not ground truth)."""
    root = Path(shared) / "data/vision-banana-outputs"
    result = {}
    for name, photo, theirs in (("eth3d", "depth_depth_eth3d_47_0.jpg", "depth_depth_eth3d_47_1.jpg"),
                                ("kinkaku", "depth_depth_kinkaku_0.jpg", "depth_depth_kinkaku_1.png")):
        ref = Image.open(root / theirs).convert("RGB")
        g = out / f"vb_{name}_paper_depth.npy"
        subprocess.run([str(PEEL), "decode", "depth", str(root / theirs), "--out", str(g)], check=True,
                       capture_output=True)
        p = out / f"vb_{name}_depth.png"
        painting(model, Image.open(root / photo).convert("RGB").resize(ref.size, Image.BILINEAR), TASK_DEPTH, [],
                 None, ph, wd).save(p)
        m = peel_metrics("depth", [p], [g], "--max-depth", str(MAX_DEPTH))
        result[f"vision_banana_{name}_depth_delta1"] = m["delta1"]
        result[f"vision_banana_{name}_depth_abs_rel"] = m["abs_rel"]
        result[f"vision_banana_{name}_constant_delta1"], result[f"vision_banana_{name}_median_scaled_delta1"] = \
            depth_context([p], [g])
    for k in (1, 2):
        ref = Image.open(root / f"normal_sn_{k}_out.jpg").convert("RGB")
        g = out / f"vb_normals{k}_paper.npy"
        subprocess.run([str(PEEL), "decode", "normals", str(root / f"normal_sn_{k}_out.jpg"), "--out", str(g)],
                       check=True, capture_output=True)
        p = out / f"vb_normals{k}.png"
        painting(model, Image.open(root / f"normal_sn_{k}_in.jpg").convert("RGB").resize(ref.size, Image.BILINEAR),
                 TASK_NORMALS, [], None, ph, wd).save(p)
        result[f"vision_banana_normals{k}_mean_deg"] = peel_metrics("normals", [p], [g])["mean_deg"]
    return result


SETS = ("camvid", "voc", "coco_voc", "coco_instances", "coco_referring", "coco_no_target", "synth", "motorcycle", "middlebury", "street_depth",
        "vision_banana")


def evaluate(model, shared, synth_dir, out, ph, wd, sets=SETS):
    out.mkdir(parents=True, exist_ok=True)
    runs = {"camvid": lambda: eval_camvid(model, shared, out, ph, wd),
            "voc": lambda: eval_voc(model, shared, out, ph, wd),
            "coco_voc": lambda: eval_coco_voc(model, shared, out, ph, wd),
            "coco_instances": lambda: eval_coco_instances(model, shared, out, ph, wd),
            "coco_referring": lambda: eval_coco_referring(model, shared, out, ph, wd),
            "coco_no_target": lambda: eval_coco_no_target(model, shared, out, ph, wd),
            "synth": lambda: eval_synth(model, synth_dir, out, ph, wd),
            "motorcycle": lambda: eval_motorcycle(model, out, ph, wd),
            "middlebury": lambda: eval_middlebury(model, shared, out, ph, wd),
            "street_depth": lambda: eval_street_depth(model, shared, out, ph, wd),
            "vision_banana": lambda: eval_vision_banana(model, shared, out, ph, wd)}
    results = {}
    for name in sets:
        t = time.time()
        r = runs[name]()
        print(json.dumps(r), f"({time.time() - t:.0f}s)", flush=True)
        results.update(r)
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=str(REPO / "weights"))
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    ap.add_argument("--synth", default=str(REPO / "target/synth-heldout"))
    ap.add_argument("--out", default=str(REPO / "target/peel-eval"))
    ap.add_argument("--float-run", default=None)
    ap.add_argument("--write-manifest", action="store_true")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS), help="score only these sets")
    ap.add_argument("--input-long-side", type=int, default=None,
                    help="every task's input long side (default: the manifest's, as the app paints); 128 is the "
                         "half-resolution training size")
    ap.add_argument("--speck-share", type=float, default=None,
                    help="instance and referring paintings: repaint pieces under this share of the painting "
                         "(`peel upsample --speck-share`; default the app's, 0 keeps them: the painter's raw output)")
    ap.add_argument("--presence-gate-scale", nargs=2, action="append", default=[], metavar=("TASK", "SCALE"),
                    help="a probe: paint TASK with its presence gate counted SCALE times (the app: once, as trained)")
    args = ap.parse_args()
    global LIMIT, INPUT_LONG_SIDE, SPECK_SHARE
    LIMIT = args.limit
    INPUT_LONG_SIDE = args.input_long_side
    SPECK_SHARE = args.speck_share
    if args.write_manifest and (INPUT_LONG_SIDE or SPECK_SHARE is not None or args.presence_gate_scale):
        ap.error("--write-manifest records the app's figures: leave --input-long-side, --speck-share and "
                 "--presence-gate-scale out")
    gate_overrides = {}
    for task, text in args.presence_gate_scale:
        try:
            scale = float(text)
        except ValueError:
            scale = float("nan")
        if task not in TASKS or not 0 <= scale < float("inf"):
            ap.error(f"--presence-gate-scale {task} {text}: a task of {TASKS} and a finite scale >= 0")
        gate_overrides[TASKS.index(task)] = scale
    torch.set_grad_enabled(False)
    model, ph, wd = load_shipped(args.weights)
    model.presence_gate_scales = gate_overrides
    report = {"int8": evaluate(model, args.shared, args.synth, Path(args.out) / "int8", ph, wd, args.sets)}
    if args.float_run:
        float_model = load_float(args.float_run)
        float_model.presence_gate_scales = gate_overrides
        report["float"] = evaluate(float_model, args.shared, args.synth,
                                   Path(args.out) / "float", ph, wd, args.sets)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    if args.write_manifest:
        path = Path(args.weights) / "manifest.json"
        manifest = json.loads(path.read_text())
        manifest["evaluation"] = report
        path.write_text(json.dumps(manifest, indent=1) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
