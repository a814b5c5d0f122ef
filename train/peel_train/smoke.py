"""Training smoke test: a few steps on a few synthetic scenes, resume, export, reload.

    python -m peel_train.smoke --peel target/release/peel --weights weights

Exits non-zero on any failure. It also checks the Python depth painter against `peel encode`.
Needs no ../shared data: training builds its phrase table with MiniLM (a few seconds), and the
export ships only that table's words (`--table-words-only`, not MiniLM's 20k).
"""

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .data import depth_to_walk, load_synth
from .evaluate import load_shipped
from .generator import paint_depth


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
    check(worst <= 1 and mismatched <= total * 1e-3,
          f"depth painter matches `peel encode depth` ({mismatched} of {total} pixels differ, by at most {worst})")

    _, _, shipped_words = load_shipped(args.weights)
    check(len(shipped_words) >= 20_000, f"the shipped phrase table loads ({len(shipped_words)} words)")

    with open(data / "synth.pkl", "wb") as f:
        pickle.dump(load_synth([synth]), f)

    train = [sys.executable, "-m", "peel_train.train", "--data", data, "--run", run_dir, "--batch", "2",
             "--checkpoint-every", "3", "--device", "cpu"]
    run(train + ["--steps", "3"])
    resumed = run(train + ["--steps", "4"])
    check("resumed at step 3" in resumed and "stopped at step 4" in resumed, "training resumes from its checkpoint")
    ckpt = torch.load(run_dir / "checkpoint.pt", map_location="cpu", weights_only=False)
    check(ckpt["step"] == 4 and all(torch.isfinite(v).all() for v in ckpt["model"].values()),
          "4 steps give finite weights")

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


if __name__ == "__main__":
    main()
