"""Draws the page's app icons (static/icon-192.png, static/icon-512.png): the depth colormap's
walk through the RGB cube (black, red, yellow, green, cyan, blue, magenta, white) as rings, near
in the middle. `.venv/bin/python scripts/make-icons.py` (Pillow)."""
from PIL import Image, ImageDraw

WALK = [(0, 0, 0), (255, 0, 0), (255, 255, 0), (0, 255, 0), (0, 255, 255), (0, 0, 255), (255, 0, 255), (255, 255, 255)]

for size in (192, 512):
    icon = Image.new("RGB", (size, size), WALK[-1])
    draw = ImageDraw.Draw(icon)
    for i, colour in enumerate(reversed(WALK[1:])):  # far (white) outside, near (red) inside
        inset = round(size * 0.06 * (i + 1))
        draw.ellipse((inset, inset, size - inset, size - inset), fill=colour)
    icon.save(f"static/icon-{size}.png", optimize=True)
