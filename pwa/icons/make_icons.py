"""Draw the PWA's icons with Pillow: `python pwa/icons/make_icons.py`.

Three members (circles) around a shared key ring, on the app's dark blue. The
maskable icon keeps everything inside the central 80% safe zone (W3C
appmanifest, "maskable" purpose), on a full-bleed background. icon.svg is
the same drawing for browsers that take SVG.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
BACKGROUND, INK, RING = (22, 36, 52), (246, 183, 60), (236, 240, 244)
MEMBERS = ((0.5, 0.28), (0.27, 0.66), (0.73, 0.66))  # centres, as fractions of the drawing


def draw(size: int, scale: float, rounded: bool) -> Image.Image:
    """The drawing at ``size`` px, shrunk to ``scale`` of it around the centre."""
    big = size * 4  # draw large, then downsample: Pillow draws without anti-aliasing
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if rounded:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=BACKGROUND)
    else:
        pen.rectangle((0, 0, big, big), fill=BACKGROUND)
    box = big * scale
    left = (big - box) / 2

    def at(fx: float, fy: float) -> tuple[float, float]:
        return left + fx * box, left + fy * box

    cx, cy = at(0.5, 0.53)
    ring = box * 0.17
    pen.ellipse((cx - ring, cy - ring, cx + ring, cy + ring), outline=RING, width=int(box * 0.05))
    for fx, fy in MEMBERS:
        x, y = at(fx, fy)
        r = box * 0.13
        pen.ellipse((x - r, y - r, x + r, y + r), fill=INK)
    return image.resize((size, size), Image.LANCZOS)


SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
<rect width="100" height="100" rx="20" fill="rgb{bg}"/>
<circle cx="50" cy="53" r="17" fill="none" stroke="rgb{ring}" stroke-width="5"/>
{members}
</svg>
"""


def svg() -> str:
    members = "\n".join(f'<circle cx="{fx * 100:g}" cy="{fy * 100:g}" r="13" fill="rgb{INK}"/>'
                        for fx, fy in MEMBERS)
    return SVG.format(bg=BACKGROUND, ring=RING, members=members).replace(", ", ",")  # rgb(1,2,3)


def main() -> None:
    draw(192, 0.92, True).save(HERE / "icon-192.png", optimize=True)
    draw(512, 0.92, True).save(HERE / "icon-512.png", optimize=True)
    draw(512, 0.72, False).save(HERE / "maskable-512.png", optimize=True)
    draw(180, 0.72, False).save(HERE / "apple-touch-icon.png", optimize=True)
    (HERE / "icon.svg").write_text(svg(), encoding="utf-8")


if __name__ == "__main__":
    main()
