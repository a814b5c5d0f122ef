"""Train the placeholder depth generator that the walking skeleton ships.

It learns one task, metric depth painted in the protocol's cube-walk colormap, from scenes
rendered by `peel synth`; targets are made by `peel encode depth`, so the colormap has one
implementation (the Rust protocol crate). It is a placeholder: small, briefly trained, and
labelled as such in the app until the generalist model (issue 5) replaces it.

    python -m peel_train.placeholder --data DIR --out ../weights --minutes 10
"""

import argparse
import hashlib
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import load_file, save_file

from .model import PeelUNet

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def normalise(rgb_u8: np.ndarray) -> np.ndarray:
    """HWC uint8 → CHW float, exactly as `peel_model::preprocess::prepare`."""
    x = (rgb_u8.astype(np.float32) / 255.0 - MEAN) / STD
    return x.transpose(2, 0, 1).copy()


def load_pairs(data: Path):
    photos, targets = [], []
    for sample in sorted(p for p in data.iterdir() if (p / "depth_viz.png").exists()):
        photos.append(normalise(np.asarray(Image.open(sample / "rgb.png").convert("RGB"))))
        target = np.asarray(Image.open(sample / "depth_viz.png").convert("RGB"))
        targets.append(target.astype(np.float32).transpose(2, 0, 1) / 255.0)
    if not photos:
        raise SystemExit(f"no samples with depth_viz.png under {data}")
    return torch.from_numpy(np.stack(photos)), torch.from_numpy(np.stack(targets))


def write_parity_fixture(model: PeelUNet, out_dir: Path):
    """A fixed input and the PyTorch output, for the Rust parity test."""
    generator = torch.Generator().manual_seed(1234)
    x = torch.randn(1, 3, 40, 56, generator=generator)
    with torch.no_grad():
        y = model(x)
    out_dir.mkdir(parents=True, exist_ok=True)
    np.save(out_dir / "parity_input.npy", x.numpy().astype(np.float32))
    np.save(out_dir / "parity_output.npy", y.numpy().astype(np.float32))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="peel synth output with depth_viz.png targets")
    parser.add_argument("--out", type=Path, required=True, help="weights directory to write")
    parser.add_argument("--fixture-dir", type=Path, help="where to write the parity fixture")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--max-steps", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--base-channels", type=int, default=8)
    parser.add_argument("--crop", type=int, default=128, help="train on random square crops of this side (0: whole images)")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--holdout", type=int, default=16, help="samples kept out of training for the loss report")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true", help="continue from the weights already in --out")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    photos, targets = load_pairs(args.data)
    train_x, train_y = photos[args.holdout:], targets[args.holdout:]
    held_x, held_y = photos[: args.holdout], targets[: args.holdout]
    model = PeelUNet(args.base_channels)
    earlier = {"steps": 0, "minutes": 0.0, "curve": []}
    if args.resume:
        previous = json.loads((args.out / "manifest.json").read_text())
        model.load_state_dict(load_file(args.out / previous["weights_file"]))
        earlier = previous["training"]
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    deadline = time.time() + args.minutes * 60
    started, step, curve = time.time(), earlier["steps"], list(earlier["curve"])
    while step < earlier["steps"] + args.max_steps and time.time() < deadline:
        progress = (time.time() - started) / (args.minutes * 60)
        for group in optimiser.param_groups:
            group["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
        index = torch.randint(0, len(train_x), (args.batch,))
        x, y = train_x[index], train_y[index]
        if args.crop:  # crops keep metric scale (no resizing) at a quarter of the compute
            top = int(torch.randint(0, x.shape[-2] - args.crop + 1, ()))
            left = int(torch.randint(0, x.shape[-1] - args.crop + 1, ()))
            x = x[..., top : top + args.crop, left : left + args.crop]
            y = y[..., top : top + args.crop, left : left + args.crop]
        if torch.rand(()) < 0.5:  # a mirrored scene has the mirrored depth
            x, y = x.flip(-1), y.flip(-1)
        loss = F.l1_loss(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        step += 1
        if step % 25 == 0:
            with torch.no_grad():
                held = F.l1_loss(model(held_x), held_y).item()
            curve.append({"step": step, "train_l1": round(loss.item(), 5), "heldout_l1": round(held, 5)})
            print(json.dumps(curve[-1]), flush=True)

    model.eval()
    with torch.no_grad():
        held = F.l1_loss(model(held_x), held_y).item()
    args.out.mkdir(parents=True, exist_ok=True)
    weights_path = args.out / "peel-placeholder.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, weights_path)
    digest = hashlib.sha256(weights_path.read_bytes()).hexdigest()
    manifest = {
        "manifest_version": 1,
        "name": "Peel placeholder depth U-Net",
        "placeholder": True,
        "architecture": {"base_channels": args.base_channels},
        "input_long_side": 256,
        "tasks": ["depth"],
        "weights_file": weights_path.name,
        "sha256": digest,
        "training": {
            "data": f"{len(train_x)} synthetic scenes from `peel synth` ({args.holdout} held out)",
            "targets": "depth encoded with `peel encode depth` (paper cube-walk colormap)",
            "loss": "L1 on visualization RGB",
            "steps": step,
            "batch": args.batch,
            "crop": args.crop,
            "minutes": round(earlier["minutes"] + (time.time() - started) / 60, 1),
            "heldout_l1": round(held, 5),
            "curve": curve,
            "command": "bash train/make_placeholder.sh",
        },
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    if args.fixture_dir:
        write_parity_fixture(model, args.fixture_dir)
    print(f"wrote {weights_path} ({weights_path.stat().st_size} bytes) after {step} steps; held-out L1 {held:.4f}")


if __name__ == "__main__":
    main()
