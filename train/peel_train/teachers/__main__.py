"""The command line of peel_train.teachers (its usage is the package's docstring): check, measure, build."""

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter

from .. import teachers
from ..data import H, IGNORE, W, cover_crop
from ..vocab import VOC_CLASSES
from .building import build, repeat_factors
from .labels import ade_classes, instances_from, merge, merged_classes
from .measuring import measure
from .running import CACHE, VOC_TEACHERS, crop_box


def check(shared):
    """Self-test of the geometry and the merge, instance and weighting rules on made-up arrays."""
    rng = np.random.default_rng(0)
    for size in ((320, 293), (240, 320), (500, 500), (1000, 300)):
        img = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).filter(ImageFilter.BLUR)
        a = np.asarray(cover_crop(img, Image.BILINEAR), np.float32)
        b = np.asarray(img.resize((W, H), Image.BILINEAR, box=crop_box(img.size)), np.float32)
        assert np.abs(a - b).mean() < 0.5, f"teacher crop differs from cover_crop for {size}"
    names, ade, voc = merged_classes(shared), ade_classes(shared), VOC_CLASSES
    a = np.full((H, W), ade.index("wall"), np.uint8)
    a[:, :50] = ade.index("person")
    v = np.zeros((H, W), np.uint8)  # VOC: background everywhere...
    v[:, 100:150] = voc.index("cat")  # ...but a cat over the wall
    v[:, 200:] = IGNORE
    m = merge(shared, a, v)
    assert (m[:, 100:150] == names.index("cat")).all(), "a sure VOC thing must win over ADE20K stuff"
    assert (m[:, :50] == IGNORE).all(), "ADE20K person where VOC is sure of background must be ignored"
    assert (m[:, 60:90] == names.index("wall")).all() and (m[:, 210:] == names.index("wall")).all()
    sem = np.full((H, W), names.index("wall"), np.uint8)
    sem[10:60, 10:60] = sem[10:60, 100:150] = names.index("person")
    ssd = {"boxes": np.array([[8, 8, 62, 62], [98, 8, 152, 62]], np.float32),
           "classes": np.array([0, 0], np.int32), "scores": np.array([0.9, 0.8], np.float32)}
    inst, lst = instances_from(shared, ssd, sem, names)
    assert [i["pixels"] for i in lst] == [2500, 2500] and set(np.unique(inst)) == {0, 1, 2}
    sem[100:150, 200:250] = names.index("person")  # a third person SSD missed: the class gets no instances
    assert instances_from(shared, ssd, sem, names)[1] == []
    samples = [{"semantic": np.full((H, W), names.index("sky"), np.uint8), "classes": names} for _ in range(99)]
    samples.append({"semantic": np.full((H, W), names.index("horse"), np.uint8), "classes": names})
    w = [s["weight"] for s in repeat_factors(samples)]
    assert w[0] == 1.0 and abs(w[-1] - np.sqrt(0.1 / 0.01)) < 1e-9, w[-1]
    print("teachers check: ok")


def main():
    ap = argparse.ArgumentParser(prog="python -m peel_train.teachers", description=teachers.__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("commands", nargs="+", choices=["check", "measure", "build"])
    ap.add_argument("--shared", default="../../shared")
    ap.add_argument("--out", default=str(CACHE.parent / "peel-data"))
    ap.add_argument("--duts-limit", type=int, default=None, help="label only the first N DUTS photos (CPU budget)")
    ap.add_argument("--voc-teacher", choices=VOC_TEACHERS, default="voc",
                    help="the VOC teacher of the merge (its report and build summary get their own names)")
    args = ap.parse_args()
    shared = Path(args.shared)
    if not (shared / "teachers").is_dir():
        ap.error(f"no teachers/ under --shared {args.shared}")
    torch.set_num_threads(1)
    if "check" in args.commands:
        check(shared)
    if "measure" in args.commands:
        measure(args.shared, args.voc_teacher)
    if "build" in args.commands:
        build(args.shared, args.out, args.voc_teacher, args.duts_limit)


if __name__ == "__main__":
    main()
