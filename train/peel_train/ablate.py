"""Probes for the ablations of docs/MODEL.md ("Ablations: what limits peel-gen-2"): where the student's
semantic segmentation goes wrong, measured on the network's own logits.

    python -m peel_train.ablate --weights ../weights --out ../target/ablate/peel-gen-2.json
    python -m peel_train.ablate --checkpoint ../target/ablate/run-c/checkpoint.pt --data ../target/peel-data \
        --out ../target/ablate/c.json

It scores, with every class of the set named (as a person who does not know the photo names them) and with
only the classes present named:
- VOC 14 (`../shared/data/voc-val-samples`), at the app's input size and at larger ones (--sizes);
- agreement with the VOC teacher (DeepLabV3, its labels at confidence >= 0.6) on photos the student
  trained on (every 10th of `data/photos`) against photos it never saw (COCO128 val2017);
- CamVid test (every 4th image);
- with a presence head (`--parts gates`), the same VOC 14 and teacher-agreement scores under each way of
  applying the head at inference (GATES);
- CCP's held-out photos (`--parts ccp`, every 10th by id, never trained on: peel_train/ccp.py): the person's
  outline (IoU, "person" the only name) and the clothing (mIoU, all 21 CCP_CLASSES named), at the photo's size;
and it splits the object pixels of VOC 14 by what was painted over them: their own class, another named class
that is in the photo, a named class that is *not* in the photo, the background, or nothing.

The prediction is the arg-max of the logits, upsampled bilinearly to the ground truth's size; evaluate.py's
figures (painting, the app's guided upsample, `peel metrics`) differ from it by a few hundredths.
"""

import argparse
import json
import os
import pickle
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from . import teachers
from .data import IGNORE, cover_crop
from .evaluate import load_shipped, voc_palette
from .generator import TASK_SEMANTIC, PeelGenerator
from .sizes import model_size
from .teachers.building import IMAGE_SUFFIXES
from .train import load_model_only, load_pretrained
from .vocab import CAMVID_CLASSES, VOC_CLASSES, embed, lookups

VOC_OBJECTS = range(1, len(VOC_CLASSES))


def load_checkpoint(path, data):
    """A float model (model-only .pt or a run's checkpoint.pt) and the training table's 384-d rows."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    state = state["model"] if "model" in state else load_model_only(path)
    model = PeelGenerator.for_state(state)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    with open(Path(data) / "phrases.pkl", "rb") as f:
        phrases, words = lookups(pickle.load(f))
    return model.eval(), phrases, words


class Student:
    def __init__(self, model, phrases, words):
        self.model, self.phrases, self.words = model, phrases, words
        self.rows = {}

    def logits(self, img: Image.Image, names, long_side=256):
        """Logits [1 + len(names), H, W] at the photo's size (entry 0: the background, unnamed)."""
        return self.at_photo_size(self.outputs(img, names, long_side).logits, img)

    @staticmethod
    def at_photo_size(logits, img):
        return F.interpolate(logits, size=(img.height, img.width), mode="bilinear", align_corners=False)[0]

    def outputs(self, img: Image.Image, names, long_side=256):
        """The generator's Outputs for a semantic prompt naming `names` (generator.Outputs)."""
        tw, th = model_size(*img.size, long_side)
        x = torch.from_numpy(np.asarray(img.convert("RGB").resize((tw, th), Image.BILINEAR), np.float32))
        x = x.permute(2, 0, 1)[None] / 127.5 - 1
        for n in names:
            if n not in self.rows:
                self.rows[n] = embed(n, self.phrases, self.words)
        ph = torch.from_numpy(np.stack([self.rows[n] for n in names]))[None]
        slots = torch.zeros(1, len(names), dtype=torch.long)
        mask = torch.ones(1, len(names), dtype=torch.bool)
        return self.model(x, torch.tensor([TASK_SEMANTIC]), ph, slots, mask)


class Confusion(teachers.Confusion):
    """The teachers' confusion matrix (rows: ground truth; last column: no answer), scored as `peel metrics`
    scores: no answer counts as wrong, and mIoU averages the classes with a union."""

    def __init__(self, n):
        super().__init__(list(range(n)))

    def ious(self):
        n = len(self.names)
        tp = np.diag(self.m[:, :n])
        union = self.m.sum(1) + self.m[:, :n].sum(0) - tp
        return np.where(union > 0, tp / np.maximum(union, 1), np.nan)

    def miou(self, classes=None):
        iou = self.ious()
        if classes is not None:
            iou = iou[list(classes)]
        return float(np.nanmean(iou)) if np.isfinite(iou).any() else float("nan")


NOTHING = len(VOC_CLASSES)  # the confusion's last column (no answer), for the VOC set


def predict(student, img, names, ids, long_side=256, logits=None):
    """Arg-max label map in the set's ids; unnamed -> len(set) ("nothing"). `logits`: the student's, at the
    photo's size, when already computed."""
    lg = student.logits(img, names, long_side) if logits is None else logits
    best = lg.argmax(0).numpy()
    lut = np.array([NOTHING] + list(ids))
    return lut[best]


def voc_items(shared):
    pal = {c: i for c, i in voc_palette().items() if i < 21}
    for name in sorted((Path(shared) / "data/voc-val-samples").glob("*_image.png")):
        img = Image.open(name).convert("RGB")
        tgt = np.asarray(Image.open(str(name).replace("_image", "_target")).convert("RGB"))
        lab = np.full(tgt.shape[:2], IGNORE, np.uint8)
        for colour, idx in pal.items():
            lab[(tgt == colour).all(-1)] = idx
        yield name.stem, img, lab


def auc(positives, negatives):
    """The chance that a random positive scores above a random negative (ties count half)."""
    p, n = np.asarray(positives)[:, None], np.asarray(negatives)[None, :]
    return round(float((p > n).mean() + 0.5 * (p == n).mean()), 3) if p.size and n.size else None


def voc(student, shared, long_side=256):
    """{all, present}: VOC 14 confusions with all 21 VOC names named, and with the present ones only; and the
    split of object pixels under all names."""
    full, present = Confusion(21), Confusion(21)
    split = dict(own=0, other_present=0, absent_named=0, background=0, nothing=0)
    pairs = {}
    # With a presence head: its verdict (logit > 0) on each of the 20 object names, against the ground truth.
    verdicts = dict(present_kept=0, present_dropped=0, absent_kept=0, absent_dropped=0)
    logit_of = {"present": [], "absent": []}
    for _, img, lab in voc_items(shared):
        out = student.outputs(img, VOC_CLASSES, long_side)
        pred = predict(student, img, VOC_CLASSES, range(21), logits=student.at_photo_size(out.logits, img))
        presence = out.presence
        if presence is not None:
            shown = set(np.unique(lab).tolist())
            for c in range(1, 21):
                kind = "present" if c in shown else "absent"
                verdicts[f"{kind}_{'kept' if presence[0, c] > 0 else 'dropped'}"] += 1
                logit_of[kind].append(float(presence[0, c]))
        full.add(pred, lab)
        here = sorted(int(c) for c in np.unique(lab) if c != IGNORE)
        present.add(predict(student, img, [VOC_CLASSES[c] for c in here], here, long_side), lab)
        obj = (lab != IGNORE) & (lab > 0)
        g, p = lab[obj].astype(int), pred[obj]
        split["own"] += int((p == g).sum())
        split["background"] += int((p == 0).sum())
        split["nothing"] += int((p == NOTHING).sum())
        wrong = (p != g) & (p != 0) & (p != NOTHING)
        is_here = np.isin(p, here)
        split["other_present"] += int((wrong & is_here).sum())
        split["absent_named"] += int((wrong & ~is_here).sum())
        for gc, pc in zip(g[wrong & ~is_here], p[wrong & ~is_here]):
            key = f"{VOC_CLASSES[gc]} -> {VOC_CLASSES[pc]}"
            pairs[key] = pairs.get(key, 0) + 1
    total = max(1, sum(split.values()))
    top = sorted(pairs.items(), key=lambda kv: -kv[1])[:8]
    return {
        "voc14_all_named_miou": full.miou(), "voc14_all_named_objects_miou": full.miou(VOC_OBJECTS),
        "voc14_present_named_miou": present.miou(), "voc14_present_named_objects_miou": present.miou(VOC_OBJECTS),
        "voc14_object_pixels_painted_as": {k: round(v / total, 3) for k, v in split.items()},
        "voc14_top_absent_confusions": {k: round(v / total, 3) for k, v in top},
        **({"voc14_presence_verdicts": verdicts, "voc14_presence_auc": auc(logit_of["present"], logit_of["absent"])}
           if sum(verdicts.values()) else {}),
        "voc14_all_named_per_class_iou": {VOC_CLASSES[c]: None if np.isnan(v) else round(float(v), 3)
                                          for c, v in enumerate(full.ious())},
    }


def teacher_photos(shared, every=10):
    """(train photos the student saw, COCO128 val2017 photos it never saw)."""
    train = [path for _, path in teachers.photo_files(shared, "photos")[::every]]
    val = sorted((Path(shared) / "data/coco128/images/val2017").glob("*.jpg"))
    return train, val


def teacher_labelled(voc_teacher, files):
    """(photo, label) pairs: each photo on the teacher's crop at twice the labels' size (so that larger inputs
    than 256 px see the photo's detail), with the VOC teacher's confident labels on the 256x192 crop."""
    for path in files:
        img = Image.open(path).convert("RGB")
        label = teachers.confident(teachers.infer(voc_teacher, "voc", cover_crop(img, Image.BILINEAR)), "voc")
        yield cover_crop(img, Image.BILINEAR, (2 * label.shape[1], 2 * label.shape[0])), label


def on_labels(pred, lab):
    """A label map at the photo's size sampled on the labels' grid (`teacher_labelled` photos are 2x theirs)."""
    step = pred.shape[0] // lab.shape[0]
    return pred[::step, ::step]


def teacher_agreement(student, pairs, long_side=256):
    """mIoU of the student (all VOC names) against the VOC teacher's confident labels (`teacher_labelled`
    pairs), on the teacher's crop."""
    full, present = Confusion(21), Confusion(21)
    for img, lab in pairs:
        full.add(on_labels(predict(student, img, VOC_CLASSES, range(21), long_side), lab), lab)
        here = sorted(int(c) for c in np.unique(lab) if c != IGNORE)
        if here:
            present.add(on_labels(predict(student, img, [VOC_CLASSES[c] for c in here], here, long_side), lab), lab)
    return {"all_named_miou": full.miou(), "all_named_objects_miou": full.miou(VOC_OBJECTS),
            "present_named_miou": present.miou(), "photos": len(pairs)}


# Ways to apply the presence head's logits p [1,T] to the entries' pixel logits at inference: not at all, as
# trained (+ log-sigmoid(p)), with the head's offset raised by b (a prior correction), or as a hard filter that
# keeps the names judged present (p > 0) and always the best-scored one.
GATES = {
    "none": torch.zeros_like,
    "trained": F.logsigmoid,
    **{f"offset+{b}": (lambda b: lambda p: F.logsigmoid(p + b))(b) for b in (1, 2, 3)},
    "hard": lambda p: torch.where((p > 0) | (torch.arange(p.shape[1]) == p.argmax(1, keepdim=True)), 0.0, -1e4),
}


def gates(student, shared, labelled):
    """VOC 14 and the VOC teacher's labels on unseen (COCO128 val) and trained photos (every 10th: `labelled`),
    all and present classes named, under each of GATES: one forward per photo and prompt, re-gated."""
    sets = {"voc14": ((img, lab) for _, img, lab in voc_items(shared)), **labelled}
    report = {}
    for set_name, pairs in sets.items():
        scores = {(prompt, gate): Confusion(21) for prompt in ("all", "present") for gate in GATES}
        for img, lab in pairs:
            here = sorted(int(c) for c in np.unique(lab) if c != IGNORE)
            for prompt, ids in (("all", list(range(21))), ("present", here)):
                if not ids:
                    continue
                out = student.outputs(img, [VOC_CLASSES[c] for c in ids])
                ungated = out.logits.clone()
                ungated[:, 1:] -= F.logsigmoid(out.presence)[:, :, None, None]
                for gate, fn in GATES.items():
                    lg = ungated.clone()
                    lg[:, 1:] += fn(out.presence)[:, :, None, None]
                    pred = predict(student, img, None, ids, logits=student.at_photo_size(lg, img))
                    scores[prompt, gate].add(on_labels(pred, lab), lab)
        report[set_name] = {f"{prompt}_named": {gate: round(scores[prompt, gate].miou(), 3) for gate in GATES}
                            for prompt in ("all", "present")}
    return report


def teachers_on_voc(shared):
    """The VOC teachers' own mIoU on VOC 14 (their arg-max at the photo's size, no confidence cut): the ceiling."""
    nets = {"voc": teachers.Teacher(shared, "deeplabv3_257_mv_gpu.tflite", 257),
            "voc513": teachers.Teacher(shared, "deeplabv3_mnv2_pascal_quant.tflite", 513, "logits/semantic/BiasAdd")}
    out = {}
    for name, net in nets.items():
        conf = Confusion(21)
        for _, img, lab in voc_items(shared):
            x = np.asarray(img.resize((net.size, net.size), Image.BILINEAR))
            if name == "voc":
                net.run(x.astype(np.float32) / 127.5 - 1)
                logits = net.output()
            else:
                net.run(x)
                logits = net.dequantized_logits()
            t = torch.from_numpy(np.ascontiguousarray(logits, np.float32)).permute(2, 0, 1)[None]
            conf.add(F.interpolate(t, size=lab.shape, mode="bilinear", align_corners=False)[0].argmax(0).numpy(), lab)
        out[f"teacher_{name}_voc14_miou"] = conf.miou()
    return out


def encoder_features(encoder, rgb):
    """The encoder's stride-16 and stride-32 features (the latter upsampled), concatenated: [HW/256, C16 + C32]."""
    x = torch.from_numpy(np.asarray(rgb, np.float32)).permute(2, 0, 1)[None] / 127.5 - 1
    _, _, _, f16, f32 = encoder(x)
    f = torch.cat([f16, F.interpolate(f32, size=f16.shape[-2:], mode="nearest")], 1)[0]
    return f.flatten(1).T


def cells(label, cell=16):
    """Each `cell`x`cell` cell's most common VOC label, IGNORE where under half the cell is labelled."""
    h, w = label.shape[0] // cell, label.shape[1] // cell
    lab = label[: h * cell, : w * cell].reshape(h, cell, w, cell).transpose(0, 2, 1, 3).reshape(-1, cell * cell)
    return np.array([np.bincount(c, minlength=256)[:21].argmax() if (c < 21).mean() >= 0.5 else IGNORE for c in lab])


def photo_at(shared, sample, side):
    """A training photo (photos.pkl sample) at `side` x 3/4 side: the cached crop at 256, else the original file
    on the same centre crop, with its cached label enlarged (nearest)."""
    if side == 256:
        return sample["rgb"], sample["semantic"]
    size = (side, side * 3 // 4)
    path = next(p for p in (Path(shared) / "data").glob(sample["source"] + ".*")
                if p.suffix.lower() in IMAGE_SUFFIXES)
    rgb = np.asarray(cover_crop(Image.open(path).convert("RGB"), Image.BILINEAR, size))
    return rgb, np.asarray(Image.fromarray(sample["semantic"]).resize(size, Image.NEAREST))


def encoder_probe(encoders, shared, data, sides=(256,), count=1500, hidden=(0, 256), epochs=8):
    """(a, e) What the encoder alone knows: a classifier over the 21 VOC classes (linear, or one hidden layer) on
    frozen stride-16/32 features of `count` training photos, against their VOC teacher labels (photos.pkl in
    `data`, confident pixels only, the most common label of each 16x16 cell), at each input long side in
    `sides`; scored on VOC 14 as the student, and against the 513-px VOC teacher's confident labels on the
    COCO128 val photos (never trained on), at the same side."""
    with open(Path(data) / "photos.pkl", "rb") as f:
        samples = pickle.load(f)
    rng = np.random.default_rng(0)
    samples = [samples[i] for i in rng.permutation(len(samples))[:count]]
    voc513 = {"voc513": teachers.Teacher(shared, "deeplabv3_mnv2_pascal_quant.tflite", 513, "logits/semantic/BiasAdd")}
    unseen = []
    for path in teacher_photos(shared)[1]:
        img = Image.open(path).convert("RGB")
        unseen.append((img, teachers.confident(teachers.infer(voc513, "voc513", cover_crop(img, Image.BILINEAR)), "voc513")))
    out = {}
    for side in sides:
        photos = [photo_at(shared, s, side) for s in samples]
        for enc_name, encoder in encoders.items():
            x = torch.cat([encoder_features(encoder, rgb) for rgb, _ in photos])
            y = torch.from_numpy(np.concatenate([cells(lab) for _, lab in photos])).long()
            keep = y != IGNORE
            x, y = x[keep], y[keep]
            mean, std = x.mean(0), x.std(0) + 1e-6
            for h in hidden:
                torch.manual_seed(0)
                head = torch.nn.Linear(x.shape[1], 21) if h == 0 else torch.nn.Sequential(
                    torch.nn.Linear(x.shape[1], h), torch.nn.ReLU(), torch.nn.Linear(h, 21))
                opt = torch.optim.Adam(head.parameters(), 1e-3)
                with torch.enable_grad():
                    for _ in range(epochs):
                        for idx in torch.randperm(len(y)).split(512):
                            loss = F.cross_entropy(head((x[idx] - mean) / std), y[idx])
                            opt.zero_grad()
                            loss.backward()
                            opt.step()

                def classify(rgb, shape):
                    f = encoder_features(encoder, rgb)
                    logits = head((f - mean) / std).T.reshape(21, rgb.shape[0] // 16, rgb.shape[1] // 16)
                    return F.interpolate(logits[None], size=shape, mode="bilinear", align_corners=False)[0].argmax(0)

                conf = Confusion(21)
                for _, img, lab in voc_items(shared):
                    tw, th = model_size(*img.size, side)
                    conf.add(classify(np.asarray(img.resize((tw, th), Image.BILINEAR)), lab.shape).numpy(), lab)
                agree = Confusion(21)
                for img, lab in unseen:
                    rgb = np.asarray(cover_crop(img, Image.BILINEAR, (side, side * 3 // 4)))
                    agree.add(classify(rgb, lab.shape).numpy(), lab)
                key = f"encoder_{enc_name}_{'linear' if h == 0 else f'mlp{h}'}" + ("" if side == 256 else f"@{side}")
                out[f"{key}_voc14_miou"] = conf.miou()
                out[f"{key}_voc14_objects_miou"] = conf.miou(VOC_OBJECTS)
                out[f"{key}_unseen_teacher513_miou"] = agree.miou()
                print(key, round(conf.miou(), 3), round(agree.miou(), 3), f"({len(y)} cells)", flush=True)
    return out


def camvid(student, shared, long_side=256, every=4):
    conf = Confusion(11)
    root = Path(shared) / "data/camvid"
    for name in sorted(os.listdir(root / "test"))[::every]:
        img = Image.open(root / "test" / name).convert("RGB")
        lab = np.asarray(Image.open(root / "testannot" / f"{Path(name).stem}.png")).astype(np.uint8).copy()
        lab[lab >= 11] = IGNORE
        pred = predict(student, img, CAMVID_CLASSES, range(11), long_side)
        conf.add(np.where(pred == NOTHING, 11, pred), lab)
    return {f"camvid_every4th_miou@{long_side}": conf.miou()}


def ccp_probe(student, shared, long_side=256):
    """CCP held out: pooled IoU of "person" (the only name; every non-null pixel) and the clothing confusion with
    every CCP_CLASSES name in one prompt (pixels CCP's merge leaves unanswered are not scored)."""
    from . import ccp
    lut = ccp.merge_lut(ccp.ccp_names(shared))
    n = len(ccp.CCP_CLASSES)
    inter = union = 0
    per_photo, clothing = [], Confusion(n)
    ids = ccp.photo_ids(shared, "held_out")
    for photo_id in ids:
        img, lab = ccp.read(shared, photo_id)
        person = lab != 0
        pred = student.logits(img, ["person"], long_side).argmax(0).numpy() == 1
        i, u = int((pred & person).sum()), int((pred | person).sum())
        inter, union = inter + i, union + u
        per_photo.append(i / max(u, 1))
        best = student.logits(img, ccp.CCP_CLASSES, long_side).argmax(0).numpy()
        clothing.add(np.where(best == 0, IGNORE, best - 1), lut[lab])  # logit 0: no name -> no answer
    ious = clothing.ious()
    return {"photos": len(ids), "person_iou": inter / max(union, 1), "person_iou_mean_per_photo": float(np.mean(per_photo)),
            "clothing_miou": clothing.miou(), "clothing_miou_without_background": clothing.miou(range(1, n)),
            "clothing_per_class_iou": {c: None if np.isnan(v) else round(float(v), 3)
                                       for c, v in zip(ccp.CCP_CLASSES, ious)}}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", help="a shipped weights folder (int8)")
    ap.add_argument("--checkpoint", help="a float checkpoint: model-only .pt or a run's checkpoint.pt")
    ap.add_argument("--data", default="../target/peel-data", help="with --checkpoint: its phrases.pkl")
    ap.add_argument("--shared", default="../../shared")
    ap.add_argument("--sizes", type=int, nargs="+", default=None,
                    help="input long sides (default: the segmentation network's, as the app paints; 256 for a checkpoint)")
    ap.add_argument("--parts", nargs="+", default=["voc", "fit", "camvid"], choices=["voc", "fit", "camvid", "ccp", "teachers", "encoder", "gates"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if bool(args.weights) == bool(args.checkpoint):
        ap.error("give exactly one of --weights and --checkpoint")
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    student = Student(*(load_shipped(args.weights) if args.weights else load_checkpoint(args.checkpoint, args.data)))
    if "gates" in args.parts and student.model.presence is None:
        ap.error("--parts gates needs a model with a presence head")
    report = {"model": args.weights or args.checkpoint}
    args.sizes = args.sizes or [getattr(student.model, "input_sides", {}).get(TASK_SEMANTIC, 256)]
    t = time.time()
    if "voc" in args.parts:
        for side in args.sizes:
            report[f"voc@{side}"] = voc(student, args.shared, side)
            print(f"voc@{side}", json.dumps({k: v for k, v in report[f"voc@{side}"].items() if "per_class" not in k}),
                  f"({time.time() - t:.0f}s)", flush=True)
    if {"fit", "gates"} & set(args.parts):
        # The teacher labels each photo once for both parts.
        voc_teacher = {"voc": teachers.Teacher(args.shared, "deeplabv3_257_mv_gpu.tflite", 257)}
        train_files, val_files = teacher_photos(args.shared)
        labelled = {"unseen": list(teacher_labelled(voc_teacher, val_files)),
                    "trained": list(teacher_labelled(voc_teacher, train_files))}
    if "fit" in args.parts:
        for side in args.sizes:
            at = "" if side == 256 else f"@{side}"
            for kind in ("trained", "unseen"):
                report[f"teacher_agreement_{kind}_photos{at}"] = teacher_agreement(student, labelled[kind], side)
            print(f"fit{at}", json.dumps(report[f"teacher_agreement_trained_photos{at}"]),
                  json.dumps(report[f"teacher_agreement_unseen_photos{at}"]), f"({time.time() - t:.0f}s)", flush=True)
    if "gates" in args.parts:
        report["presence_gates"] = gates(student, args.shared, labelled)
        print("gates", json.dumps(report["presence_gates"]), f"({time.time() - t:.0f}s)", flush=True)
    if "camvid" in args.parts:
        for side in args.sizes:
            report.update(camvid(student, args.shared, side))
            print(f"camvid@{side}", report[f"camvid_every4th_miou@{side}"], f"({time.time() - t:.0f}s)", flush=True)
    if "ccp" in args.parts:
        for side in args.sizes:
            report[f"ccp_held_out@{side}"] = ccp_probe(student, args.shared, side)
            print(f"ccp_held_out@{side}", json.dumps({k: v for k, v in report[f"ccp_held_out@{side}"].items()
                                                      if "per_class" not in k}), f"({time.time() - t:.0f}s)", flush=True)
    if "encoder" in args.parts:
        imagenet, voc_trunk = PeelGenerator(encoder="efficientnet-lite0"), PeelGenerator(encoder="mobilenetv2")
        for pretrained in (imagenet, voc_trunk):
            load_pretrained(pretrained, args.shared)
        report.update(encoder_probe({"student": student.model.encoder, "imagenet": imagenet.encoder.eval(),
                                     "voc_teacher_trunk": voc_trunk.encoder.eval()}, args.shared, args.data, args.sizes))
    if "teachers" in args.parts:
        report.update(teachers_on_voc(args.shared))
        print(json.dumps({k: v for k, v in report.items() if k.endswith("_voc14_miou")}), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
