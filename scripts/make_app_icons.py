"""Draw the web app's PNG icons from the favicon's shapes (static/favicon.svg).

Run once after changing the logo; the PNGs are committed:
    .venv/bin/python scripts/make_app_icons.py

The favicon is a 32-unit square: an indigo rounded square (radius 8) holding a white
speech bubble. Pillow has no SVG renderer, so the same shapes are drawn here, at 4x
and scaled down for smooth edges.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "src" / "parley" / "static" / "pwa"
INDIGO = (79, 70, 229, 255)
WHITE = (255, 255, 255, 255)
SUPERSAMPLE = 4
# The bubble, in the favicon's 32-unit square: M8 10h16v10H14l-5 4v-4H8z
BUBBLE = [(8, 10), (24, 10), (24, 20), (14, 20), (9, 24), (9, 20), (8, 20)]


def draw(size: int, *, rounded: bool, content: float) -> Image.Image:
    """One icon `size` pixels square. `rounded`: the favicon's rounded corners (else a
    full-bleed square, for maskable and Apple icons); `content`: the share of the width
    the favicon's 32 units take (1.0 = as drawn; less keeps a maskable icon's bubble
    inside the safe zone)."""
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if rounded:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 8 // 32, fill=INDIGO)
    else:
        pen.rectangle((0, 0, big - 1, big - 1), fill=INDIGO)
    unit = big * content / 32
    offset = big * (1 - content) / 2
    pen.polygon([(offset + x * unit, offset + y * unit) for x, y in BUBBLE], fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size, rounded=True, content=1.0).save(OUT / f"icon-{size}.png", optimize=True)
    # Maskable: the platform cuts its own shape; the bubble stays in the central 80%.
    draw(512, rounded=False, content=0.8).save(OUT / "icon-maskable-512.png", optimize=True)
    # iOS rounds the corners itself and shows transparency as black: full bleed.
    apple = draw(180, rounded=False, content=0.9).convert("RGB")
    apple.save(OUT / "apple-touch-icon.png", optimize=True)


if __name__ == "__main__":
    main()
