"""``huddle qr``: show a PSBT as animated-QR frame strings, or read them back."""

from __future__ import annotations

import base64
import sys

import click

from .io import read_payload

# The core's choices as plain strings, so that listing the commands loads no QR
# code; tests/cli/test_startup.py keeps them equal to qr.sequence.FORMATS,
# qr.presets.PRESETS / DEFAULT_DENSITY and qr.capacity.ECC_LEVELS.
FORMATS = ("ur", "bbqr")
DENSITIES = ("low", "medium", "high")
DEFAULT_DENSITY = "medium"
ECC_LEVELS = ("L", "M", "Q", "H")


@click.group("qr")
def group() -> None:
    """Animated QR codes (UR crypto-psbt and BBQr) for air-gapped signers."""


@group.command("encode")
@click.argument("file")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="ur", show_default=True,
              help="UR crypto-psbt (most signers) or BBQr (Coldcard Q).")
@click.option("--density", type=click.Choice(DENSITIES), default=DEFAULT_DENSITY, show_default=True,
              help="Frame size: low for Jade/SeedSigner, high for Keystone/Passport.")
@click.option("--ecc", type=click.Choice(ECC_LEVELS), default="L", show_default=True,
              help="QR error correction level.")
@click.option("--frames", "count", type=click.IntRange(1, 100_000),
              help="UR only: how many frames to print (default: one of each fragment).")
@click.option("--compact", "device", metavar="DEVICE",
              help="Leave out the segwit inputs' non_witness_utxo, for a device documented to sign "
                   "without it (seedsigner, krux, jade; docs/qr.md).")
def encode(file: str, fmt: str, density: str, ecc: str, count: int | None, device: str | None) -> None:
    """Print the frames for the PSBT in FILE, one per line.

    FILE holds the PSBT as binary, base64 or hex; '-' reads stdin.
    """
    from ..qr import presets
    from ..qr.payload import parse_psbt
    from ..qr.sequence import psbt_frames
    from ..qr.stream import DEFAULT_MAX_MESSAGE_LEN

    # hex text is twice the PSBT's size
    psbt = parse_psbt(read_payload(file, 2 * DEFAULT_MAX_MESSAGE_LEN + 1), DEFAULT_MAX_MESSAGE_LEN)
    if device:
        from ..psbt import codec
        from ..qr.compact import compact_psbt, require_documented

        psbt = codec.serialize(compact_psbt(codec.parse(psbt), require_documented(device)))
    settings = presets.AnimationSettings(ecc=ecc)
    for frame in psbt_frames(psbt, fmt, presets.density(density), settings, count).frames:
        click.echo(frame)


@group.command("decode")
def decode() -> None:
    """Read frame strings on stdin (any order, repeats fine); print the PSBT in base64."""
    from ..qr.stream import MAX_FRAME_LEN, StreamDecoder

    decoder = StreamDecoder()
    while not decoder.complete:
        line = sys.stdin.readline(MAX_FRAME_LEN + 2)
        if not line:
            break
        if line.strip():
            decoder.receive(line)
    click.echo(base64.b64encode(decoder.psbt).decode("ascii"))
