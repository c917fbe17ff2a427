"""Animated QR: UR (``crypto-psbt``) and BBQr, encoders, decoders and frames.

A domain core: plain bytes and strings in and out, no web or device code.
Importing the package registers its error codes (``errors.py``).
"""

from __future__ import annotations

from . import errors  # noqa: F401  (registers the qr_* error codes)
from .bbqr import BBQrJoiner, BBQrPart, BBQrSeries
from .presets import PRESETS, AnimationSettings, Density, density
from .stream import Progress, StreamDecoder
from .ur import URDecoder, UREncoder, URPart, encoder_for_psbt

__all__ = [
    "AnimationSettings", "BBQrJoiner", "BBQrPart", "BBQrSeries", "Density", "PRESETS",
    "Progress", "StreamDecoder", "UREncoder", "URDecoder", "URPart", "density",
    "encoder_for_psbt",
]
