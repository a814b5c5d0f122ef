"""The training mixture: draws (image, task, phrases, slots, target) examples from the cached sources and
collates them into batches of tensors (phrases embedded by `Embedder`)."""

import io
import random
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter

from . import ccp
from .data import IGNORE, MIN_PIXELS, extent
from .sizes import model_size
from .generator import (MAX_INSTANCES, PHRASE_DIM, TASK_DEPTH, TASK_INSTANCE, TASK_NORMALS, TASK_REFERRING,
                        TASK_SEMANTIC)
from .vocab import CAMVID_CLASSES, SYNONYMS, VOC_CLASSES, embed, lookups, normalize

TASK_WEIGHTS = {TASK_DEPTH: 0.25, TASK_NORMALS: 0.15, TASK_SEMANTIC: 0.30, TASK_INSTANCE: 0.15,
                TASK_REFERRING: 0.15}
# Semantic prompts: how often each source is drawn (sources not named share "other").
SEMANTIC_MIX = {"synth": 0.2, "camvid": 0.2, "coco": 0.1, "ccp": 0.05, "other": 0.5}
# Referring examples drawn from CCP's attribute phrases (ccp.referring_example), when ccp.pkl is in the data.
REFERRING_CCP_SHARE = 0.1
# Depth examples drawn from real photos (middlebury.pkl, camvid_depth.pkl, ...: every source with a
# "walk"), instead of synthetic scenes, split between those sources by REAL_DEPTH_WEIGHTS (default 1).
REAL_DEPTH_SHARE = 0.3
# Middlebury has 9 training scenes, and by step 43,000 the model paints them at δ1 0.98 while the
# held-out scenes stay at 0.41 (memorized, not learned): draw them a third as often as the others.
REAL_DEPTH_WEIGHTS = {"middlebury": 1 / 3}
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
# `--copy-paste P`: this share of instance and referring examples on real photos gets 1-3 things pasted in, cut
# out of photos whose masks and names are real (COCO128 train's annotations, the pets' trimaps), at 0.5-1.2x
# their size (at most COPY_PASTE_AREA of the photo's box) and anywhere they fit (Ghiasi et al. 2021, "Simple
# Copy-Paste"). 100 COCO photos hold 638 things, so most (photo, thing) pairs the student sees are new; the
# pasted things become instances and referents. Measured at 1,200 steps it lost (docs/MODEL.md, "Redesign 4").
COPY_PASTE_DONORS = ("coco", "pets")
COPY_PASTE_SCALE = (0.5, 1.2)
COPY_PASTE_AREA = 0.3  # a pet's trimap fills its photo: pasted whole, it would cover the photo it lands on
# `--zoom P`: that share of depth and normals examples is cropped to 1/z of each side, z up to ZOOM_MAX, and
# enlarged back (mixture.zoomed). Measured over 6,000 steps of the geometry network it lost on every δ1
# (docs/MODEL.md, "Both networks trained further"), so it is off unless asked for.
ZOOM_MAX = 1.5
# `--presence-probes N`: each semantic example also carries up to N probe names from its label set that the
# prompt does not name, each labelled present (>= MIN_PIXELS pixels) or absent (none), for the presence head
# alone: it learns from many absent names while the prompts stay as `prompts` draws them.


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

    def __init__(self, sources, task_weights=None, prompts="mixed", probes=0, copy_paste=0.0, zoom=0.0):
        if prompts not in SEMANTIC_PROMPTS:
            raise ValueError(f"semantic prompts must be one of {SEMANTIC_PROMPTS}, not {prompts!r}")
        self.task_weights = dict(task_weights or TASK_WEIGHTS)
        self.prompts = prompts
        self.probes = probes
        self.copy_paste = copy_paste
        self.zoom = zoom
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
        self.donors = [(s, i) for n in COPY_PASTE_DONORS for s in self.src.get(n, [])
                       for i in s.get("instances", []) if i.get("thing") and i["pixels"] >= 4 * MIN_PIXELS]
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
        if "ccp" in self.src:
            out.update(ccp.OUTLINE_CLASSES)
            expr_words |= ccp.expression_words(list(ccp.MERGE))
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
                name = rng.choices(names, weights=weights)[0]
                s = self.pick(name)
                if name == "ccp" and rng.random() < ccp.OUTLINE_SHARE:
                    s = ccp.outline(s)  # "person" over the whole outline
                ex = self.semantic(s)
            elif task == TASK_INSTANCE:
                names = list(self.with_things)
                weights = [0.5 if n == "synth" else 0.5 / max(1, len(names) - 1) for n in names]
                name = rng.choices(names, weights=weights)[0]
                ex = self.instance(self.pasted(name, self.pick(name, self.with_things[name])))
            else:
                real = [n for n in self.with_things if n != "synth"]
                if "ccp" in self.src and rng.random() < REFERRING_CCP_SHARE:
                    name, s = "ccp", self.pick("ccp")
                    ex = ccp.referring_example(s, rng)
                elif rng.random() < 0.5 or not real:
                    name, s = "synth", self.pick("synth", self.with_expr)
                    ex = self.referring_synth(s)
                else:
                    name = rng.choice(real)
                    s = self.pasted(name, self.pick(name, self.with_things[name]))
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
        ex = {"rgb": s["rgb"], "target": lut[label], "phrases": [wording(classes[c], rng) for c in chosen],
              "slots": [0] * len(chosen), "flip_ok": True}
        if self.probes:
            # Unnamed classes that are clearly present or clearly absent (a few pixels is neither).
            unnamed = [c for c in range(len(classes)) if c not in chosen and (counts[c] == 0 or counts[c] >= MIN_PIXELS)
                       and classes[c] not in ("none", "background", "unlabeled")]
            picked = rng.sample(unnamed, min(len(unnamed), self.probes))
            ex["probes"] = [(wording(classes[c], rng), float(counts[c] > 0)) for c in picked]
        return ex

    def pasted(self, name, s):
        """s, or (a `copy_paste` share of the time, on real photos) s with 1-3 donor things pasted in."""
        rng = self.rng
        # No draw at all without --copy-paste, so that runs without it take the examples they always took.
        if not self.copy_paste or name == "synth" or not self.donors or rng.random() >= self.copy_paste:
            return s
        for _ in range(rng.randint(1, 3)):
            donor, thing = self.donors[rng.randrange(len(self.donors))]
            s = paste(s, donor, thing, rng)
        return s

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
        """Photometric changes a camera makes (so synthetic depth transfers to photos), flips and, for
        this share (`zoom`) of depth and normals examples, a longer lens: the photo cropped about a
        random point and enlarged back. Depth and camera-frame normals stay as they are: meant to teach
        that a thing's size in the picture does not give its distance without the lens (measured, it
        cost every δ1 instead; see ZOOM_MAX)."""
        rng = self.rng
        if self.zoom and ("walk" in ex or "normal" in ex) and rng.random() < self.zoom:
            ex = zoomed(ex, rng.uniform(1.0, ZOOM_MAX), rng.random(), rng.random())
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


def zoomed(ex, z, fx, fy):
    """`ex` seen through a lens z times longer: the crop of 1/z of each side whose corner is at
    (fx, fy) of the free range, enlarged back to the full size (the photo bilinear; depth and normals
    nearest, so no value is invented between a near and a far surface)."""
    h, w = ex["rgb"].shape[:2]
    ch, cw = max(2, round(h / z)), max(2, round(w / z))
    y0, x0 = round(fy * (h - ch)), round(fx * (w - cw))
    out = dict(ex)
    out["rgb"] = np.asarray(Image.fromarray(np.ascontiguousarray(ex["rgb"][y0:y0 + ch, x0:x0 + cw])).resize((w, h), Image.BILINEAR))
    rows = np.minimum(y0 + (np.arange(h) * ch) // h, y0 + ch - 1)
    cols = np.minimum(x0 + (np.arange(w) * cw) // w, x0 + cw - 1)
    for k in ("walk", "normal"):
        if k in ex:
            out[k] = ex[k][rows[:, None], cols[None, :]]
    return out


def paste(s, donor, thing, rng):
    """A copy of sample s with donor's instance `thing` pasted over it at a random scale and place: a new
    instance (and, where s has a semantic map, labelled pixels there), the things it covers cut down to what
    still shows (and dropped when nothing does)."""
    x0, y0, x1, y1 = thing["bbox"]
    h, w = s["rgb"].shape[:2]
    fit = min(1.0, (COPY_PASTE_AREA * h * w / ((x1 - x0) * (y1 - y0))) ** 0.5)
    scale = min(rng.uniform(*COPY_PASTE_SCALE) * fit, w / (x1 - x0), h / (y1 - y0))
    cw, ch = max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale))
    rgb = Image.fromarray(np.ascontiguousarray(donor["rgb"][y0:y1, x0:x1])).resize((cw, ch), Image.BILINEAR)
    cut = Image.fromarray((donor["instance"][y0:y1, x0:x1] == thing["id"]).astype(np.uint8)).resize((cw, ch), Image.NEAREST)
    cut = np.asarray(cut).astype(bool)
    if cut.sum() < MIN_PIXELS:
        return s
    px, py = rng.randint(0, w - cw), rng.randint(0, h - ch)
    where = np.zeros((h, w), bool)
    where[py:py + ch, px:px + cw] = cut
    out = dict(s)
    out["rgb"] = s["rgb"].copy()
    out["rgb"][py:py + ch, px:px + cw][cut] = np.asarray(rgb)[cut]
    instance = s["instance"].copy()
    new_id = int(instance.max()) + 1
    instance[where] = new_id
    out["instance"] = instance
    if "semantic" in s:
        # Any labelled value: instance() ignores only unlabelled pixels; the pasted thing is labelled.
        out["semantic"] = np.where(where, 0, s["semantic"]).astype(s["semantic"].dtype)
    kept = []
    for i in s.get("instances", []):
        pixels, bbox = extent(instance == i["id"])
        if pixels:
            kept.append({**i, "pixels": pixels, "bbox": bbox})
    pixels, bbox = extent(where)
    kept.append({"id": new_id, "class": thing["class"], "thing": True, "pixels": pixels, "bbox": bbox})
    out["instances"] = kept
    return out


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


def enlarged(a, size, resample):
    """An HxW(xC) array resized to `size` (w, h): a uint8 photo by `resample`, a target (Image.NEAREST) sampled
    at the nearest cell, whatever its dtype."""
    if resample == Image.NEAREST:
        h, w = a.shape[:2]
        rows = ((np.arange(size[1]) + 0.5) * h / size[1]).astype(int)
        cols = ((np.arange(size[0]) + 0.5) * w / size[0]).astype(int)
        return a[rows][:, cols]
    return np.asarray(Image.fromarray(a).resize(size, resample))


def collate(examples, embedder, rng, scale=1, side=None):
    """Examples -> a dict of tensors. `scale` > 1 trains at 1/scale of the cached resolution; `side`, at full
    resolution, enlarges the cached crops to the app's input size for that long side (`sizes.model_size`; an
    input-size ablation: no new detail, larger objects against the network's strides).

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
    cached_h, cached_w = examples[0]["rgb"].shape[:2]
    size = model_size(cached_w, cached_h, side) if scale == 1 and side and side != cached_w else None
    image = np.stack([downscale(e["rgb"], scale).round().astype(np.uint8) if scale > 1 else
                      enlarged(e["rgb"], size, Image.BILINEAR) if size else e["rgb"] for e in examples])
    stride = 2 * scale
    h, w = image.shape[1] // 2, image.shape[2] // 2

    def at_output(a):
        return enlarged(a, (w, h), Image.NEAREST) if size else a[::stride, ::stride][:h, :w]
    walk = np.full((b, h, w), np.nan, np.float32)
    normal = np.zeros((b, 3, h, w), np.float32)
    seg = np.full((b, h, w), IGNORE, np.int64)
    for i, e in enumerate(examples):
        if "walk" in e:
            walk[i] = at_output(e["walk"])
        elif "normal" in e:
            normal[i] = np.moveaxis(at_output(e["normal"]), -1, 0)
        else:
            seg[i] = at_output(e["target"])
    return {
        "image": torch.from_numpy(image).permute(0, 3, 1, 2),  # uint8; train_step normalizes
        "task": torch.tensor([e["task"] for e in examples]),
        "phrases": torch.from_numpy(phrases), "slots": torch.from_numpy(slots), "mask": torch.from_numpy(mask),
        "walk": torch.from_numpy(walk), "normal": torch.from_numpy(normal), "seg": torch.from_numpy(seg),
        "matched": torch.tensor([bool(e.get("matched")) for e in examples]),
        **probe_tensors(examples, embedder, rng),
    }


def probe_tensors(examples, embedder, rng):
    """The examples' presence probe names (Mixture probes): phrases [B,P,384], labels [B,P] (1 = present), mask
    [B,P]; P >= 1 (all masked when no example has one)."""
    p = max([1] + [len(e.get("probes", [])) for e in examples])
    phrases = np.zeros((len(examples), p, PHRASE_DIM), np.float32)
    labels = np.zeros((len(examples), p), np.float32)
    mask = np.zeros((len(examples), p), bool)
    for i, e in enumerate(examples):
        for k, (name, present) in enumerate(e.get("probes", [])):
            phrases[i, k], labels[i, k], mask[i, k] = embedder(name, rng), present, True
    return {"probe_phrases": torch.from_numpy(phrases), "probe_labels": torch.from_numpy(labels),
            "probe_mask": torch.from_numpy(mask)}

