"""Per-device profiles for showing a PSBT as animated QR (issue 13).

A cosigner slot's device kind picks the format, density preset and frame rate
its device reads, and whether it gets the compact PSBT (compact.py). Each
entry names its source; where a setting is Huddle's own choice, the source says
so (docs/qr.md, "Device profiles", has the table and the reasoning). A device
that is not listed gets ``DEFAULT``, with the full PSBT.

The PWA holds the same table in pwa/js/qrprofiles.js (it picks the settings
before it asks for frames); tests/pwa/test_qr_profiles.py checks the two agree.
bench/qr_transfer.py measures every entry against the goal: a 10-input 2-of-3
PSBT within 8 s at p95 with 20% of frames lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .compact import COMPACT

# Sparrow shows every device UR with fragments of up to 400 bytes (our `high`) at
# 5 fps by default, and 80 (our `low`) on "Low" (sparrowwallet/sparrow@e7ae9cc
# QRDensity.java, QRDisplayDialog.java ANIMATION_PERIOD_MILLIS = 200).
SPARROW = "Sparrow's default for every device: UR, 400-byte fragments, 5 fps (QRDensity.NORMAL)"


@dataclass(frozen=True)
class Profile:
    format: str  # "ur" or "bbqr"
    density: str  # a preset name (presets.py)
    fps: int  # 2 to 10, the PWA's speed control
    compact: bool  # the compact PSBT (compact.py); only for a kind in compact.COMPACT
    source: str


PROFILES: dict[str, Profile] = {
    "keystone": Profile("ur", "high", 5, False,
                        "reads UR crypto-psbt; high is " + SPARROW + "; full PSBT: Keystone compares "
                        "non_witness_utxo with witness_utxo (keystone3-firmware wrapped_psbt.rs)"),
    "passport": Profile("ur", "high", 5, False,
                        "reads UR crypto-psbt, not BBQr; high is " + SPARROW + "; full PSBT: Passport "
                        "checks non_witness_utxo when present (passport2 psbt.py)"),
    "seedsigner": Profile("ur", "medium", 5, True,
                          "reads UR crypto-psbt; its camera runs at 5-6 fps (scan_screens.py), so 5 fps; "
                          "medium (V11) is our choice, between Sparrow's low and default; compact: "
                          + COMPACT["seedsigner"]),
    "krux": Profile("bbqr", "medium", 5, True,
                    "reads BBQr since 24.07.0 (CHANGELOG 'Add BBQr Support'; Sparrow offers BBQr for Krux); "
                    "QVGA camera (camera.py), so medium (V11) is our choice; compact: " + COMPACT["krux"]),
    "jade": Profile("ur", "medium", 5, True,
                    "reads UR crypto-psbt in QR mode (bcur.c), not BBQr; QVGA camera (camera.c), so medium "
                    "(V11) is our choice; compact: " + COMPACT["jade"]),
    "coldcard_q": Profile("bbqr", "high", 5, False,
                          "reads BBQr, not UR (shared/decoders.py); Sparrow picks BBQr for Coldcard and shows "
                          "parts of up to 2,000 characters (about V27), so high (V16) is within it; full PSBT: "
                          "Coldcard prefers non_witness_utxo when present (History-Q 1.4.1Q)"),
}
DEFAULT = Profile("ur", "high", 5, False,
                  "any other device: UR crypto-psbt, read by every documented signer; high is " + SPARROW
                  + "; the full PSBT")


def kind_of(device: str | None) -> str:
    """The profile key of a slot's device name ("Coldcard Q", "coldcard-q", "Q1" -> "coldcard_q")."""
    name = re.sub(r"[\s-]+", "_", str(device or "").strip().lower())
    return "coldcard_q" if name in ("coldcard_q", "coldcardq", "q1") else name


def profile_for(device: str | None) -> Profile:
    return PROFILES.get(kind_of(device), DEFAULT)
