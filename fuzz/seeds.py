"""Writes the fuzz targets' seed inputs into fuzz/corpus/<target>/seed-* (committed).

    .venv/bin/python fuzz/seeds.py

Small valid inputs of each kind, so that libFuzzer starts past the magic numbers and headers;
the rest of each committed corpus is what the long runs found (merged with `run.sh merge`).
"""
import io
import json
import struct
from pathlib import Path

import numpy as np
from PIL import Image

CORPUS = Path(__file__).resolve().parent / "corpus"
ROOT = CORPUS.parent.parent


def write(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / f"seed-{name}").write_bytes(data if isinstance(data, bytes) else data.encode())


PROMPTS = {
    "semantic": 'Generate a semantic segmentation visualization image, using this color mapping: '
                '{"cat": "red", "exit sign": <0, 0, 255>, "background": "#10aa05", "sofa": (1, 2, 3),}',
    "semantic-escapes": 'Semantic segmentation, colour mapping: {"a \\"b\\" \\\\c": RGB(9, 9, 9), "dog": teal}',
    "instance": 'Generate an instance segmentation visualization of this image. Each piece of garlic is colored '
                'differently. Background is RGB(88, 50, 82).',
    "instance-short": 'Instance segmentation. Each person has a different color.',
    "referring": 'A segmentation map image. The area that corresponds to the man in pink t shirt is rendered solid '
                 'white; the other man is rendered in green. Everything else is rendered solid #202020.',
    "referring-short": 'The cup is rendered in red.',
    "depth": 'Generate a metric depth map of the input image.',
    "depth-codec": 'Generate a metric depth map of the input image. Use the power transform with lambda = -0.5 and c = 10.',
    "depth-lambda": 'depth, λ = 0.25, c = 3',
    "normals": 'Generate a surface normal map of the input image.',
    "unknown-word": 'Generate a semantic segmentation visualization image, using this color mapping: {"persn": "red"}',
}


def prompts():
    for name, text in PROMPTS.items():
        write("prompt", name, text)
        write("phrases", name, text)
    for phrase in ("the cat", "exit sign", "the man in pink t shirt", "pondd", "a dog"):
        write("phrases", phrase.replace(" ", "-"), phrase)


def visualizations():
    # Arbitrary-encoded inputs: the structure is learned by the fuzzer; a few raw byte patterns
    # (a gradient, a flat colour, the walk's colours) start it with plausible pixels.
    rng = np.random.default_rng(0)
    grad = bytes(np.arange(3 * 16 * 16, dtype=np.uint8))
    flat = bytes([255, 0, 0] * 256)
    noise = rng.integers(0, 256, 3 * 256, dtype=np.uint8).tobytes()
    for target in ("depth", "normals", "semantic", "instance", "referring"):
        for name, pixels in (("gradient", grad), ("flat", flat), ("noise", noise)):
            write(target, name, bytes([15, 0]) + pixels)


def manifest():
    write("manifest", "shipped", (ROOT / "weights" / "manifest.json").read_bytes())


def safetensors(tensors, metadata=None):
    header, data = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def weights():
    one = lambda n: np.ones(n, np.float32).tobytes()  # noqa: E731
    write("weights", "small", safetensors({
        "head.weight": ("I8", [2, 3], bytes(6)), "head.weight.qscale": ("F32", [1, 3], one(3)),
        "head.bias": ("F32", [3], one(3)),
    }))
    write("weights", "phrases", safetensors({
        "phrases": ("I8", [1, 4], bytes(4)), "phrases.qscale": ("F32", [1, 1], one(1)),
        "words": ("I8", [1, 4], bytes(4)), "words.qscale": ("F32", [1, 1], one(1)),
    }, {"phrases": json.dumps(["cat"]), "words": json.dumps(["cat"])}))


def arrays():
    for name, a in (("depth-f32", np.linspace(0.5, 9, 12, dtype=np.float32).reshape(3, 4)),
                    ("depth-f64", np.ones((2, 2))),
                    ("normals", np.tile(np.float32([0, 0, 1]), (2, 3, 1)))):
        buf = io.BytesIO()
        np.save(buf, a)
        write("arrays", name, buf.getvalue())
    write("arrays", "pfm", b"Pf\n3 2\n-1.0\n" + np.arange(6, dtype="<f4").tobytes())


def photos():
    rgb = Image.fromarray(np.arange(8 * 6 * 3, dtype=np.uint8).reshape(6, 8, 3))
    for fmt, kw in (("png", {}), ("jpeg", {"quality": 80}), ("webp", {}), ("gif", {}), ("bmp", {})):
        buf = io.BytesIO()
        rgb.save(buf, fmt, **kw)
        write("photo", fmt, buf.getvalue())
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°
    rgb.save(buf, "jpeg", exif=exif.tobytes())
    write("photo", "jpeg-exif6", buf.getvalue())
    for mode in ("L", "LA", "P", "1", "I;16", "RGBA"):
        buf = io.BytesIO()
        rgb.convert(mode if mode != "I;16" else "I").convert(mode).save(buf, "png")
        write("photo", f"png-{mode.replace(';', '')}", buf.getvalue())
    buf = io.BytesIO()
    rgb.save(buf, "jpeg", progressive=True)
    write("photo", "jpeg-progressive", buf.getvalue())


if __name__ == "__main__":
    prompts()
    visualizations()
    manifest()
    weights()
    arrays()
    photos()
    print(f"seeds written under {CORPUS}")
