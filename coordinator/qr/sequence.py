"""A PSBT as a sequence of frames: the one entry point for showing a PSBT.

UR sequences are rateless: after the ``seq_len`` plain fragments, every
further frame is a new fountain mix, so a display should keep asking the
encoder for more frames rather than loop. BBQr sequences are fixed and loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from . import bbqr
from .errors import BadPart
from .payload import PSBT_MAGIC
from .presets import AnimationSettings, Density
from .render import sequence_version
from .ur import UREncoder, encoder_for_psbt

FORMATS = ("ur", "bbqr")


@dataclass(frozen=True)
class FrameSequence:
    format: str
    frames: tuple[str, ...]
    version: int  # the QR version every frame is drawn at

    def __len__(self) -> int:
        return len(self.frames)


def psbt_frames(psbt: bytes, fmt: str, density: Density,
                settings: AnimationSettings = AnimationSettings(),
                count: int | None = None) -> FrameSequence:
    """Frames for ``psbt``; for UR, ``count`` frames (default one full cycle)."""
    if not psbt.startswith(PSBT_MAGIC):
        raise BadPart("qr_not_psbt", "input is not a PSBT")
    if fmt == "ur":
        encoder = encoder_for_psbt(psbt, density.ur_fragment_len)
        frames = tuple(_take(ur_frames(encoder), count or encoder.seq_len))
        return FrameSequence("ur", frames, sequence_version(frames, settings.ecc))
    if fmt == "bbqr":
        series = bbqr.serialize(psbt, "P", max_version=density.qr_version,
                                ecc=settings.ecc)
        return FrameSequence("bbqr", series.parts, series.version)
    raise ValueError(f"unknown QR format {fmt!r} (use {', '.join(FORMATS)})")


def ur_frames(encoder: UREncoder) -> Iterator[str]:
    """The endless frame stream a display shows."""
    while True:
        yield encoder.next_part()


def _take(frames: Iterator[str], count: int) -> list[str]:
    return [next(frames) for _ in range(count)]
