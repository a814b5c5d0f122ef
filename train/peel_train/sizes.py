"""The model-input size of a photo, by the app's rule (`model_size` in crates/peel-model/src/preprocess.rs).

    python -m peel_train.sizes                    # rewrites crates/peel-model/tests/fixtures/model_sizes.json
    python -m peel_train.sizes --compare-resize   # PIL's resize filters against the app's (needs target/release/peel)

The fixture holds cases computed here. A Rust test (crates/peel-model/tests/model_sizes.rs) holds
the app to it, and the training smoke test holds this function to it, so the two sides cannot drift.
"""

import argparse
import json
import math
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from .generator import SIZE_MULTIPLE

LONG_SIDE = 256
REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "crates/peel-model/tests/fixtures/model_sizes.json"


def round_half_up(x: float) -> int:
    """Rust's `f64::round` for x >= 0 (ties away from zero); Python's `round` sends ties to even."""
    whole = math.floor(x)
    return whole + (x - whole >= 0.5)


def model_size(width: int, height: int, long_side: int = LONG_SIDE) -> tuple[int, int]:
    """Long side -> `long_side`, each side then rounded to a multiple of SIZE_MULTIPLE (at least one),
    in two steps as Rust does: to whole pixels, then to the multiple, both with ties up."""
    long = max(width, height, 1)

    def side(s):
        scaled = round_half_up(s * long_side / long)
        return max((scaled + SIZE_MULTIPLE // 2) // SIZE_MULTIPLE * SIZE_MULTIPLE, SIZE_MULTIPLE)

    return side(width), side(height)


def fixture_cases():
    """Named sizes (ties such as 512x416 and 1024x832, the samples, the evaluation sets, extremes)
    and a sweep of heights at two widths."""
    named = [(512, 416), (416, 512), (1024, 832), (512, 415), (1000, 811), (512, 95), (1024, 768), (768, 1024),
             (640, 427), (600, 400), (451, 300), (480, 360), (960, 720), (513, 513), (1241, 376),
             (4000, 3000), (5000, 10), (10, 5000), (300, 300), (32, 32), (33, 1), (1, 1), (2, 1), (1, 2)]
    sweep = [(w, h) for w in (512, 1000) for h in range(1, w + 1, 3)]
    return [[w, h, *model_size(w, h)] for w, h in named + sweep]


def check_fixture(path=FIXTURE):
    """-> (ok, message): whether every fixture case matches `model_size`."""
    fixture = json.loads(Path(path).read_text())
    wrong = [c for c in fixture["cases"] if list(model_size(c[0], c[1], fixture["long_side"])) != c[2:]]
    n = len(fixture["cases"])
    if wrong:
        return False, f"Python's model-input size differs from the app's on {len(wrong)} of {n} fixture cases: {wrong[:5]}"
    return True, f"Python's model-input size matches the app's on {n} fixture cases"


def compare_resize(photos):
    """Prints how far PIL's filters are from the app's model-input resize (the `image` crate's
    Triangle, run by `peel upsample depth --method resize`, which resizes with it)."""
    with tempfile.TemporaryDirectory() as tmp:
        for path in photos:
            img = Image.open(path).convert("RGB")
            size = model_size(*img.size)
            src, guide, out = Path(tmp) / "photo.png", Path(tmp) / "size.png", Path(tmp) / "out.png"
            img.save(src)
            Image.new("RGB", size).save(guide)
            subprocess.run([str(REPO / "target/release/peel"), "upsample", "depth", str(src), "--guide", str(guide),
                            "--out", str(out), "--method", "resize"], check=True, capture_output=True)
            app = np.asarray(Image.open(out), dtype=np.int16)
            diffs = {name: np.abs(np.asarray(img.resize(size, f), dtype=np.int16) - app)
                     for name, f in (("BILINEAR", Image.BILINEAR), ("BICUBIC", Image.BICUBIC), ("BOX", Image.BOX))}
            print(Path(path).name, img.size, "->", size,
                  ", ".join(f"{n} max {d.max()} mean {d.mean():.2f}" for n, d in diffs.items()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compare-resize", action="store_true")
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    args = ap.parse_args()
    if args.compare_resize:
        camvid = sorted((Path(args.shared) / "data/camvid/test").iterdir())[:3]
        compare_resize(sorted((REPO / "static/samples").glob("*.png")) + camvid)
        return
    fixture = {"long_side": LONG_SIDE, "size_multiple": SIZE_MULTIPLE,
               "written_by": "cd train && python -m peel_train.sizes",
               "cases_are": "[photo width, photo height, model width, model height]",
               "cases": fixture_cases()}
    FIXTURE.write_text(json.dumps(fixture, separators=(",", ":")).replace("],[", "],\n[") + "\n")
    print(f"wrote {len(fixture['cases'])} cases to {FIXTURE}")


if __name__ == "__main__":
    main()
