"""The forms a PSBT arrives in: binary, hex or base64 text, size-capped before decoding."""

from __future__ import annotations

import base64
import binascii
import re

from ..errors import InvalidInput
from .wire import malformed

MAX_PSBT_BYTES = 8 * 1024 * 1024  # the VPS has 1 GB; a 500-input 3-of-5 is ~0.6 MB
MAGIC = b"psbt\xff"


def detect_format(data: bytes | str) -> str:
    """"binary", "hex" or "base64"; anything else is not a PSBT."""
    head = data.lstrip()[:16].encode("ascii", "replace") if isinstance(data, str) else bytes(data[:64])
    if head.startswith(MAGIC):
        return "binary"
    head = head.lstrip()
    if head[:10].lower() == MAGIC.hex().encode():
        return "hex"
    if head.startswith(b"cHNidP"):
        return "base64"
    raise malformed("not a PSBT: expected base64 (cHNidP...), hex (70736274ff...) or binary")


def decode(data: bytes | str, max_size: int = MAX_PSBT_BYTES) -> bytes:
    """The PSBT's bytes, whatever form it came in; refuses more than ``max_size`` bytes."""
    if len(data) > 2 * max_size + 1024:  # hex doubles the size; refuse before decoding anything
        raise _too_large(len(data), max_size)
    data = _without_bom(data)
    kind = detect_format(data)
    if kind == "binary":
        raw = bytes(data)
    else:
        text = data if isinstance(data, str) else bytes(data).decode("ascii", "replace")
        raw = _from_text("".join(text.split()), kind)
    if len(raw) > max_size:
        raise _too_large(len(raw), max_size)
    return raw


def _without_bom(data: bytes | str) -> bytes | str:
    """Text saved by Windows editors starts with a UTF-8 BOM; wallet files accept one too.
    Only text: a BOM before a binary PSBT stays, and is refused."""
    if isinstance(data, str):
        return data[1:] if data.startswith("\ufeff") else data
    bom = b"\xef\xbb\xbf"
    return data[3:] if bytes(data[:3]) == bom and bytes(data[3:3 + len(MAGIC)]) != MAGIC else data


def _from_text(text: str, kind: str) -> bytes:
    try:
        if kind == "hex":
            return bytes.fromhex(text)
        if not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text):
            raise ValueError("characters outside base64")
        return base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise malformed(f"the PSBT is not valid {kind}") from None


def _too_large(size: int, max_size: int) -> InvalidInput:
    return InvalidInput("psbt_too_large", f"the PSBT is {size} bytes; the limit is {max_size}")
