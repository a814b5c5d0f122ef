"""Put two exported networks together as one model: a geometry network that paints depth and
normals, and a scene network that paints the segmentation tasks (manifest `task_networks`).

    python -m peel_train.pair --geometry ../weights --scene ../target/cand-2d/weights \
        --geometry-fixtures ../crates/peel-model/tests/fixtures --scene-fixtures ../target/cand-2d/fixtures \
        --weights ../target/gen3/weights --fixtures ../target/gen3/fixtures --name peel-gen-3

Each input is an `export.py` directory; --geometry may also be a pair (the shipped `weights/`),
whose main network is then kept as it is, to replace only the scene network. The geometry network's
weights file stays the main one (`peel-gen.safetensors`, loaded first: the app's first painting is
depth); the scene network's becomes `peel-gen-scene.safetensors`, which the page fetches after the
first painting or when a segmentation needs it; --scene-long-side gives it an input size of its own. The phrase tables are the scene network's: its `phrase_proj.weight` is
folded into them, and depth and normals take no phrases. The parity fixtures are each network's
own, for its tasks.
"""

import argparse
import json
import shutil
from pathlib import Path

import numpy as np

from .export import sha256

GEOMETRY_TASKS = ["depth", "normals"]
SCENE_FILE = "peel-gen-scene.safetensors"


def without_log(training):
    return {k: v for k, v in training.items() if k != "log"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--geometry", required=True, help="export.py weights directory painting depth and normals")
    ap.add_argument("--scene", required=True, help="export.py weights directory painting the segmentation tasks")
    ap.add_argument("--geometry-fixtures", required=True)
    ap.add_argument("--scene-fixtures", required=True)
    ap.add_argument("--weights", required=True, help="output directory (must not be an input)")
    ap.add_argument("--fixtures", required=True, help="output fixtures directory (must not be an input)")
    ap.add_argument("--name", required=True)
    ap.add_argument("--scene-long-side", type=int, default=None,
                    help="the scene network's input long side, where it is not the geometry network's (the "
                         "network's `input_long_side` in the manifest)")
    args = ap.parse_args()
    geo_dir, scene_dir, out, fix_out = map(lambda p: Path(p).resolve(),
                                           (args.geometry, args.scene, args.weights, args.fixtures))
    geo_fix, scene_fix = Path(args.geometry_fixtures).resolve(), Path(args.scene_fixtures).resolve()
    if {out, fix_out} & {geo_dir, scene_dir, geo_fix, scene_fix}:
        raise SystemExit("write the pair somewhere else than its inputs, then move it")
    geo = json.loads((geo_dir / "manifest.json").read_text())
    scene = json.loads((scene_dir / "manifest.json").read_text())
    if scene.get("task_networks"):
        raise SystemExit(f"{scene_dir} is already a pair")
    if geo.get("task_networks"):
        # A pair as --geometry gives its main network, unchanged (e.g. ../weights, to replace only the scene's).
        geo = {**geo, "name": geo["training"]["geometry network"]["name"],
               "training": geo["training"]["geometry network"]}
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(geo_dir / geo["weights_file"], out / "peel-gen.safetensors")
    shutil.copyfile(scene_dir / scene["weights_file"], out / SCENE_FILE)
    for f in (scene["phrases_file"], scene["core_phrases"]["file"]):
        shutil.copyfile(scene_dir / f, out / f)

    scene_tasks = [t for t in scene["tasks"] if t not in GEOMETRY_TASKS]
    manifest = dict(scene)
    manifest.update({
        "name": args.name,
        "architecture": geo["architecture"],
        "weights_file": "peel-gen.safetensors", "sha256": sha256(out / "peel-gen.safetensors"),
        "weights_bytes": (out / "peel-gen.safetensors").stat().st_size,
        "task_networks": [{
            "tasks": scene_tasks,
            "architecture": scene["architecture"],
            "weights_file": SCENE_FILE, "sha256": sha256(out / SCENE_FILE),
            "weights_bytes": (out / SCENE_FILE).stat().st_size,
            **({"input_long_side": args.scene_long_side} if args.scene_long_side else {}),
        }],
        # The loss logs stay in the checkpoints' notes: every visitor downloads the manifest.
        "training": {"geometry network": {"name": geo["name"], **without_log(geo.get("training", {}))},
                     "scene network": {"name": scene["name"], **without_log(scene.get("training", {}))}},
        "evaluation": {},
    })
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")

    # Each network's fixtures for its own tasks, on the same input.
    specs = {d: json.loads((d / "gen_parity.json").read_text()) for d in (geo_fix, scene_fix)}
    inputs = [np.load(d / specs[d]["input"]) for d in (geo_fix, scene_fix)]
    if not np.array_equal(*inputs):
        raise SystemExit("the two fixture sets were made on different inputs")
    fix_out.mkdir(parents=True, exist_ok=True)
    np.save(fix_out / "gen_parity_input.npy", inputs[0])
    cases = []
    for d in (geo_fix, scene_fix):
        for case in specs[d]["cases"]:
            if (case["name"] in GEOMETRY_TASKS) == (d == geo_fix):
                for tag in ("dequant", "float"):
                    shutil.copyfile(d / case[tag], fix_out / case[tag])
                cases.append(case)
    order = {t: i for i, t in enumerate(scene["tasks"])}
    cases.sort(key=lambda c: order.get(c["name"], len(order)))
    (fix_out / "gen_parity.json").write_text(json.dumps({"input": "gen_parity_input.npy", "cases": cases}, indent=1) + "\n")
    print(json.dumps({"main": geo["name"], "scene": scene["name"], "cases": [c["name"] for c in cases],
                      "bytes": {f.name: f.stat().st_size for f in sorted(out.iterdir())}}, indent=1))


if __name__ == "__main__":
    main()
