"""The shipped generator as ONNX, for the benchmark against onnxruntime-web (`scripts/bench.sh`).

    python -m peel_train.onnx_export --weights ../weights --photo ../static/samples/chelsea.png --out ../target/bench/onnx

Writes to OUT:
- `peel-gen.onnx`: the shipped weights (int8, dequantized to float32 by `evaluate.load_shipped`) in
  the PyTorch mirror, with the depth task's conditioning built in, so its one input is the photo at
  the app's input size (`[1, 3, H, W]` in [-1, 1]) and its output the painted depth map
  (`[1, 3, H/2, W/2]` in [0, 1]): the same work as Peel's `Generator::paint_tensor` for the
  prompt "Generate a metric depth map of the input image." (network, then the cube-walk painter).
  Peel passes no tokens for depth (attention sees only the null token); here the one token is
  masked out (weight e^-1e4, exactly 0 in float32), so the painting is the same.
- `input.bin`: the photo as the app prepares it (`evaluate.preprocess`: the app's sizing rule, an
  antialiased bilinear resize, rgb/127.5 - 1), float32 little-endian, shape in `meta.json`;
- `expected.bin`: PyTorch's painting of it (float32), for checking what onnxruntime returns;
- `meta.json`: shapes, the photo, the prompt, the weights' SHA-256 and onnxruntime's (Python)
  largest difference from PyTorch, when onnxruntime is installed.
"""

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from .evaluate import TaskRouted, load_shipped, preprocess
from .generator import TASK_DEPTH, paint_depth

PROMPT = "Generate a metric depth map of the input image."


class DepthPainter(nn.Module):
    """image [1,3,H,W] -> painted depth [1,3,H/2,W/2]; the conditioning is constant."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        d = model.null_token.shape[1]
        self.register_buffer("task", torch.tensor([TASK_DEPTH]))
        self.register_buffer("phrases", torch.zeros(1, 1, d))
        self.register_buffer("slots", torch.zeros(1, 1, dtype=torch.long))
        self.register_buffer("mask", torch.zeros(1, 1, dtype=torch.bool))

    def forward(self, image):
        walk = self.model(image, self.task, self.phrases, self.slots, self.mask).walk
        return paint_depth(walk)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", required=True)
    parser.add_argument("--photo", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    model, _, _ = load_shipped(args.weights)
    if isinstance(model, TaskRouted):
        # The network that paints depth, as Peel's `Generator` routes the prompt.
        model = model.by_task.get(TASK_DEPTH, model.main)
    painter = DepthPainter(model).eval()
    image = preprocess(Image.open(args.photo))
    with torch.no_grad():
        expected = painter(image)
    onnx_path = out / "peel-gen.onnx"
    # The TorchScript exporter: one self-contained file, constants folded, static shapes.
    torch.onnx.export(painter, (image,), str(onnx_path), input_names=["image"], output_names=["painting"],
                      opset_version=17, dynamo=False, do_constant_folding=True)
    image.numpy().astype("<f4").tofile(out / "input.bin")
    expected.numpy().astype("<f4").tofile(out / "expected.bin")

    manifest = json.loads((Path(args.weights) / "manifest.json").read_text())
    meta = {
        "photo": Path(args.photo).name,
        "prompt": PROMPT,
        "input_shape": list(image.shape),
        "output_shape": list(expected.shape),
        "model": manifest["name"],
        "weights_sha256": manifest["sha256"],
        "onnx_bytes": onnx_path.stat().st_size,
        "onnx_sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
        "torch": torch.__version__,
    }
    try:
        import onnxruntime as ort

        session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        got = session.run(None, {"image": image.numpy()})[0]
        meta["onnxruntime_python"] = ort.__version__
        meta["onnxruntime_python_max_abs_diff"] = float(np.abs(got - expected.numpy()).max())
    except ImportError:
        pass
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
