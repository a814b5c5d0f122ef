"""Clothing Co-Parsing (CCP, Apache-2.0; `shared/data/ccp`): 1,004 photos of one person each, every pixel of the
person labelled with one of 58 clothing and body-part names (labels.json; 0 = "null", not the person).

It trains three things (docs/MODEL.md, "Training data"):
- semantic: CCP_CLASSES, the names merged where CCP's own are near-duplicates a person would not tell apart when
  typing ("shoes" for its 10 kinds of footwear, "pants" for pants/jeans/leggings, ...: MERGE), so that naming
  "shoes" never has to paint sneakers as background;
- the person's outline: "person" over every non-null pixel (OUTLINE_CLASSES, drawn OUTLINE_SHARE of the time);
- referring: attribute phrases from templates with CCP's own names ("the person wearing jeans", "the person in
  the white shirt" -> the person; "the black bag" -> the bag), a colour word only where one basic colour clearly
  covers the item (`colour_name`).

Held out: every 10th photo by id (0010, 0020, ..., 1000: 100 photos, `held_out`); `load_ccp` never reads them,
so ccp.pkl holds the other 904 and training cannot draw them. `ablate --parts ccp` scores on the held-out ones.
Photos are portrait (about 213x320): a sample fits the whole photo into the 256x192 canvas (128x192, centred);
the sides repeat the edge columns and are IGNORE in every target.
"""

import json
from pathlib import Path

import numpy as np
from PIL import Image

from .data import IGNORE, MIN_PIXELS, H, W
from .vocab import STOPWORDS, normalize

HELD_OUT_EVERY = 10  # photo ids divisible by this are held out
CCP_CLASSES = ["background", "hair", "skin", "hat", "glasses", "scarf", "tie", "belt", "gloves", "socks", "bag",
               "shoes", "shirt", "sweater", "jacket", "vest", "dress", "skirt", "pants", "shorts", "tights"]
# CCP name -> CCP_CLASSES name; None: a person pixel with no clothing answer (IGNORE in the clothing map): the
# vague ("accessories"), the too small to count at 128x192 (jewellery, watch), the empty in CCP's pixel labels
# (intimate, panties, swimwear, clogs, bra), and the ones no CCP_CLASSES name covers honestly (a suit is jacket
# and trousers in one region, a romper neither dress nor shorts).
MERGE = {
    "null": "background", "hair": "hair", "skin": "skin", "hat": "hat",
    "glasses": "glasses", "sunglasses": "glasses", "scarf": "scarf", "tie": "tie", "belt": "belt",
    "gloves": "gloves", "socks": "socks",
    "bag": "bag", "purse": "bag", "wallet": "bag",
    **{k: "shoes" for k in ("shoes", "boots", "flats", "heels", "loafers", "pumps", "sandals", "sneakers", "wedges",
                            "clogs")},
    **{k: "shirt" for k in ("shirt", "blouse", "t-shirt", "top", "bodysuit")},
    **{k: "sweater" for k in ("sweater", "jumper", "sweatshirt", "hoodie", "cardigan")},
    **{k: "jacket" for k in ("jacket", "blazer", "coat", "cape")},
    "vest": "vest", "dress": "dress", "skirt": "skirt",
    **{k: "pants" for k in ("pants", "jeans", "leggings")},
    "shorts": "shorts", "tights": "tights", "stockings": "tights",
    **{k: None for k in ("accessories", "necklace", "bracelet", "earrings", "ring", "watch", "intimate", "panties",
                         "swimwear", "bra", "suit", "romper")},
}
OUTLINE_CLASSES = ["background", "person"]
OUTLINE_SHARE = 0.3  # of ccp's semantic draws: "person" over the whole outline instead of the clothing
PERSON_SHARE = 0.6  # of ccp's referring draws: an attribute phrase for the person (else 1-3 items by name)

# Referring: CCP names that never make a phrase (the body, the vague); names taking no article; what a person is
# said to carry rather than wear; what gets no colour word (too small, or not a colour our basic names fit).
NOT_ITEMS = {"null", "skin", "hair", "accessories", "intimate"}
PLURAL = {"jeans", "pants", "shorts", "leggings", "tights", "stockings", "socks", "shoes", "sneakers", "boots", "heels",
          "sandals", "flats", "loafers", "pumps", "wedges", "clogs", "glasses", "sunglasses", "gloves", "earrings",
          "panties"}
CARRIED = {"bag", "purse", "wallet"}
NO_COLOUR = {"glasses", "sunglasses", "necklace", "bracelet", "earrings", "ring", "watch", "hair", "skin"}
PERSON_TEMPLATES = ("the person wearing {a}{item}", "the person in {the}{item}", "the one wearing {a}{item}",
                    "the person dressed in {a}{item}", "whoever is wearing {a}{item}")
CARRY_TEMPLATES = ("the person with the {item}", "the person carrying {a}{item}", "the one holding {a}{item}")
ITEM_TEMPLATES = ("the {item}", "{item}", "the person's {item}")
ITEM_MIN_PIXELS = 3 * MIN_PIXELS  # an item big enough to tell someone by (at the 128x192 training size)

# Basic colour names (Berlin & Kay's eleven): a pixel's name from its HSV; an item is called by a colour only when
# COLOUR_SHARE of its (edge-eroded) pixels have that name, else it gets none. Never "gray": on a contact sheet of
# 40 items (target/ccp-test/colours.png) gray was mostly shaded white or a black-and-white pattern.
COLOURS = ("black", "white", "gray", "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown")
COLOUR_SHARE = 0.6
COLOUR_MIN_PIXELS = 150  # at the photo's own size, after erosion


def pixel_colours(rgb):
    """[N, 3] uint8 -> [N] indices into COLOURS."""
    x = np.asarray(rgb, np.float32) / 255.0
    mx, mn = x.max(1), x.min(1)
    v, c = mx, mx - mn
    s = np.where(mx > 0, c / np.maximum(mx, 1e-6), 0)
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    safe = np.maximum(c, 1e-6)
    h = np.where(mx == r, ((g - b) / safe) % 6, np.where(mx == g, (b - r) / safe + 2, (r - g) / safe + 4)) * 60.0
    name = np.full(len(x), COLOURS.index("gray"))
    chroma = (s >= 0.25) & (v >= 0.25)
    hue = lambda lo, hi: chroma & (h >= lo) & (h < hi)
    name[hue(0, 15) | hue(345, 361)] = COLOURS.index("red")
    name[hue(15, 45)] = COLOURS.index("orange")
    name[hue(45, 70)] = COLOURS.index("yellow")
    name[hue(70, 170)] = COLOURS.index("green")
    name[hue(170, 255)] = COLOURS.index("blue")
    name[hue(255, 290)] = COLOURS.index("purple")
    name[hue(290, 345)] = COLOURS.index("pink")
    # Dark or muted reds/oranges/yellows read as brown; pale reds as pink.
    warm = chroma & ((h < 70) | (h >= 345))
    name[warm & (v < 0.6) & ~((h >= 345) | (h < 15))] = COLOURS.index("brown")
    name[warm & ((h >= 345) | (h < 15)) & (s < 0.5) & (v >= 0.7)] = COLOURS.index("pink")
    name[~chroma & (v < 0.25)] = COLOURS.index("black")
    name[~chroma & (v >= 0.25) & (s < 0.25) & (v >= 0.8)] = COLOURS.index("white")
    return name


def colour_name(rgb):
    """The basic colour name of pixels [N, 3] when COLOUR_SHARE of them have it, else None."""
    if len(rgb) < COLOUR_MIN_PIXELS:
        return None
    counts = np.bincount(pixel_colours(rgb), minlength=len(COLOURS))
    best = int(counts.argmax())
    return COLOURS[best] if counts[best] >= COLOUR_SHARE * len(rgb) and COLOURS[best] != "gray" else None


def erode(mask, steps=2):
    m = mask.copy()
    for _ in range(steps):
        m[1:] &= mask[:-1]
        m[:-1] &= mask[1:]
        m[:, 1:] &= mask[:, :-1]
        m[:, :-1] &= mask[:, 1:]
        mask = m.copy()
    return m


def held_out(photo_id: int) -> bool:
    return photo_id % HELD_OUT_EVERY == 0


def ccp_names(shared):
    return json.loads((Path(shared) / "data/ccp/labels.json").read_text())["labels"]


def merge_lut(names):
    """CCP label id -> CCP_CLASSES index (IGNORE where MERGE says None)."""
    lut = np.full(256, IGNORE, np.uint8)
    for k, n in enumerate(names):
        target = MERGE[n]
        if target is not None:
            lut[k] = CCP_CLASSES.index(target)
    return lut


def photo_ids(shared, split):
    """Sorted photo ids of the split: "train" or "held_out"."""
    ids = sorted(int(p.stem) for p in (Path(shared) / "data/ccp/labels").glob("*.png"))
    return [i for i in ids if held_out(i) == (split == "held_out")]


def read(shared, photo_id):
    """(photo RGB image, CCP label array) at the files' own size."""
    root = Path(shared) / "data/ccp"
    img = Image.open(root / f"photos/{photo_id:04d}.jpg").convert("RGB")
    lab = np.asarray(Image.open(root / f"labels/{photo_id:04d}.png"))
    if lab.shape != (img.height, img.width):
        raise ValueError(f"ccp {photo_id:04d}: labels {lab.shape} for a {img.size} photo")
    return img, lab


def fit(img, lab):
    """The photo fitted into W x H (whole, centred): rgb, raw labels (IGNORE outside), box [x0, y0, x1, y1]."""
    scale = min(W / img.width, H / img.height)
    w, h = max(1, round(img.width * scale)), max(1, round(img.height * scale))
    x0, y0 = (W - w) // 2, (H - h) // 2
    small = np.asarray(img.resize((w, h), Image.BILINEAR))
    rgb = np.pad(small, ((y0, H - h - y0), (x0, W - w - x0), (0, 0)), mode="edge")
    raw = np.full((H, W), IGNORE, np.uint8)
    raw[y0:y0 + h, x0:x0 + w] = np.asarray(Image.fromarray(lab).resize((w, h), Image.NEAREST))
    return rgb, raw, [x0, y0, x0 + w, y0 + h]


def items(img, lab, raw, names):
    """The garments of one photo: CCP name, colour word (or None), pixels at the training size."""
    rgb = np.asarray(img)
    out = []
    for k in np.unique(lab):
        name = names[int(k)]
        if name in NOT_ITEMS:
            continue
        pixels = int((raw == k).sum())
        colour = None if name in NO_COLOUR else colour_name(rgb[erode(lab == k)])
        out.append({"label": int(k), "name": name, "colour": colour, "pixels": pixels})
    return out


def load_ccp(shared, split="train", limit=None):
    """Training samples (the "train" split unless asked): rgb, semantic over CCP_CLASSES, raw CCP labels
    ("parts"), the photo's box in the canvas, its garments ("items") and id."""
    names = ccp_names(shared)
    lut = merge_lut(names)
    samples = []
    for photo_id in photo_ids(shared, split)[:limit]:
        img, lab = read(shared, photo_id)
        if lab.max() >= len(names):
            raise ValueError(f"ccp {photo_id:04d}: label {lab.max()} beyond labels.json's {len(names)} names")
        rgb, raw, box = fit(img, lab)
        semantic = np.where(raw == IGNORE, IGNORE, lut[raw]).astype(np.uint8)
        samples.append({"rgb": rgb, "semantic": semantic, "parts": raw, "box": box, "classes": CCP_CLASSES,
                        "items": items(img, lab, raw, names), "ccp_id": photo_id})
    return samples


def outline(s):
    """The sample as a two-class source: "person" over every non-null pixel, IGNORE outside the photo."""
    person = np.where(s["parts"] == IGNORE, IGNORE, (s["parts"] != 0).astype(np.uint8)).astype(np.uint8)
    return {"rgb": s["rgb"], "semantic": person, "classes": OUTLINE_CLASSES}


def article(name, definite):
    if name in PLURAL:
        return "the " if definite else ""
    return "the " if definite else ("an " if name[0] in "aeiou" else "a ")


def item_words(item, rng):
    """`{colour} {name}` (the colour only when named, and then half the time)."""
    if item["colour"] and rng.random() < 0.5:
        return f"{item['colour']} {item['name']}"
    return item["name"]


def person_phrase(item, rng):
    words = item_words(item, rng)
    template = rng.choice(CARRY_TEMPLATES if item["name"] in CARRIED else PERSON_TEMPLATES)
    first = words.split()[0]
    a = "" if item["name"] in PLURAL else ("an " if first[0] in "aeiou" else "a ")
    the = "the " if item["name"] not in PLURAL or rng.random() < 0.5 else ""
    return template.format(a=a, the=the, item=words)


def referring_example(s, rng):
    """A referring example (as Mixture.referring makes): the person by one garment, or 1-3 garments by name.
    None when the photo has no garment big enough."""
    big = [i for i in s["items"] if i["pixels"] >= ITEM_MIN_PIXELS]
    if not big:
        return None
    outside = s["parts"] == IGNORE
    if rng.random() < PERSON_SHARE:
        item = rng.choice(big)
        target = ((s["parts"] != 0) & ~outside).astype(np.uint8)
        phrases = [person_phrase(item, rng)]
    else:
        chosen = rng.sample(big, rng.randint(1, min(3, len(big))))
        target = np.zeros(s["parts"].shape, np.uint8)
        phrases = []
        for k, item in enumerate(chosen):
            target[s["parts"] == item["label"]] = k + 1
            phrases.append(rng.choice(ITEM_TEMPLATES).format(item=item_words(item, rng)))
    target[outside] = IGNORE
    return {"rgb": s["rgb"], "target": target, "phrases": phrases, "slots": [0] * len(phrases), "flip_ok": True}


def expression_words(names):
    """Every word the referring templates can write (for the training phrase table), from CCP's `names`."""
    text = " ".join(PERSON_TEMPLATES + CARRY_TEMPLATES + ITEM_TEMPLATES + COLOURS)
    text += " " + " ".join(n for n in names if n not in NOT_ITEMS)
    text = text.replace("{a}", " ").replace("{the}", " ").replace("{item}", " ")
    return {w for w in normalize(text).split() if len(w) >= 2 and w not in STOPWORDS}
