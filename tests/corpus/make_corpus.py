#!/usr/bin/env python3
"""Generates Peel's bad-input corpus (issue 10) and writes the expected outcome of each file.

    python tests/corpus/make_corpus.py OUT_DIR

Writes OUT_DIR/<name> for every case and OUT_DIR/manifest.json: a list of cases, each
{"name", "file", "kind" (what it is), "command" (run | decode | metrics), "args" (the peel
arguments; {file} is the corpus file, {out} an output path in a scratch folder, {gt} etc. other
corpus files), "expect": "ok" or "error", "message" (for errors: a regex the one-line message must
match), "size" ([width, height] the result must have, for ok), "same_as" (the painting must equal
that case's, pixel for pixel), "page" (where the page's outcome differs from the CLI's: its own
"expect" and "size")}. tests/corpus/run_corpus.py runs them; the browser suite drops every photo
case on the page. Deterministic: fixed seeds,
so the same files every time. Needs Pillow and numpy (train/requirements.txt).
"""

import io
import json
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

DEPTH = "Generate a metric depth map of the input image."
NORMALS = "Generate a surface normal map of the input image."
SEMANTIC = 'Generate a semantic segmentation visualization image, using this color mapping: {"cat": "red", "sky": "blue", "grass": "lime"}'
INSTANCE = "Generate an instance segmentation visualization of this image. Each person is colored differently."
REFERRING = "A segmentation map image. The cup is rendered in red; the cat is rendered in cyan."

NOT_IMAGE = r"not an image \("
CORRUPT = r"(truncated or corrupt|not supported)"
TOO_LARGE = r"too large: .*the limit is 64 megapixels and 30000 pixels a side"


def png_chunk(kind: bytes, data: bytes, crc=None) -> bytes:
    crc = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc & 0xFFFFFFFF)


def png_raw(width, height, depth, colour, rows_bytes: bytes, extra=b"") -> bytes:
    """A PNG from already-filtered row bytes (each row starts with its filter byte)."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra + png_chunk(b"IDAT", zlib.compress(rows_bytes, 9)) + png_chunk(b"IEND", b"")


def png_header_only(width, height) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IEND", b"")


def bomb_png(width, height, depth, colour, channels) -> bytes:
    """A real decompression bomb: all-zero rows, compressed in a stream (never held whole)."""
    row = b"\x00" * (1 + (width * channels * depth + 7) // 8)
    comp = zlib.compressobj(9)
    parts = []
    block = row * max(1, (1 << 22) // len(row))
    rows_per_block = len(block) // len(row)
    done = 0
    while done < height:
        n = min(rows_per_block, height - done)
        parts.append(comp.compress(block if n == rows_per_block else row * n))
        done += n
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", b"".join(parts)) + png_chunk(b"IEND", b"")


def photo(width, height, seed=0) -> Image.Image:
    """A textured test photo: sky, ground, a box, some noise; asymmetric so rotations show."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.zeros((height, width, 3), np.float32)
    sky = y < height * 0.4
    img[sky] = [120, 170, 230]
    img[~sky] = np.stack([60 + 80 * (y[~sky] / height), 120 + 0 * y[~sky], 60 + 40 * (x[~sky] / width)], -1)
    box = (x > width * 0.15) & (x < width * 0.4) & (y > height * 0.5) & (y < height * 0.85)
    img[box] = [40, 30, 30]
    img += rng.normal(0, 6, img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def exif_bytes(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


# The inverse of each EXIF orientation: store inverse(display), tag k; a viewer applying k shows `display`.
INVERSE = {
    1: lambda im: im,
    2: lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    3: lambda im: im.transpose(Image.Transpose.ROTATE_180),
    4: lambda im: im.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
    5: lambda im: im.transpose(Image.Transpose.TRANSPOSE),
    6: lambda im: im.transpose(Image.Transpose.ROTATE_90),  # stored turned 90° counter-clockwise
    7: lambda im: im.transpose(Image.Transpose.TRANSVERSE),
    8: lambda im: im.transpose(Image.Transpose.ROTATE_270),
}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    cases = []

    def add(name, data, command="run", expect="ok", message=None, size=None, kind="", args=None, same_as=None, page=None):
        (out / name).write_bytes(data)
        case = {"name": name, "file": name, "kind": kind, "command": command, "expect": expect}
        if page:
            case["page"] = page
        if args is None:
            args = {"run": ["run", "{file}", "--prompt", DEPTH, "--out", "{out}.png"]}.get(command)
        case["args"] = args
        if message:
            case["message"] = message
        if size:
            case["size"] = list(size)
        if same_as:
            case["same_as"] = same_as
        cases.append(case)

    base = photo(160, 120)
    png = encode(base, "PNG")
    jpeg = encode(base, "JPEG", quality=90)
    webp = encode(base, "WEBP", quality=80)
    rng = np.random.default_rng(10)

    # Not images at all.
    add("empty.png", b"", expect="error", message=r"the file is empty \(0 bytes\)", kind="zero bytes")
    add("one-byte.jpg", b"\xff", expect="error", message=NOT_IMAGE, kind="1 byte")
    add("text.png", b"Just some notes, not a photo.\n" * 4, expect="error", message="text file", kind="text with .png")
    add("page.jpg", b"<!DOCTYPE html><html><body><img src=x></body></html>\n", expect="error", message="HTML page", kind="HTML with .jpg")
    add("drawing.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>', expect="error", message="SVG drawing", kind="SVG with .png")
    for seed in range(3):
        add(f"random-{seed}.jpg", np.random.default_rng(seed).integers(0, 256, 4096, dtype=np.uint8).tobytes(), expect="error", message=NOT_IMAGE, kind="random bytes")
    add("random-png-magic.png", b"\x89PNG\r\n\x1a\n" + rng.integers(0, 256, 2048, dtype=np.uint8).tobytes(), expect="error", message=CORRUPT, kind="PNG magic, random body")

    # Truncated files.
    for cut in [8, 33, len(png) // 2, len(png) - 12]:
        add(f"truncated-png-{cut}.png", png[:cut], expect="error", message=CORRUPT, kind=f"PNG cut at byte {cut} of {len(png)}")
    # Two bytes (FF D8) are too few to recognise a JPEG at all (its signature is FF D8 FF).
    add("truncated-jpeg-2.jpg", jpeg[:2], expect="error", message=r"not an image \(unrecognised content starting ff d8\)", kind=f"JPEG cut at byte 2 of {len(jpeg)}")
    add("truncated-jpeg-200.jpg", jpeg[:200], expect="error", message=CORRUPT, kind=f"JPEG cut at byte 200 of {len(jpeg)}")
    # Cut inside the scan: decoders (like browsers) show what arrived and fill the rest.
    add("truncated-jpeg-half.jpg", jpeg[: len(jpeg) // 2], expect="ok", size=(160, 120), kind=f"JPEG cut in its scan ({len(jpeg) // 2} of {len(jpeg)})")
    for cut in [12, 30, len(webp) // 2]:
        add(f"truncated-webp-{cut}.webp", webp[:cut], expect="error", message=CORRUPT, kind=f"WebP cut at byte {cut} of {len(webp)}")

    # Bad CRCs and garbled scans.
    bad_crc = bytearray(png)
    idat = bad_crc.index(b"IDAT")
    length = struct.unpack(">I", bad_crc[idat - 4 : idat])[0]
    bad_crc[idat + 4 + length] ^= 0xFF
    add("bad-crc-idat.png", bytes(bad_crc), expect="error", message=CORRUPT, kind="IDAT CRC wrong")
    bad_ihdr = bytearray(png)
    bad_ihdr[29] ^= 0xFF  # last CRC byte of IHDR (8 magic + 4 len + 4 type + 13 data)
    add("bad-crc-ihdr.png", bytes(bad_ihdr), expect="error", message=CORRUPT, kind="IHDR CRC wrong")
    sos = jpeg.index(b"\xff\xda")
    garbled = bytearray(jpeg)
    noise = np.random.default_rng(3).integers(0, 255, 400, dtype=np.uint8).tobytes()  # no 0xff: no fake markers
    garbled[sos + 200 : sos + 600] = noise
    add("garbled-jpeg-scan.jpg", bytes(garbled), expect="ok", size=(160, 120), kind="JPEG scan overwritten with noise (decodes to garbage pixels, as in browsers)")
    # Found by the `photo` fuzz target: a colour plane sampled more finely than the first, on
    # which zune-jpeg's upsampler panicked. Refused by Peel's decoder; the page asks the browser's.
    panics = (Path(__file__).parents[2] / "crates/peel-model/tests/fixtures/fuzz-photo-upsampler-panic.jpg").read_bytes()
    add("fuzz-upsampler-panic.jpg", panics, expect="error", message=r"colour plane 2 sampled 2×2, more finely than the first.* not supported",
        kind="progressive JPEG, chroma sampled finer than luma (the JPEG decoder panicked on it; fuzzing)")

    # Headers that lie about the size.
    add("claims-0x0.png", png_header_only(0, 0), expect="error", message=r"(at least 1×1|truncated or corrupt)", kind="PNG IHDR 0×0")
    add("claims-100000x100000.png", png_header_only(100_000, 100_000), expect="error", message=TOO_LARGE, kind="PNG IHDR 100000×100000, no data")
    add("claims-2pow31.png", png_header_only(65_536, 32_768), expect="error", message=TOO_LARGE, kind="PNG IHDR 65536×32768 = 2^31 px")
    sof = bytearray(jpeg)
    at = sof.index(b"\xff\xc0")
    sof[at + 5 : at + 9] = struct.pack(">HH", 65_000, 65_000)
    add("claims-65000x65000.jpg", bytes(sof), expect="error", message=TOO_LARGE, kind="JPEG SOF 65000×65000")
    gif_big = bytearray(encode(base.convert("P"), "GIF"))
    gif_big[6:10] = struct.pack("<HH", 65_535, 65_535)
    # The logical screen alone is not the frame size; make the frame claim it too.
    frame = gif_big.index(b"\x2c")
    gif_big[frame + 5 : frame + 9] = struct.pack("<HH", 65_535, 65_535)
    add("claims-65535x65535.gif", bytes(gif_big), expect="error", message=TOO_LARGE, kind="GIF frame 65535×65535")
    bmp_big = bytearray(encode(base, "BMP"))
    bmp_big[18:26] = struct.pack("<ii", 50_000, 50_000)
    add("claims-50000x50000.bmp", bytes(bmp_big), expect="error", message=TOO_LARGE, kind="BMP header 50000×50000")

    # Decompression bombs.
    add("bomb-1bit-100000.png", bomb_png(100_000, 100_000, 1, 0, 1), expect="error", message=TOO_LARGE, kind="1-bit 100000×100000: 1.25 GB of zlib data, 10 Gpx")
    add("bomb-grey-20000.png", bomb_png(20_000, 20_000, 8, 0, 1), expect="error", message=TOO_LARGE, kind="8-bit grey 20000×20000: 400 MB inflated, 1.2 GB as RGB")

    # Every PNG colour type and depth.
    add("grey.png", encode(base.convert("L"), "PNG"), size=(160, 120), kind="8-bit grey PNG")
    add("grey-alpha.png", encode(base.convert("LA"), "PNG"), size=(160, 120), kind="grey + alpha PNG")
    add("palette.png", encode(base.convert("P", palette=Image.Palette.ADAPTIVE, colors=64), "PNG"), size=(160, 120), kind="palette PNG")
    add("one-bit.png", encode(base.convert("1"), "PNG"), size=(160, 120), kind="1-bit PNG")
    add("rgba.png", encode(base.convert("RGBA"), "PNG"), size=(160, 120), kind="RGBA PNG")
    grey16 = (np.asarray(base.convert("L"), np.uint16) * 257).astype(">u2")
    rows = b"".join(b"\x00" + r.tobytes() for r in grey16)
    add("grey16.png", png_raw(160, 120, 16, 0, rows), size=(160, 120), kind="16-bit grey PNG")
    rgb16 = (np.asarray(base, np.uint16) * 257).astype(">u2")
    rows = b"".join(b"\x00" + r.tobytes() for r in rgb16)
    add("rgb16.png", png_raw(160, 120, 16, 2, rows), size=(160, 120), kind="16-bit RGB PNG")

    # JPEG variants.
    add("cmyk.jpg", encode(base.convert("CMYK"), "JPEG", quality=90), size=(160, 120), kind="CMYK JPEG")
    add("grey.jpg", encode(base.convert("L"), "JPEG", quality=90), size=(160, 120), kind="greyscale JPEG")
    add("progressive.jpg", encode(base, "JPEG", quality=90, progressive=True), size=(160, 120), kind="progressive JPEG")

    # Other formats: what browsers read (GIF, WebP, BMP) is read; TIFF and AVIF are refused by name.
    frames = [photo(160, 120, seed) for seed in range(3)]
    add("animated.gif", encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0), size=(160, 120), kind="animated GIF (first frame)")
    add("animated.webp", encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0), size=(160, 120), kind="animated WebP (first frame)")
    add("lossless.webp", encode(base, "WEBP", lossless=True), size=(160, 120), kind="lossless WebP")
    add("photo.bmp", encode(base, "BMP"), size=(160, 120), kind="BMP")
    add("photo.tiff", encode(base, "TIFF"), expect="error", message=r"TIFF images are not supported", kind="TIFF")
    # The page reads what its browser reads: the worker hands AVIF (and HEIC in Safari) to the
    # browser's own decoder, so there a real AVIF paints ("page" overrides the expectation).
    try:
        avif, page = encode(base, "AVIF"), {"expect": "ok", "size": [160, 120]}
    except Exception:  # Pillow without AVIF: the container header is enough to be recognised
        avif, page = struct.pack(">I", 28) + b"ftypavif" + b"\x00\x00\x00\x00" + b"avifmif1miaf" + b"\x00" * 64, None
    add("photo.avif", avif, expect="error", message=r"AVIF images are not supported", kind="AVIF", page=page)

    # EXIF orientations: each file stores the same displayed photo turned by the inverse of its tag,
    # so after the orientation is applied all eight paint exactly like orientation 1 (PNG: lossless).
    display = photo(96, 64, 7)
    for k in range(1, 9):
        stored = INVERSE[k](display)
        size = (96, 64)
        add(f"exif-{k}.png", encode(stored, "PNG", exif=exif_bytes(k)), size=size, kind=f"PNG, EXIF orientation {k} (stored {stored.size[0]}×{stored.size[1]})", same_as=None if k == 1 else "exif-1.png")
        add(f"exif-{k}.jpg", encode(stored, "JPEG", quality=95, exif=exif_bytes(k)), size=size, kind=f"JPEG, EXIF orientation {k} (stored {stored.size[0]}×{stored.size[1]})")
    add("exif-invalid-9.jpg", encode(display.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=95, exif=exif_bytes(9)), size=(64, 96), kind="EXIF orientation 9 (invalid: ignored)")
    garbage = b"Exif\x00\x00" + np.random.default_rng(5).integers(0, 256, 300, dtype=np.uint8).tobytes()
    j = encode(display, "JPEG", quality=95)
    add("exif-garbage.jpg", j[:2] + b"\xff\xe1" + struct.pack(">H", len(garbage) + 2) + garbage + j[2:], size=(96, 64), kind="APP1 Exif with random bytes (ignored)")
    tiff_lie = b"Exif\x00\x00MM\x00\x2a\xff\xff\xff\xf0"  # IFD offset points far past the end
    add("exif-bad-offset.jpg", j[:2] + b"\xff\xe1" + struct.pack(">H", len(tiff_lie) + 2) + tiff_lie + j[2:], size=(96, 64), kind="EXIF IFD offset past the end (ignored)")

    # Extreme shapes and flat images.
    add("1x1.png", encode(photo(1, 1), "PNG"), size=(1, 1), kind="1×1")
    add("1x4000.png", encode(photo(1, 4000), "PNG"), size=(1, 4000), kind="1×4000")
    add("6000x2.png", encode(photo(6000, 2), "PNG"), size=(6000, 2), kind="6000×2")
    add("6000x4000.jpg", encode(photo(6000, 4000, 1), "JPEG", quality=85), size=(6000, 4000), kind="6000×4000 (24 Mpx) JPEG")
    add("black.png", encode(Image.new("RGB", (320, 240), 0), "PNG"), size=(320, 240), kind="all black")
    add("white.jpg", encode(Image.new("RGB", (320, 240), (255, 255, 255)), "JPEG"), size=(320, 240), kind="all white")

    # Prompts for `peel run` that are too long or too many.
    long_prompt = DEPTH + " " + "very " * 2500
    add("prompt-too-long.png", png, expect="error", message=r"at most 10000 characters", kind="12.5k-character prompt",
        args=["run", "{file}", "--prompt", long_prompt, "--out", "{out}.png"])
    many = ", ".join(f'"c{i}": <{i % 256}, {i // 256}, 1>' for i in range(300))
    add("prompt-300-classes.png", png, expect="error", message=r"at most 256 classes", kind="300 semantic classes",
        args=["run", "{file}", "--prompt", f"using this color mapping: {{{many}}}", "--out", "{out}.png"])

    # Visualizations with random off-path colours, for `peel decode`.
    noise = Image.fromarray(np.random.default_rng(11).integers(0, 256, (96, 128, 3), dtype=np.uint8), "RGB")
    (out / "noise-viz.png").write_bytes(encode(noise, "PNG"))
    for task, prompt, ext in [("depth", None, "npy"), ("normals", None, "npy"), ("semantic", SEMANTIC, "png"), ("instance", INSTANCE, "png"), ("referring", REFERRING, "png")]:
        args = ["decode", task, "{file}", "--out", "{out}." + ext] + (["--prompt", prompt] if prompt else [])
        cases.append({"name": f"noise-viz.png ({task})", "file": "noise-viz.png", "kind": f"random colours decoded as {task}", "command": "decode", "expect": "ok", "size": [128, 96], "args": args})
    big_noise = Image.fromarray(np.random.default_rng(12).integers(0, 256, (1500, 2000, 3), dtype=np.uint8), "RGB")
    add("noise-viz-3mpx.png", encode(big_noise, "PNG"), command="decode", size=(2000, 1500), kind="2000×1500 random colours as instances (worst case for clustering)",
        args=["decode", "instance", "{file}", "--out", "{out}.png"])
    add("viz-text.png", b"not a visualization\n", command="decode", expect="error", message="text file", kind="text as a depth visualization",
        args=["decode", "depth", "{file}", "--out", "{out}.npy"])
    add("viz-truncated.png", png[: len(png) // 3], command="decode", expect="error", message=CORRUPT, kind="truncated visualization",
        args=["decode", "normals", "{file}", "--out", "{out}.npy"])

    # `peel metrics` inputs: a good depth map, a lying .npy header, a .npy that is text, a truncated .pfm.
    gt = np.linspace(0.5, 20, 96 * 128, dtype=np.float32).reshape(96, 128)
    buf = io.BytesIO()
    np.save(buf, gt)
    (out / "gt-depth.npy").write_bytes(buf.getvalue())
    cases.append({"name": "noise-viz.png (metrics depth)", "file": "noise-viz.png", "kind": "random colours scored as depth", "command": "metrics", "expect": "ok",
                  "args": ["metrics", "depth", "--pred", "{file}", "--gt", "{dir}/gt-depth.npy"]})
    text = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }"
    text += " " * (63 - (10 + len(text)) % 64) + "\n"
    header = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode()
    add("npy-claims-huge.npy", header + b"\x00" * 64, command="metrics", expect="error", message=r"truncated: shape \(100000, 100000\)", kind=".npy header claiming 10^10 floats, 64 bytes of data",
        args=["metrics", "depth", "--pred", "{dir}/noise-viz.png", "--gt", "{file}"])
    # Found by the `arrays` fuzz target: nested brackets made the .npy header parser take minutes.
    text = "{'descr': '<f4', 'fortran_order': False, 'shape': (96, 128), 'x': " + "[(1, " * 12 + "}"
    text += " " * (63 - (10 + len(text)) % 64) + "\n"
    header = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode()
    add("npy-nested-header.npy", header + gt.tobytes(), command="metrics", expect="error", message=r"header nests brackets \d+ deep", kind=".npy header nested 25 brackets deep (exponential parse)",
        args=["metrics", "depth", "--pred", "{dir}/noise-viz.png", "--gt", "{file}"])
    add("npy-text.npy", b"depth,values\n1,2\n", command="metrics", expect="error", message=r"not a valid \.npy", kind="text named .npy",
        args=["metrics", "depth", "--pred", "{dir}/noise-viz.png", "--gt", "{file}"])
    add("truncated.pfm", b"Pf\n128 96\n-1.0\n" + b"\x00" * 100, command="metrics", expect="error", message=r"truncated data", kind="PFM header for 128×96, 100 bytes of data",
        args=["metrics", "depth", "--pred", "{dir}/noise-viz.png", "--gt", "{file}"])
    add("pfm-huge.pfm", b"Pf\n4000000000 4000000000\n-1.0\n" + b"\x00" * 16, command="metrics", expect="error", message=r"(size|truncated|bad array size)", kind="PFM header claiming 4e9×4e9",
        args=["metrics", "depth", "--pred", "{dir}/noise-viz.png", "--gt", "{file}"])

    (out / "manifest.json").write_text(json.dumps(cases, indent=1) + "\n")
    print(f"{len(cases)} cases, {len(list(out.iterdir())) - 1} files in {out}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
