"""Measure segno against qrcode for rendering animated-QR frames.

Renders the same uppercase UR frames (alphanumeric mode, ECC L, a fixed
version per preset) with both libraries to SVG and to PNG, and prints frames
per second and mean output size. Run from the repo root:

    PYTHONPATH=. python bench/qr_render.py
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import qrcode  # noqa: E402
import qrcode.image.svg  # noqa: E402
import segno  # noqa: E402

from coordinator.qr.capacity import min_version  # noqa: E402
from coordinator.qr.presets import PRESETS  # noqa: E402
from coordinator.qr.ur import encoder_for_psbt  # noqa: E402
from tests.qr.psbt_samples import build_psbt  # noqa: E402

SCALE = 4
BORDER = 4


def frames_for(fragment_len: int, count: int) -> list[str]:
    encoder = encoder_for_psbt(build_psbt(10), fragment_len)
    return [encoder.next_part().upper() for _ in range(count)]


def segno_svg(text: str, version: int) -> bytes:
    out = io.BytesIO()
    segno.make_qr(text, version=version, error="l", mode="alphanumeric",
                  boost_error=False).save(out, kind="svg", scale=SCALE, border=BORDER,
                                          xmldecl=False, svgns=True)
    return out.getvalue()


def segno_png(text: str, version: int) -> bytes:
    out = io.BytesIO()
    segno.make_qr(text, version=version, error="l", mode="alphanumeric",
                  boost_error=False).save(out, kind="png", scale=SCALE, border=BORDER)
    return out.getvalue()


def _qrcode(text: str, version: int, factory=None) -> qrcode.QRCode:
    qr = qrcode.QRCode(version=version, error_correction=qrcode.constants.ERROR_CORRECT_L,
                       box_size=SCALE, border=BORDER, image_factory=factory)
    qr.add_data(qrcode.util.QRData(text, mode=qrcode.util.MODE_ALPHA_NUM))
    qr.make(fit=False)
    return qr


def qrcode_svg(text: str, version: int) -> bytes:
    out = io.BytesIO()
    _qrcode(text, version, qrcode.image.svg.SvgPathImage).make_image().save(out)
    return out.getvalue()


def qrcode_png(text: str, version: int) -> bytes:
    out = io.BytesIO()
    _qrcode(text, version).make_image().save(out)
    return out.getvalue()


def measure(render, frames: list[str], version: int) -> tuple[float, float]:
    start = time.perf_counter()
    sizes = [len(render(text, version)) for text in frames]
    elapsed = time.perf_counter() - start
    return len(frames) / elapsed, sum(sizes) / len(sizes)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    print(f"{count} frames per cell, scale {SCALE}, border {BORDER}, ECC L, alphanumeric")
    print(f"{'preset':8} {'ver':>3} {'library':8} {'kind':4} {'frames/s':>9} {'bytes/frame':>11}")
    for preset in PRESETS.values():
        frames = frames_for(preset.ur_fragment_len, count)
        version = max(min_version(text) for text in frames)
        for name, svg, png in (("segno", segno_svg, segno_png),
                               ("qrcode", qrcode_svg, qrcode_png)):
            for kind, render in (("svg", svg), ("png", png)):
                fps, size = measure(render, frames, version)
                print(f"{preset.name:8} {version:>3} {name:8} {kind:4} {fps:9.1f} {size:11.0f}")


if __name__ == "__main__":
    main()
