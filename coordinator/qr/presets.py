"""Density presets and animation settings for showing a PSBT as animated QR.

Fragment sizes follow what air-gapped signers scan reliably from a phone or
laptop screen: the low preset suits the small cameras of Jade and SeedSigner,
medium suits most signers, high suits Keystone and Passport. ``qr_version``
is about the version an uppercase ``ur:crypto-psbt`` frame of that preset
needs in alphanumeric mode at ECC L (docs/qr.md has the measured figures).
BBQr picks its own version by the BBQr.md rule (fewest QRs, then the lowest
version), with ``qr_version`` as the ceiling so a preset means one density
for both formats.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidInput
from .capacity import ECC_LEVELS


@dataclass(frozen=True)
class Density:
    name: str
    ur_fragment_len: int
    qr_version: int


PRESETS: dict[str, Density] = {
    "low": Density("low", 80, 7),
    "medium": Density("medium", 200, 11),
    "high": Density("high", 400, 16),
}
DEFAULT_DENSITY = "medium"


def density(name: str) -> Density:
    try:
        return PRESETS[name]
    except KeyError:
        raise InvalidInput("bad_config", f"unknown QR density {name!r} "
                           f"(use {', '.join(PRESETS)})") from None


@dataclass(frozen=True)
class AnimationSettings:
    """How frames are shown: frames per second and QR error correction."""

    fps: float = 5.0
    ecc: str = "L"  # BBQr.md: screens need no more; higher levels cost density

    def __post_init__(self) -> None:
        if not 1 <= self.fps <= 30:
            raise InvalidInput("bad_config", f"QR frame rate {self.fps} outside 1..30 fps")
        if self.ecc not in ECC_LEVELS:
            raise InvalidInput("bad_config", f"QR ECC level {self.ecc!r} is not L, M, Q or H")

    @property
    def frame_seconds(self) -> float:
        return 1 / self.fps
