"""Draw frames as QR symbols (SVG for the PWA, PNG for tests) with segno.

segno beat qrcode on this machine by about 1.6x in frames per second and
7x in SVG size (bench/qr_render.py, figures in docs/qr.md). Frames are drawn
in alphanumeric mode when they can be: UR is upper-cased for it
(BCR-2020-005, "QR codes") and BBQr requires it. A whole sequence is drawn at
one version, because a symbol that changes size between frames is jarring
and makes cameras refocus (BBQr.md, "Notes").
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

import segno

from .capacity import ALPHANUMERIC, min_version


def qr_text(frame: str) -> str:
    """The text to put in the symbol: URs upper-cased for alphanumeric mode."""
    return frame.upper() if frame[:3].lower() == "ur:" else frame


def sequence_version(frames: Iterable[str], ecc: str = "L") -> int:
    """The one version that holds every frame of a sequence."""
    return max(min_version(qr_text(frame), ecc) for frame in frames)


@dataclass(frozen=True)
class FrameRenderer:
    version: int
    ecc: str = "L"
    scale: int = 4
    border: int = 4  # the quiet zone the QR standard asks for

    def symbol(self, frame: str) -> segno.QRCode:
        text = qr_text(frame)
        mode = "alphanumeric" if set(text) <= ALPHANUMERIC else "byte"
        # A later fountain part may need more room (a longer seqNum); grow
        # only that frame rather than failing.
        version = max(self.version, min_version(text, self.ecc))
        return segno.make_qr(text, version=version, error=self.ecc.lower(), mode=mode,
                             boost_error=False)

    def to_svg(self, frame: str) -> str:
        out = io.BytesIO()
        self.symbol(frame).save(out, kind="svg", scale=self.scale, border=self.border,
                                xmldecl=False)
        return out.getvalue().decode("utf-8")

    def to_png(self, frame: str) -> bytes:
        out = io.BytesIO()
        self.symbol(frame).save(out, kind="png", scale=self.scale, border=self.border)
        return out.getvalue()
