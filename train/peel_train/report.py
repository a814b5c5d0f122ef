"""Figures for docs/MODEL.md: training curves, a sample grid on real photos (shipped weights) and,
with --compare, the same photos painted by an earlier model beside the shipped one.

    python -m peel_train.report --run ../target/peel-run [--compare ../target/peel-gen-1]
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from .evaluate import COLOURS, REPO, load_shipped, painting  # noqa: E402
from .generator import TASK_DEPTH, TASK_INSTANCE, TASK_NORMALS, TASK_REFERRING, TASK_SEMANTIC, TASKS  # noqa: E402

GRID_CLASSES = ["person", "cat", "car", "road", "sky", "building", "tree", "table", "cup", "motorcycle"]
GRID_COLOURS = ["red", "orange", "blue", "gray", "skyblue", "yellow", "lime", "magenta", "cyan", "purple"]


def curves(run, out):
    log = json.loads((Path(run) / "log.json").read_text())
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    x = "examples" if all("examples" in e for e in log) else "step"
    for task in TASKS:
        pts = [(e[x], e[task]) for e in log if task in e]
        if pts:
            s, v = zip(*pts)
            k = 8  # moving average over 8 log points (200 steps)
            smooth = np.convolve(v, np.ones(k) / k, mode="valid") if len(v) > k else np.array(v)
            ax.plot(s[len(s) - len(smooth):], smooth, label=task)
    ax.set_xlabel("training examples" if x == "examples" else "step (batch 8)")
    ax.set_ylabel("training loss (moving average)")
    ax.set_title("Peel generator training: per-task losses")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out)
    print("wrote", out)


def grid(weights, shared, out):
    from skimage import data as skdata

    model, ph, wd = load_shipped(weights)
    photos = [("astronaut", Image.open(REPO / "static/samples/astronaut.png")),
              ("coffee", Image.open(REPO / "static/samples/coffee.png")),
              ("chelsea", Image.open(REPO / "static/samples/chelsea.png")),
              ("motorcycle (Middlebury)", Image.fromarray(skdata.stereo_motorcycle()[0]))]
    camvid = sorted((Path(shared) / "data/camvid/test").glob("*.jpg"))
    if camvid:
        photos.append(("CamVid test", Image.open(camvid[40])))
    entries = [(c, COLOURS[n]) for c, n in zip(GRID_CLASSES, GRID_COLOURS)]
    rows = []
    for name, img in photos:
        img = img.convert("RGB")
        h = 192
        img = img.resize((round(img.width * h / img.height), h), Image.BILINEAR)
        cells = [img,
                 painting(model, img, TASK_DEPTH, [], None, ph, wd),
                 painting(model, img, TASK_NORMALS, [], None, ph, wd),
                 painting(model, img, TASK_SEMANTIC, entries, None, ph, wd)]
        rows.append(np.concatenate([np.asarray(c) for c in cells], axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    Image.fromarray(np.concatenate(rows, axis=0)).save(out)
    print("wrote", out, "legend:", dict(zip(GRID_CLASSES, GRID_COLOURS)))


def compare_photos(shared):
    """(name, photo, referring phrase): the app's samples, a street, an indoor scene with real
    depth, a pet and the paper's own photos; none of them is trained on."""
    from .realdepth import load_scene
    root = Path(shared) / "data"
    out = [("astronaut", Image.open(REPO / "static/samples/astronaut.png"), "the person"),
           ("coffee", Image.open(REPO / "static/samples/coffee.png"), "the cup"),
           ("chelsea", Image.open(REPO / "static/samples/chelsea.png"), "the cat")]
    camvid = sorted((root / "camvid/test").glob("*.jpg"))
    if camvid:
        out.append(("CamVid test", Image.open(camvid[40]), "the car"))
    if (root / "middlebury2014/Playroom_im0.jpg").exists():
        out.append(("Middlebury Playroom", Image.fromarray(load_scene(shared, "Playroom")[0]), "the chair"))
    pets_test = root / "pets/test.txt"
    if pets_test.exists():
        first = pets_test.read_text().split()[0]
        matches = sorted((root / "pets").rglob(f"{first}.jpg"))
        if matches:
            out.append(("Oxford pet (test)", Image.open(matches[0]), "the cat" if first[0].isupper() else "the dog"))
    vb = root / "vision-banana-outputs"
    for name, phrase in (("depth_depth_kinkaku_0.jpg", "the temple"), ("normal_sn_1_in.jpg", "the table")):
        if (vb / name).exists():
            out.append((f"Vision Banana {name.split('_')[-2]}", Image.open(vb / name), phrase))
    return out


def compare(old_weights, new_weights, shared, out):
    """Per photo: input, then depth, normals, semantic, instance and referring, each earlier | shipped."""
    models = [load_shipped(old_weights), load_shipped(new_weights)]
    names = [json.loads((Path(w) / "manifest.json").read_text())["name"] for w in (old_weights, new_weights)]
    entries = [(c, COLOURS[n]) for c, n in zip(GRID_CLASSES, GRID_COLOURS)]
    rows = []
    for _, img, phrase in compare_photos(shared):
        img = img.convert("RGB")
        h = 144
        img = img.resize((max(1, round(img.width * h / img.height)), h), Image.BILINEAR)
        cells = [img]
        # Instances of the referring phrase's class: "the cat" -> each cat in its own colour.
        for task, ent in ((TASK_DEPTH, []), (TASK_NORMALS, []), (TASK_SEMANTIC, entries),
                          (TASK_INSTANCE, [(phrase.removeprefix("the "), None)]),
                          (TASK_REFERRING, [(phrase, (255, 0, 0))])):
            for model, ph, wd in models:
                cells.append(painting(model, img, task, ent, None, ph, wd))
        rows.append(np.concatenate([np.asarray(c) for c in cells], axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    Image.fromarray(np.concatenate(rows, axis=0)).save(out)
    print("wrote", out, "columns: input, then", names, "for depth, normals, semantic, instance, referring;",
          "phrases:", [p for _, _, p in compare_photos(shared)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--weights", default=str(REPO / "weights"))
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    ap.add_argument("--compare", default=None, help="an earlier model's weights directory")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    docs = REPO / "docs"
    curves(args.run, docs / "model-training.png")
    grid(args.weights, args.shared, docs / "model-grid.png")
    if args.compare:
        compare(args.compare, args.weights, args.shared, docs / "model-compare.png")


if __name__ == "__main__":
    main()
