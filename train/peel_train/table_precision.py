"""What the 4-bit rows cost on the words training never saw: one network painted with an int8 phrase
table and with a 4-bit one (two exports of the same run, before and after `vocab.project_table`
stored those words at 4 bits); the painted target masks' agreement (IoU) and sizes on COCO128 val.

    python -m peel_train.table_precision INT8_WEIGHTS 4BIT_WEIGHTS ../../shared          # 60 random 4-bit words
    python -m peel_train.table_precision INT8_WEIGHTS 4BIT_WEIGHTS ../../shared nouns    # a list of concrete nouns
"""
import sys, json
from pathlib import Path
import numpy as np, torch
from PIL import Image
from peel_train.evaluate import load_shipped, preprocess
from peel_train.conditioning import paint
from peel_train.generator import TASK_REFERRING, TASK_SEMANTIC
from peel_train.vocab import load_table

int8_dir, q4_dir, shared = map(Path, sys.argv[1:4])
torch.set_grad_enabled(False)
m8, p8, w8 = load_shipped(int8_dir)
m4, p4, w4 = load_shipped(q4_dir)
four = load_table(q4_dir / "phrases.safetensors")["words_4bit"]
rng = np.random.RandomState(0)
NOUNS = "pond lighthouse chimney ladder statue puddle windmill canal anchor balcony staircase kayak saucer doorknob curtain pillow lamp shelf fence bridge tower mountain river beach sand snow road sidewalk wall window door roof floor ceiling plate fork spoon knife glass napkin helmet jacket hat shoe grass tree cloud hill building".split()
words = [w for w in NOUNS if w in set(four)] if len(sys.argv) > 4 else [four[i] for i in rng.choice(len(four), 60, replace=False)]
photos = sorted((shared / "data/coco128/images/val2017").glob("*.jpg"))[:20]
ious, sizes8, sizes4, diffs = [], [], [], []
for k, w in enumerate(words):
    img = Image.open(photos[k % len(photos)]).convert("RGB")
    x = preprocess(img)
    for task, entries in ((TASK_REFERRING, [(f"the {w}", (255, 255, 255))]),
                          (TASK_SEMANTIC, [(w, (255, 0, 0)), ("person", (0, 0, 255))])):
        a = paint(m8, x, task, entries, None, p8, w8).numpy()
        b = paint(m4, x, task, entries, None, p4, w4).numpy()
        col = np.array(entries[0][1], np.float32)[:, None, None] / 255
        ma, mb = np.abs(a - col).sum(0) < 0.1, np.abs(b - col).sum(0) < 0.1
        union = (ma | mb).sum()
        if union:
            ious.append((ma & mb).sum() / union)
        sizes8.append(ma.mean()); sizes4.append(mb.mean()); diffs.append(np.abs(a - b).mean())
print(json.dumps({"words": len(words), "prompts": len(sizes8), "masks_nonempty_either": len(ious),
                  "median_iou_int8_vs_4bit": float(np.median(ious)) if ious else None,
                  "mean_iou": float(np.mean(ious)) if ious else None,
                  "mean_share_painted_int8": float(np.mean(sizes8)), "mean_share_painted_4bit": float(np.mean(sizes4)),
                  "mean_abs_painting_diff": float(np.mean(diffs)), "sample_words": words[:10]}, indent=1))
