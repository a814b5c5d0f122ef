"""Training smoke test: a few steps on a few synthetic scenes, resume, export, reload.

    python -m peel_train.smoke --peel target/release/peel --weights weights

Exits non-zero on any failure. It also checks the Python depth painter against `peel encode`.
Needs no ../shared data: training builds its phrase table with MiniLM (a few seconds), and the
export ships only that table's words (`--table-words-only`, not MiniLM's 20k).
"""

import argparse
import json
import math
import os
import pickle
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .data import depth_to_walk, load_synth
from .evaluate import load_shipped
from .generator import paint_depth

REPO = Path(__file__).resolve().parents[2]


def run(cmd, **kw):
    print("+", " ".join(map(str, cmd)), flush=True)
    out = subprocess.run(list(map(str, cmd)), capture_output=True, text=True, **kw)
    if out.returncode != 0:
        sys.exit(f"failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
    return out.stdout


def check(condition, message):
    if not condition:
        sys.exit(f"smoke test failed: {message}")
    print("ok:", message, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peel", required=True)
    ap.add_argument("--weights", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="peel-smoke-") as tmp:
        smoke(args, Path(tmp))
    print("smoke test passed")


def smoke(args, tmp):
    synth, data, run_dir, out = tmp / "synth", tmp / "data", tmp / "run", tmp / "weights"

    # --- One preprocessing: Python's model-input size is the app's (peel_train/sizes.py wrote the
    # fixture; crates/peel-model/tests/model_sizes.rs holds Rust to it, this holds Python). ---
    from .sizes import check_fixture
    check(*check_fixture())
    # ---
    data.mkdir()

    run([args.peel, "synth", "--count", "4", "--seed", "3", "--size", "128x96", "--out", synth, "--no-photos"])

    # The Python depth painter (training targets, evaluation) against the protocol crate.
    worst, mismatched, total = 0, 0, 0
    for sample in sorted(synth.iterdir()):
        run([args.peel, "encode", "depth", sample / "depth.npy", sample / "target.png"])
        ref = np.asarray(Image.open(sample / "target.png").convert("RGB")).astype(int)
        walk = torch.from_numpy(depth_to_walk(np.load(sample / "depth.npy")))[None, None]
        ours = np.floor(paint_depth(walk)[0].permute(1, 2, 0).numpy() * np.float32(255) + np.float32(0.5))
        diff = np.abs(ours.astype(int) - ref)
        worst, mismatched, total = max(worst, diff.max()), mismatched + (diff.max(-1) > 0).sum(), total + diff.shape[0] * diff.shape[1]
    scenes = sum(1 for d in synth.iterdir() if (d / "meta.json").exists())
    check(scenes == 4 and total > 0, f"peel synth wrote the 4 scenes asked for ({scenes}, {total} depth pixels)")
    check(worst <= 1 and mismatched <= total * 1e-3,
          f"depth painter matches `peel encode depth` ({mismatched} of {total} pixels differ, by at most {worst})")

    check_street_depth()
    check_plural_lookup()
    check_architecture_constants()
    check_conditioning_constants()
    check_colour_names()
    check_ccp(synth, tmp)

    _, _, shipped_words = load_shipped(args.weights)
    check(len(shipped_words) >= 20_000, f"the shipped phrase table loads ({len(shipped_words)} words)")

    with open(data / "synth.pkl", "wb") as f:
        pickle.dump(load_synth([synth]), f)

    check_training(data, tmp, run_dir)

    run([sys.executable, "-m", "peel_train.export", "--run", run_dir, "--data", data, "--weights", out,
         "--fixtures", tmp / "fixtures", "--table-words-only"])
    model, phrases, words = load_shipped(out)
    size = (out / "peel-gen.safetensors").stat().st_size
    check(size < 10_000_000, f"int8 weights file is {size / 1e6:.2f} MB (limit 10 MB)")
    cases = json.loads((tmp / "fixtures" / "gen_parity.json").read_text())["cases"]
    for case in cases:
        deq = np.load(tmp / "fixtures" / case["dequant"])
        flt = np.load(tmp / "fixtures" / case["float"])
        check(np.isfinite(deq).all() and 0 <= deq.min() and deq.max() <= 1,
              f"{case['name']}: exported painting is finite and in [0, 1]")
        check(np.abs(deq - flt).mean() < 0.03, f"{case['name']}: int8 vs float mean abs diff {np.abs(deq - flt).mean():.4f}")

    # The Rust app loads the export, presence head included (the smoke trains with --presence-head), and paints.
    manifest = json.loads((out / "manifest.json").read_text())
    scene = sorted(p for p in synth.iterdir() if (p / "meta.json").exists())[0]
    painted = tmp / "presence-painting.png"
    run([args.peel, "run", "--weights", out, "--prompt", 'Generate a semantic segmentation visualization image, using this color mapping: '
         '{"chair": "red", "sofa": "blue"}', "--out", painted,
         scene / "rgb.png"])
    check(manifest["architecture"].get("presence") is True and Image.open(painted).size[0] > 0,
          "`peel run` loads an export with a presence head (manifest architecture.presence) and paints with it")

    # pair.py: the export as both networks of a pair. The segmentation tasks go to the task
    # network (evaluate.TaskRouted, and the app's Generator); the same bytes paint the same picture.
    pair = tmp / "pair"
    run([sys.executable, "-m", "peel_train.pair", "--geometry", out, "--scene", out, "--geometry-fixtures",
         tmp / "fixtures", "--scene-fixtures", tmp / "fixtures", "--weights", pair / "weights",
         "--fixtures", pair / "fixtures", "--name", "smoke-pair"])
    pair_manifest = json.loads((pair / "weights" / "manifest.json").read_text())
    routed = load_shipped(pair / "weights")[0]
    check([n["tasks"] for n in pair_manifest["task_networks"]] == [["semantic", "instance", "referring"]]
          and sorted(routed.by_task) == [2, 3, 4] and "log" not in pair_manifest["training"]["scene network"],
          "pair.py: the scene network paints the segmentation tasks, and the manifest carries no loss log")
    paired = tmp / "pair-painting.png"
    run([args.peel, "run", "--weights", pair / "weights", "--prompt", 'Generate a semantic segmentation visualization image, '
         'using this color mapping: {"chair": "red", "sofa": "blue"}', "--out", paired, scene / "rgb.png"])
    check(np.array_equal(np.asarray(Image.open(paired)), np.asarray(Image.open(painted))),
          "`peel run` paints with a pair's task network as with the same network alone")


def check_plural_lookup():
    """vocab.singular (training phrases) finds the row the app's PhraseTable::word_row finds: the
    same endings in the same order, read from the Rust source so the two cannot drift apart."""
    import re
    from .vocab import PLURAL_ENDINGS, singular
    source = (REPO / "crates/peel-model/src/phrases.rs").read_text()
    rust = re.search(r"pub const PLURAL_ENDINGS: \[\(&str, &str\); \d+\] = \[(.*?)\];", source)
    rust = tuple(re.findall(r'\("(\w*)", "(\w*)"\)', rust.group(1))) if rust else None
    check(rust == PLURAL_ENDINGS, f"vocab.PLURAL_ENDINGS {PLURAL_ENDINGS} is the Rust table's {rust}")
    words = {"cup", "box", "berry", "bus", "glass", "series"}
    cases = {"cups": "cup", "boxes": "box", "berries": "berry", "buses": "bus", "glass": "glass",
             "series": "series", "s": None, "es": None, "kayaks": None, "cupz": None}
    got = {w: singular(w, words) for w in cases}
    check(got == cases, f"plurals take the known singular and nothing else: {got}")


def check_architecture_constants():
    """generator.py and the Rust crates hold the same tasks (the protocol's `Task::ALL`, whose order
    architecture.rs takes for the task rows), encoder blocks, feature taps and input normalization, read
    from the Rust source so the two cannot drift apart."""
    import re
    from .generator import ENCODERS, NORMALIZATION, TASKS
    model = (REPO / "crates/peel-model/src/architecture.rs").read_text()
    preprocess = (REPO / "crates/peel-model/src/preprocess.rs").read_text()
    prompt = (REPO / "crates/peel-protocol/src/prompt.rs").read_text()
    order = re.search(r"pub const ALL: \[Task; \d+\] = \[(.*?)\];", prompt)
    names = re.search(r"pub const fn name\(self\) -> &'static str \{(.*?)\n    \}", prompt, re.S)
    names = dict(re.findall(r'Task::(\w+) => "(\w+)"', names.group(1))) if names else {}
    tasks = [names.get(v) for v in re.findall(r"Task::(\w+)", order.group(1))] if order else None
    check(tasks == TASKS and "TASKS: [&str; Task::ALL.len()]" in model,
          f"generator.TASKS {TASKS} is the protocol's Task::ALL {tasks}, architecture.rs's task rows")
    norm = re.search(r'pub const NORMALIZATION: &str = "(.*?)";', preprocess)
    check(norm is not None and norm.group(1) == NORMALIZATION,
          f"generator.NORMALIZATION {NORMALIZATION!r} is preprocess.rs's {norm and norm.group(1)!r}")
    for name, table, variant in (("efficientnet-lite0", "LITE0_BLOCKS", "EfficientNetLite0"),
                                 ("mobilenetv2", "MOBILENETV2_BLOCKS", "MobileNetV2")):
        body = re.search(rf"pub const {table}: \[BlockSpec; \d+\] = \[(.*?)\];", model, re.S)
        rust = [tuple(map(int, t)) for t in re.findall(r"\((\d+), (\d+), (\d+), (\d+), (\d+)\)", body.group(1))] if body else None
        taps = re.search(rf"EncoderKind::{variant} => \[([\d, ]+)\]", model)
        taps = [int(i) for i in taps.group(1).split(",")] if taps else None
        blocks, features = ENCODERS[name]
        check(rust == [tuple(b) for b in blocks] and taps == features,
              f"{name}: generator.py's {len(blocks)} blocks and taps {features} are Rust's "
              f"{len(rust or [])} blocks and taps {taps}")


def check_conditioning_constants():
    """conditioning.py picks a semantic prompt's unlisted colour and the instance colours by conditioning.rs's
    rules: the same candidates in the same order and the same margins, read from the Rust source."""
    import re
    from .conditioning import INSTANCE_MARGIN, UNLISTED_CANDIDATES, UNLISTED_MARGIN
    source = (REPO / "crates/peel-model/src/conditioning.rs").read_text()
    backgrounds = re.search(r"pub const SEMANTIC_BACKGROUNDS: \[Rgb8; \d+\] = \[(.*)\];", source)
    rust = [tuple(map(int, c)) for c in re.findall(r"\[(\d+), (\d+), (\d+)\]", backgrounds.group(1))] if backgrounds else None
    check(rust == [tuple(c) for c in UNLISTED_CANDIDATES],
          f"conditioning.UNLISTED_CANDIDATES {UNLISTED_CANDIDATES} are conditioning.rs's SEMANTIC_BACKGROUNDS {rust}")
    margins = {name: re.search(rf"pub const {name}: u32 = (\d+);", source) for name in
               ("SEMANTIC_BACKGROUND_MARGIN", "INSTANCE_BACKGROUND_MARGIN")}
    margins = {name: m and int(m.group(1)) for name, m in margins.items()}
    check(margins == {"SEMANTIC_BACKGROUND_MARGIN": UNLISTED_MARGIN, "INSTANCE_BACKGROUND_MARGIN": INSTANCE_MARGIN},
          f"conditioning.py's margins (unlisted {UNLISTED_MARGIN}, instance {INSTANCE_MARGIN}) are Rust's {margins}")


def check_colour_names():
    """The CSS names evaluate.py and report.py write in prompts paint with the RGB the protocol decodes them
    as (crates/peel-protocol/src/color.rs CSS_COLORS), read from the Rust source."""
    import re
    from .evaluate import COLOURS
    from .report import GRID_COLOURS
    source = (REPO / "crates/peel-protocol/src/color.rs").read_text()
    table = re.search(r"pub const CSS_COLORS: \[\(&str, Rgb8\); \d+\] = \[(.*?)\];", source, re.S)
    rust = {n: tuple(map(int, c)) for n, *c in re.findall(r'\("(\w+)", \[(\d+), (\d+), (\d+)\]\)', table.group(1))} if table else {}
    wrong = {n: (c, rust.get(n)) for n, c in COLOURS.items() if rust.get(n) != tuple(c)}
    check(len(rust) == 148 and not wrong,
          f"evaluate.COLOURS' {len(COLOURS)} names are the RGB of color.rs's {len(rust)} CSS names (differ: {wrong})")
    check(set(GRID_COLOURS) <= set(COLOURS), f"report.GRID_COLOURS are evaluate.COLOURS names ({GRID_COLOURS})")


def check_ccp(synth, tmp):
    """The CCP loader (ccp.py) on 6 photos of ../shared/data/ccp (or, without it, 3 made-up ones): samples come out,
    every label is in range, the held-out photos stay out, colour words are only given to one clear colour, and
    the mixture draws CCP's clothing, outline and attribute-phrase examples with targets in range."""
    from . import ccp
    from .data import IGNORE
    from .generator import TASK_REFERRING, TASK_SEMANTIC
    from .mixture import Mixture
    shared = REPO.parent / "shared"
    if not (shared / "data/ccp/labels.json").exists():
        shared = tmp / "ccp-shared"
        root = shared / "data/ccp"
        (root / "photos").mkdir(parents=True)
        (root / "labels").mkdir()
        names = list(ccp.MERGE)
        (root / "labels.json").write_text(json.dumps({"labels": names}))
        for k in range(1, 4):
            lab = np.zeros((320, 213), np.uint8)
            lab[40:300, 60:150] = names.index("skin")
            lab[100:200, 60:150] = names.index("t-shirt")
            lab[200:290, 60:150] = names.index("jeans")
            rgb = np.full((320, 213, 3), 90, np.uint8)
            rgb[lab == names.index("t-shirt")] = (240, 240, 240)
            Image.fromarray(lab).save(root / f"labels/{k:04d}.png")
            Image.fromarray(rgb).save(root / f"photos/{k:04d}.jpg")
        (root / "labels/0010.png").write_bytes((root / "labels/0001.png").read_bytes())  # held out
        (root / "photos/0010.jpg").write_bytes((root / "photos/0001.jpg").read_bytes())
    names = ccp.ccp_names(shared)
    samples = ccp.load_ccp(shared, "train", limit=6)
    n = len(ccp.CCP_CLASSES)
    bad = [s["ccp_id"] for s in samples
           if not set(np.unique(s["semantic"]).tolist()) <= set(range(n)) | {IGNORE}
           or not set(np.unique(s["parts"]).tolist()) <= set(range(len(names))) | {IGNORE}
           or s["rgb"].shape != (*s["semantic"].shape, 3) or s["classes"] != ccp.CCP_CLASSES]
    check(samples and not bad and all(not ccp.held_out(s["ccp_id"]) for s in samples),
          f"ccp loader: {len(samples)} training samples from {shared}, labels in range, none held out (bad: {bad})")
    held = ccp.photo_ids(shared, "held_out")
    check(held and all(i % ccp.HELD_OUT_EVERY == 0 for i in held) and not set(held) & set(ccp.photo_ids(shared, "train")),
          f"ccp holds out every {ccp.HELD_OUT_EVERY}th photo ({len(held)})")
    check(set(names) <= set(ccp.MERGE) and {v for v in ccp.MERGE.values() if v} <= set(ccp.CCP_CLASSES),
          f"every CCP name merges into CCP_CLASSES or into no answer ({len(names)} names -> {n} classes)")
    patch = lambda *colours: np.concatenate([np.tile(np.array(c, np.uint8), (400, 1)) for c in colours])
    got = [ccp.colour_name(patch(c)) for c in ((200, 30, 30), (250, 250, 245), (15, 15, 20), (30, 60, 200), (128, 128, 128))]
    mixed = ccp.colour_name(patch((200, 30, 30), (30, 60, 200)))
    check(got == ["red", "white", "black", "blue", None] and mixed is None,
          f"colour words: one clear colour named ({got}), half red half blue and gray not ({mixed})")
    mix = Mixture({"synth": load_synth([synth]), "ccp": samples}, {TASK_SEMANTIC: 1.0, TASK_REFERRING: 1.0})
    kinds, wrong = {"clothing": 0, "outline": 0, "referring": 0}, []
    for seed in range(400):
        mix.rng = random.Random(seed)
        ex = mix.example()
        if ex["rgb"].shape[:2] != samples[0]["rgb"].shape[:2]:
            continue  # a synthetic scene (smaller)
        values = set(np.unique(ex["target"]).tolist()) - {IGNORE}
        if ex["task"] == TASK_REFERRING:
            kinds["referring"] += 1
        else:
            kinds["outline" if "person" in ex["phrases"] or set(ex["phrases"]) <= {"background", "people", "human", "man", "woman", "pedestrian", "everything else", "the rest"} else "clothing"] += 1
        if not values <= set(range(len(ex["phrases"]) + 1)) or not ex["phrases"]:
            wrong.append((seed, ex["phrases"], sorted(values)))
    phrases, words = mix.all_phrases()
    check(all(kinds.values()) and not wrong and set(ccp.CCP_CLASSES) <= phrases and {"wearing", "jeans"} <= words,
          f"the mixture draws CCP examples {kinds} with targets in range; its phrases and words hold CCP's" +
          (f" (wrong: {wrong[:3]})" if wrong else ""))


def check_street_depth():
    """streetdepth.py's geometry on a hand-made label map: road rows at z = f·h/(v − v_h), a car
    standing on the road at the road's depth where it stands, sky infinite, the rest unknown."""
    from .data import IGNORE
    from .streetdepth import CAMERA_HEIGHT_M, HFOV_DEG, HORIZON_ROW, MIN_ROWS, street_depth
    label = np.full((192, 256), 2, np.uint8)  # road
    label[:80] = 0  # sky
    label[120:150, 100:140] = 1  # a car; the road below it starts at row 150
    label[100:110, :10] = IGNORE
    depth = street_depth(label, ["sky", "car", "road", "pavement"])
    f = 128 / np.tan(np.radians(HFOV_DEG) / 2)
    road = lambda row: f * CAMERA_HEIGHT_M / (row + 0.5 - HORIZON_ROW)
    check(abs(depth[170, 50] - road(170)) < 1e-3 * road(170), f"road depth {depth[170, 50]:.2f} m is the plane's {road(170):.2f} m")
    check(np.allclose(depth[120:150, 100:140], road(150), rtol=1e-3), "the car takes the road's depth where it stands")
    check(np.isinf(depth[:80]).all(), "sky is infinitely far")
    check(np.isnan(depth[80:int(HORIZON_ROW + MIN_ROWS - 0.5)]).all() and np.isnan(depth[100:110, :10]).all(),
          "road at the horizon and unlabelled pixels stay unknown")


def check_training(data, tmp, run_dir):
    """Resume is exact, the loss is the reference one, data-parallel and the GPU script run."""
    from .bench import losses_per_example
    from .export import mean_state
    from .pack import load_sources
    from .data import IGNORE
    from .losses import instance_weights, losses
    from .mixture import NO_TARGET_TEMPLATES, TASK_WEIGHTS, Embedder, Mixture, paste, zoomed
    from .sizes import model_size
    from .train import Batches, parse_args, phrase_table, resolution_scale, task_weights
    from .generator import TASK_DEPTH, TASK_SEMANTIC, TASKS, Outputs, PeelGenerator

    train = [sys.executable, "-m", "peel_train.train", "--data", data, "--batch", "2", "--total-steps", "6",
             "--checkpoint-every", "100", "--log-every", "1", "--device", "cpu", "--threads", "1", "--si-weight", "1",
             "--presence-head", "--presence-probes", "4"]
    run(train + ["--run-dir", tmp / "unbroken", "--workers", "0"])
    run(train + ["--run-dir", run_dir, "--steps", "2"])
    first = run(train + ["--run-dir", run_dir, "--steps", "4", "--workers", "0"])
    second = run(train + ["--run-dir", run_dir, "--model-out", tmp / "model.pt"])
    check("resumed at step 2" in first and "resumed at step 4" in second and "stopped at step 6" in second,
          "training stops and resumes twice")
    a = torch.load(tmp / "unbroken" / "checkpoint.pt", map_location="cpu", weights_only=False)
    b = torch.load(run_dir / "checkpoint.pt", map_location="cpu", weights_only=False)
    worst = max(float((a["model"][k] - b["model"][k]).abs().max()) for k in a["model"])
    check(worst == 0 and [e["semantic"] for e in a["log"] if "semantic" in e] == [e["semantic"] for e in b["log"] if "semantic" in e],
          f"a run resumed twice equals an unbroken one (weights differ by {worst}, same loss log)")
    check(b["step"] == 6 and all(torch.isfinite(v).all() for v in b["model"].values()), "6 steps give finite weights")
    presence_log = [e["presence"] for e in b["log"] if "presence" in e]
    check(any(k.startswith("presence.") for k in b["model"]) and presence_log and all(map(math.isfinite, presence_log)),
          f"--presence-head trains a presence head (its loss logged at {len(presence_log)} of 6 steps)")
    note = json.loads((tmp / "model.pt.json").read_text())
    check(a.get("examples_seen") == b.get("examples_seen") == note["examples_seen"] == 12,
          f"the example count survives two resumes ({b.get('examples_seen')} and {note['examples_seen']}, unbroken 12)")
    check(note["step"] == 6 and (tmp / "model.pt").stat().st_size < 16 * 2**20,
          f"model-only checkpoint written ({(tmp / 'model.pt').stat().st_size / 2**20:.1f} MiB) with its note")

    # The batched loss equals peel-gen-1's per-example loop on a real batch.
    args = parse_args(["--data", str(data), "--run", str(tmp / "x"), "--batch", "8", "--workers", "0"])
    mix = Mixture(load_sources(data))
    batch = Batches(mix, Embedder(phrase_table(mix, data, "")), args, 0, 0).next()
    model = PeelGenerator()
    with torch.no_grad():
        out = model(batch["image"].float() / 127.5 - 1, batch["task"], batch["phrases"], batch["slots"], batch["mask"])
    (lv, pv), (lr, pr) = losses(out, batch), losses_per_example(out, batch)
    check(abs(float(lv) - float(lr)) < 1e-4 and pv.keys() == pr.keys(),
          f"batched loss {float(lv):.5f} equals the per-example loop's {float(lr):.5f}")
    # --instance-balance: a 1-pixel instance beside a 64-pixel one weighs sqrt(64) = 8 times more per pixel at
    # β 0.5, the instances' total weight is kept, the background stays at 1 and unlabelled pixels at 0.
    seg = torch.zeros(10, 10, dtype=torch.long)
    seg[:8, :8], seg[9, 9], seg[0, 9] = 1, 2, IGNORE
    w = instance_weights(seg, 0.5)
    check(abs(float(w[9, 9] / w[0, 0]) - 8) < 1e-4 and abs(float(w[(seg == 1) | (seg == 2)].sum()) - 65) < 1e-3
          and float(w[8, 0]) == 1 and float(w[0, 9]) == 0, f"instance_weights balances instances ({w[9, 9]:.3f}, {w[0, 0]:.3f})")
    balanced = losses(out, batch, instance_balance=0.5)[1]
    check(all(math.isfinite(v) for v in balanced.values()) and balanced.keys() == pv.keys(),
          f"the loss with --instance-balance is finite ({balanced.get('instance')})")

    # The ablations' semantic prompts: "fixed" names the whole label set in its own order, every time; "absent"
    # sometimes names more absent classes in a partial prompt than "mixed" ever does (2).
    most_absent, fixed_prompts = {}, []
    for prompts in ("fixed", "mixed", "absent"):
        twin = Mixture(load_sources(data), prompts=prompts)
        scene = twin.src["synth"][0]
        named = [n for n in scene["classes"] if n not in ("none", "unlabeled")]
        counts = np.bincount(scene["semantic"].ravel(), minlength=256)
        most_absent[prompts] = 0
        for seed in range(80):
            twin.rng = random.Random(seed)
            ex = twin.semantic(scene)
            if ex is None:
                continue
            if prompts == "fixed":
                fixed_prompts.append(ex["phrases"])
            if set(ex["phrases"]) >= set(named):
                continue  # the whole label set: not a partial prompt
            absent = sum(1 for p in ex["phrases"] if p in scene["classes"] and counts[scene["classes"].index(p)] == 0)
            most_absent[prompts] = max(most_absent[prompts], absent)
    check(fixed_prompts and all(p == named for p in fixed_prompts),
          f"fixed prompts name the whole label set in its order ({len(fixed_prompts)} prompts of {len(named)} classes)")
    check(most_absent["mixed"] <= 2 < most_absent["absent"],
          f"partial prompts name up to {most_absent['absent']} absent classes with --semantic-prompts absent, "
          f"{most_absent['mixed']} with mixed")

    # Presence probes: unnamed classes of the scene's label set, labelled by whether the label shows them.
    from .vocab import SYNONYMS
    twin = Mixture(load_sources(data), probes=8)
    scene = twin.src["synth"][0]
    counts = np.bincount(scene["semantic"].ravel(), minlength=256)
    meaning = {w: c for c in scene["classes"] for w in [c, *SYNONYMS.get(c, [])]}  # a wording -> its class
    wrong, kinds, most = [], set(), 0
    for seed in range(40):
        twin.rng = random.Random(seed)
        ex = twin.semantic(scene)
        named = {meaning.get(p, p) for p in (ex or {}).get("phrases", [])}
        most = max(most, len((ex or {}).get("probes", [])))
        for name, present in (ex or {}).get("probes", []):
            c = meaning.get(name)
            kinds.add(present)
            if c is None or c in named or present != float(counts[scene["classes"].index(c)] > 0):
                wrong.append((name, present))
    check(kinds == {0.0, 1.0} and not wrong and 0 < most <= 8,
          f"presence probes are unnamed classes labelled present or absent by the label (wrong: {wrong[:3]})")

    # No-target referring: the added phrase names a thing the scene does not show and paints nothing; the other
    # phrases keep their pixels.
    bad, added = [], 0
    for seed in range(40):
        mix.rng = random.Random(seed)
        scene = mix.with_expr[seed % len(mix.with_expr)]
        ex = mix.referring_synth(scene)
        if ex is None:
            continue
        before = {t: ex["target"] == k + 1 for k, t in enumerate(ex["phrases"])}
        absent = mix.absent_things(scene, "synth")
        if {i["class"] for i in scene["instances"]} & set(absent):
            bad.append(f"seed {seed}: an absent thing is in the scene")
        ex = mix.no_target(ex, scene, "synth")
        new = [k for k, t in enumerate(ex["phrases"]) if t not in before]
        if len(new) != (1 if absent else 0):
            bad.append(f"seed {seed}: {len(new)} phrases added")
            continue
        if not new:
            continue
        painted = set(np.unique(ex["target"]).tolist()) - {0, IGNORE}
        if (ex["phrases"][new[0]] not in {t.format(c) for t in NO_TARGET_TEMPLATES for c in absent}
                or not painted <= {k + 1 for k in range(len(ex["phrases"])) if k != new[0]}
                or not all(np.array_equal(ex["target"] == k + 1, before[t])
                           for k, t in enumerate(ex["phrases"]) if t in before)):
            bad.append(f"seed {seed}: {ex['phrases']}, painted {sorted(painted)}")
        added += 1
    check(added > 0 and not bad, f"no-target referring: {added} of 40 draws name an absent thing that paints nothing, "
          "the other phrases keep their pixels" + (f": {bad[:3]}" if bad else ""))

    # Copy-paste: the pasted thing is a new instance of its class exactly where its pixels went, and the things
    # it covers keep only what still shows; the sample it was pasted into is left as it was.
    bad, pasted = [], 0
    for seed in range(20):
        rng = random.Random(seed)
        base, donor = rng.sample(mix.src["synth"], 2)
        thing = max((i for i in donor["instances"] if i.get("thing")), key=lambda i: i["pixels"], default=None)
        if thing is None:
            continue
        before = (base["rgb"].copy(), base["instance"].copy())
        out = paste(base, donor, thing, rng)
        if out is base:
            continue
        pasted += 1
        new = out["instances"][-1]
        where = out["instance"] == new["id"]
        changed = (out["rgb"] != base["rgb"]).any(-1)
        shown = [(i["pixels"], i["bbox"]) for i in out["instances"]]
        truth = []
        for i in out["instances"]:
            ys, xs = np.nonzero(out["instance"] == i["id"])
            truth.append((len(xs), [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1] if len(xs) else None))
        if (new["class"] != thing["class"] or new["id"] in {i["id"] for i in base["instances"]}
                or not (changed <= where).all() or shown != truth
                or not np.array_equal(before[0], base["rgb"]) or not np.array_equal(before[1], base["instance"])):
            bad.append(f"seed {seed}: {new}, {shown[:3]} against {truth[:3]}")
    check(pasted > 0 and not bad, f"copy-paste makes a consistent instance map in {pasted} of 20 pastes"
          + (f": {bad[:2]}" if bad else ""))
    # Without --copy-paste a run draws exactly what it drew before copy-paste existed.
    off = mix.fork()  # its own RNG
    off.donors = [(s, i) for s in mix.src["synth"] for i in s["instances"] if i.get("thing")]
    state = off.rng.getstate()
    kept = off.pasted("photos", mix.src["synth"][0])
    check(off.donors and kept is mix.src["synth"][0] and off.rng.getstate() == state,
          "without --copy-paste, a real photo's example is left as it is and draws no random number")
    # --zoom: a longer lens keeps every depth and normal value where it was (nearest), only magnified.
    scene = mix.src["synth"][0]
    h, w = scene["rgb"].shape[:2]
    ex = {"rgb": scene["rgb"], "walk": scene["walk"], "normal": scene["normal"]}
    same = zoomed(ex, 1.0, 0.3, 0.7)
    near = zoomed(ex, 1.5, 1.0, 0.0)  # the crop's corner at the right edge, the top
    ch, cw = round(h / 1.5), round(w / 1.5)
    check(all(np.array_equal(same[k], ex[k], equal_nan=True) for k in ("rgb", "walk", "normal"))
          and all(near[k].shape == ex[k].shape for k in ("rgb", "walk", "normal"))
          and np.array_equal(near["walk"][0, 0], ex["walk"][0, w - cw], equal_nan=True)
          and np.array_equal(near["normal"][-1, -1], ex["normal"][ch - 1, w - 1])
          and np.isin(near["walk"][~np.isnan(near["walk"])], ex["walk"]).all(),
          "--zoom crops about the chosen corner and enlarges back, depth and normals by nearest (z = 1 changes nothing)")
    # --input-side: full-resolution steps enlarged to the app's input for that side, targets by nearest.
    big_args = parse_args(["--data", str(data), "--run", str(tmp / "x"), "--batch", "8", "--workers", "0",
                           "--input-side", "320"])
    big = Batches(mix, Embedder(phrase_table(mix, data, "")), big_args, 0, 0).next()
    ch, cw = scene["rgb"].shape[:2]
    tw, th = model_size(cw, ch, 320)
    seg = big["seg"][big["seg"] != IGNORE]
    check(tuple(big["image"].shape[2:]) == (th, tw) and tuple(big["seg"].shape[1:]) == (th // 2, tw // 2)
          and tuple(big["walk"].shape[1:]) == (th // 2, tw // 2) and bool(((seg >= 0) & (seg < 64)).all()),
          f"--input-side 320 trains {cw}x{ch} crops at {tw}x{th}, targets at half that ({tuple(big['seg'].shape[1:])})")
    # --task-weight: one task's share changed, the others' kept; a task not trained or a bad weight refused.
    drawn = task_weights(["semantic", "instance", "referring"], [["referring", "0.3"]])
    check(drawn == {TASKS.index("semantic"): TASK_WEIGHTS[TASKS.index("semantic")],
                    TASKS.index("instance"): TASK_WEIGHTS[TASKS.index("instance")], TASKS.index("referring"): 0.3},
          f"--task-weight referring 0.3 changes only the referring share ({drawn})")
    for bad in (["depth", "1"], ["referring", "x"], ["referring", "0"], ["referring", "inf"]):
        try:
            task_weights(["semantic", "referring"], [bad])
            refusal = None
        except SystemExit as refused:
            refusal = str(refused)
        check(refusal is not None and refusal.startswith("--task-weight"),
              f"--task-weight {' '.join(bad)} is refused: {refusal}")
    for bad in ("-1", "nan", "x"):
        try:
            parse_args(["--data", str(data), "--run", str(tmp / "x"), "--instance-balance", bad])
            refused = False
        except SystemExit:
            refused = True
        check(refused, f"--instance-balance {bad} is refused")
    halves = [resolution_scale(s, 100, 0.5, full_res_every=4) for s in range(8)] + [resolution_scale(60, 100, 0.5, 4)]
    check(halves == [2, 2, 2, 1, 2, 2, 2, 1, 1], f"--full-res-every 4 puts every 4th half-resolution step at full ({halves})")

    # The scale-invariant depth term ignores a global scale and sees a change of shape.
    depth = torch.tensor(np.random.default_rng(0).uniform(0.5, 8.0, (2, 12, 16)))
    target = torch.from_numpy(depth_to_walk(depth.numpy()))
    target[0, :2] = 1.0  # sky rows: no log depth
    target[1, 0, :4] = float("nan")  # holes
    probe = {"task": torch.full((2,), TASK_DEPTH), "walk": target}
    def si(pred_depth):
        walk = torch.from_numpy(depth_to_walk(pred_depth.numpy()))[:, None]
        return losses(Outputs(walk, None, None, None), probe, si_weight=1.0)[1]["depth_si"]
    scaled, reshaped = si(depth * 1.7), si(depth * torch.linspace(0.7, 1.4, 16))
    check(scaled < 1e-6 < 1e-2 < reshaped, f"scale-invariant depth term: {scaled:.1e} for the truth x 1.7, "
          f"{reshaped:.3f} for a changed shape")

    # Presence labels: a name with no pixel is absent only as far as the label covers the photo (losses.presence_weights):
    # on a photo with no labelled pixel its verdict costs nothing; on a fully labelled one, the whole cross-entropy.
    seg = torch.zeros(2, 4, 4, dtype=torch.long)
    seg[1] = IGNORE
    batch = {"task": torch.full((2,), TASK_SEMANTIC), "seg": seg, "mask": torch.ones(2, 1, dtype=torch.bool),
             "matched": torch.zeros(2, dtype=torch.bool)}
    def presence_loss(unlabelled_logit):
        out = Outputs(torch.zeros(2, 1, 4, 4), torch.zeros(2, 3, 4, 4), torch.zeros(2, 2, 4, 4),
                      torch.tensor([[1.5], [unlabelled_logit]]))
        return float(losses(out, batch)[1]["presence"])
    expected = float(F.binary_cross_entropy_with_logits(torch.tensor(1.5), torch.tensor(0.0)))
    got = [presence_loss(x) for x in (-3.0, 3.0)]
    check(all(abs(g - expected) < 1e-6 for g in got),
          f"an absent name weighs the labelled share of its photo (presence loss {got}, expected {expected:.4f} twice)")

    # Data-parallel: 2 CPU processes (gloo) under torchrun.
    out = run([Path(sys.executable).parent / "torchrun", "--standalone", "--nproc_per_node", "2", "-m",
               "peel_train.train", "--data", data, "--run-dir", tmp / "ddp", "--batch", "2", "--total-steps", "2",
               "--log-every", "1", "--device", "cpu", "--threads", "1", "--workers", "0"],
              env={**os.environ, "OMP_NUM_THREADS": "1"})
    ddp = torch.load(tmp / "ddp" / "checkpoint.pt", map_location="cpu", weights_only=False)
    check("stopped at step 2" in out and ddp["log"][-1]["examples"] == 8,
          "2-process data-parallel run (gloo): 2 steps, 8 examples")

    # The GPU script, dry run on the CPU: a pack and the model-only checkpoint in, a checkpoint out.
    run([sys.executable, "-m", "peel_train.pack", "--data", data, "--out", tmp / "pack.pkl", "--max-mib", "8"])
    run(["bash", REPO / "train/gpu_train.sh", tmp / "pack.pkl", tmp / "model.pt", tmp / "gpu-model.pt", "2", "2"],
        env={**os.environ, "PEEL_DEVICE": "cpu", "PEEL_BATCH": "2", "PEEL_WORKERS": "1", "PEEL_LOG_EVERY": "1"})
    gpu = json.loads((tmp / "gpu-model.pt.json").read_text())
    check(gpu["step"] == 8 and (tmp / "gpu-model.pt").stat().st_size < 16 * 2**20,
          "GPU script dry run (CPU): continued the model-only checkpoint from step 6 to 8")

    # A soup (export --checkpoint A B) is the two checkpoints' mean, tensor by tensor.
    a, b = (torch.load(tmp / f, map_location="cpu", weights_only=True) for f in ("model.pt", "gpu-model.pt"))
    soup = mean_state([tmp / "model.pt", tmp / "gpu-model.pt"])
    moved = [k for k in a if a[k].is_floating_point() and not torch.equal(a[k], b[k])]
    worst = max(float((soup[k] - (a[k].float() + b[k].float()) / 2).abs().max()) for k in moved)
    check(moved and worst < 1e-6, f"a soup of two checkpoints is their mean ({len(moved)} tensors moved, off by {worst:.1e})")


if __name__ == "__main__":
    main()
