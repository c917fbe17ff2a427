"""Recognise a PSBT given as binary, base64 or hex (files, stdin, bare QRs)."""

from __future__ import annotations

import base64
import binascii

from .errors import BadPart

PSBT_MAGIC = b"psbt\xff"
_B64_MAGIC = b"cHNidP8"  # base64 of the magic


def parse_psbt(raw: bytes, max_len: int) -> bytes:
    """The PSBT bytes in ``raw``; only the container is checked, not the PSBT."""
    if raw.startswith(PSBT_MAGIC):
        psbt = raw
    else:
        psbt = _decode_text(raw.strip(), max_len)
    if len(psbt) > max_len:
        raise BadPart("qr_too_large", f"PSBT of {len(psbt)} bytes exceeds {max_len}",
                      limit=max_len)
    return psbt


def _decode_text(text: bytes, max_len: int) -> bytes:
    if len(text) > 2 * max_len:
        raise BadPart("qr_too_large", f"PSBT text exceeds {max_len} bytes", limit=max_len)
    try:
        if text.startswith(_B64_MAGIC):
            return base64.b64decode(b"".join(text.split()), validate=True)
        if text[:10].lower() == PSBT_MAGIC.hex().encode():
            return bytes.fromhex(text.decode("ascii"))
    except (binascii.Error, ValueError):
        raise BadPart("qr_not_psbt", "PSBT text is not valid base64 or hex") from None
    raise BadPart("qr_not_psbt", "not a PSBT (expected binary, base64 or hex)")
