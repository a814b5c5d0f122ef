"""Pack a subset of the cached training data into one small file for a GPU machine.

    python -m peel_train.pack --data ../target/peel-data --out ../target/gpu-pack.pkl [--max-mib 64]

Images are stored as JPEG (q 92) and labels as PNG bytes (lossless; depth walk as 16-bit, normals
as 8-bit), so a 64 MiB pack holds about a thousand scenes. Each source gets a share of the budget
(synthetic scenes the most: they alone carry depth and normals); within a source, samples are drawn
at random, heavier "weight" (repeat factor) first. `train.py --data PACK.pkl` reads it directly.
"""

import argparse
import io
import pickle
import random
from pathlib import Path

import numpy as np
from PIL import Image


SHARES = {"synth": 0.45, "camvid": 0.1, "coco": 0.05}  # the rest share what is left equally
IMAGE_KEYS = ("rgb", "semantic", "instance", "walk", "normal", "parts")  # parts: CCP's own labels


def encode(key, a):
    buf = io.BytesIO()
    if key == "rgb":
        Image.fromarray(a).save(buf, "JPEG", quality=92)
    elif key == "walk":
        # 0 stands for unknown depth (NaN): a walk position of exactly 0 (depth 0 m) never occurs.
        q = np.clip(a.astype(np.float32), 1 / 65535, 1) * 65535 + 0.5
        Image.fromarray(np.nan_to_num(q, nan=0).astype(np.uint16)).save(buf, "PNG")
    elif key == "normal":
        Image.fromarray((np.clip(a.astype(np.float32), -1, 1) * 127 + 128).astype(np.uint8)).save(buf, "PNG")
    else:
        Image.fromarray(a).save(buf, "PNG")
    return buf.getvalue()


def decode(key, data):
    a = np.asarray(Image.open(io.BytesIO(data)))
    if key == "walk":
        return np.where(a == 0, np.nan, a.astype(np.float32) / 65535).astype(np.float16)
    if key == "normal":
        return ((a.astype(np.float32) - 128) / 127).astype(np.float16)
    if key == "instance":
        return a.astype(np.uint16)
    return a


def encode_sample(s):
    return {k: (encode(k, v) if k in IMAGE_KEYS else v) for k, v in s.items()}


def decode_sample(s):
    return {k: (decode(k, v) if k in IMAGE_KEYS and isinstance(v, bytes) else v) for k, v in s.items()}


def load_sources(data):
    """{name: [sample]} from a data directory of pickles (one per source) or one pack file."""
    data = Path(data)
    if data.is_file():
        with open(data, "rb") as f:
            packed = pickle.load(f)
        return {name: [decode_sample(s) for s in samples] for name, samples in packed["sources"].items()}
    out = {}
    for path in sorted(data.glob("*.pkl")):
        if path.stem != "phrases":
            with open(path, "rb") as f:
                out[path.stem] = pickle.load(f)
    return out


def packed_phrases(pack_file):
    with open(pack_file, "rb") as f:
        table = pickle.load(f)["phrases"]
    if table is None:
        raise SystemExit(f"{pack_file} carries no phrase table")
    return table


def pack_sources(sources, max_bytes, seed=0):
    rng = random.Random(seed)
    others = [n for n in sources if n not in SHARES]
    rest = (1 - sum(SHARES[n] for n in sources if n in SHARES)) / max(1, len(others))
    packed, total = {}, 0
    for name, samples in sources.items():
        budget = max_bytes * SHARES.get(name, rest)
        order = sorted(range(len(samples)), key=lambda i: (-float(samples[i].get("weight", 1.0)), rng.random()))
        out, used = [], 0
        for i in order:
            enc = encode_sample(samples[i])
            size = sum(len(v) for v in enc.values() if isinstance(v, bytes)) + 512
            if used + size > budget:
                break
            out.append(enc)
            used += size
        packed[name] = out
        total += used
        print(f"{name}: {len(out)} of {len(samples)} samples, {used / 2**20:.1f} MiB", flush=True)
    return {"format": 1, "sources": packed}, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-mib", type=float, default=64)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    sources = load_sources(args.data)
    # Leave room for the phrase table, which travels inside the pack.
    table_path = Path(args.data) / "phrases.pkl"
    table = pickle.loads(table_path.read_bytes()) if table_path.exists() else None
    reserve = len(pickle.dumps(table)) if table is not None else 0
    packed, _ = pack_sources(sources, args.max_mib * 2**20 - reserve - 2**20, args.seed)
    packed["phrases"] = table
    Path(args.out).write_bytes(pickle.dumps(packed, protocol=5))
    size = Path(args.out).stat().st_size
    print(f"{args.out}: {size / 2**20:.1f} MiB")
    if size > args.max_mib * 2**20:
        raise SystemExit(f"the pack is {size / 2**20:.1f} MiB, over the {args.max_mib} MiB limit")


if __name__ == "__main__":
    main()
