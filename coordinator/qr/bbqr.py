"""BBQr (coinkite/BBQr, BBQr.md): a file split over alphanumeric QR codes.

Each frame is ``B$`` + encoding + file type + total (2 base36 digits) + index
(2 base36 digits) + data. Encodings: H (upper-case hex), 2 (RFC 4648 base32,
no padding) and Z (raw DEFLATE with a 10-bit window, then base32). Parts are
equal length except the last and each decodes to whole bytes, so a receiver
can place any part without the others.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import zlib
from dataclasses import dataclass

from .capacity import alphanumeric_capacity
from .errors import BadPart, UnsupportedPart

HEADER_LEN = 8
MAX_PARTS = 36 * 36 - 1  # "ZZ"
FILE_TYPES = {"P": "PSBT", "T": "transaction", "J": "JSON", "U": "UTF-8 text"}
ENCODINGS = {"H": "hex", "2": "base32", "Z": "zlib+base32"}
# Non-final parts must hold whole bytes: 2 hex digits or 8 base32 characters.
SPLIT_MOD = {"H": 2, "2": 8, "Z": 8}
_DATA_CHARS = {"H": re.compile("[0-9A-F]*"), "2": re.compile("[A-Z2-7]*"),
               "Z": re.compile("[A-Z2-7]*")}
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_WBITS = -10  # BBQr.md: zlib, wbits=10, no header (raw deflate)


@dataclass(frozen=True)
class BBQrPart:
    encoding: str
    file_type: str
    total: int
    index: int
    data: str

    @property
    def header(self) -> str:
        """The six characters every part of one series shares."""
        return f"B${self.encoding}{self.file_type}{_to_base36(self.total)}"

    def to_string(self) -> str:
        return f"{self.header}{_to_base36(self.index)}{self.data}"

    @classmethod
    def from_string(cls, text: str) -> BBQrPart:
        text = text.strip().upper()
        if len(text) < HEADER_LEN or not text.startswith("B$"):
            raise BadPart("qr_malformed_part", "not a BBQr frame (expected B$ and a header)")
        encoding, file_type = text[2], text[3]
        if encoding not in ENCODINGS:
            raise UnsupportedPart("qr_unknown_type", f"unknown BBQr encoding {encoding!r}")
        if file_type not in FILE_TYPES:
            raise UnsupportedPart("qr_unknown_type", f"BBQr file type {file_type!r} is not "
                                  f"one Huddle reads ({', '.join(FILE_TYPES)})")
        total, index = _from_base36(text[4:6]), _from_base36(text[6:8])
        if not 0 <= index < total:
            raise BadPart("qr_malformed_part", f"BBQr part index {index} outside 0..{total - 1}")
        part = cls(encoding, file_type, total, index, text[HEADER_LEN:])
        part.check_data()
        return part

    def check_data(self) -> None:
        if not _DATA_CHARS[self.encoding].fullmatch(self.data):
            raise BadPart("qr_malformed_part", "BBQr data has characters outside its encoding")
        whole = len(self.data) % 2 == 0 if self.encoding == "H" else len(self.data) % 8 in (
            0, 2, 4, 5, 7)
        if not whole:
            raise BadPart("qr_malformed_part", "a BBQr part must decode to whole bytes")


def _to_base36(n: int) -> str:
    return _BASE36[n // 36] + _BASE36[n % 36]


def _from_base36(text: str) -> int:
    if any(c not in _BASE36 for c in text):
        raise BadPart("qr_malformed_part", f"BBQr header {text!r} is not base36")
    return _BASE36.index(text[0]) * 36 + _BASE36.index(text[1])


@dataclass(frozen=True)
class BBQrSeries:
    """The frames of one file and the QR version they all use."""

    version: int
    encoding: str
    parts: tuple[str, ...]


def serialize(data: bytes, file_type: str = "P", encoding: str | None = None,
              min_version: int = 5, max_version: int = 40, ecc: str = "L") -> BBQrSeries:
    """Split ``data`` into BBQr frames: fewest QRs, then the lowest version."""
    if file_type not in FILE_TYPES:
        raise ValueError(f"unknown BBQr file type {file_type!r}")
    encoding, encoded = _encode(data, encoding)
    version, count = _fit(len(encoded), SPLIT_MOD[encoding], min_version, max_version, ecc)
    # Spread the data evenly rather than leaving a small runt (BBQr.md notes).
    mod = SPLIT_MOD[encoding]
    per_part = max(mod, math.ceil(math.ceil(len(encoded) / count) / mod) * mod)
    chunks = [encoded[i:i + per_part] for i in range(0, len(encoded), per_part)] or [""]
    parts = tuple(BBQrPart(encoding, file_type, len(chunks), i, chunk).to_string()
                  for i, chunk in enumerate(chunks))
    return BBQrSeries(version, encoding, parts)


def _encode(data: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding == "H":
        return "H", data.hex().upper()
    if encoding not in (None, "2", "Z"):
        raise ValueError(f"unknown BBQr encoding {encoding!r}")
    plain = _b32encode(data)
    if encoding == "2":
        return "2", plain
    packed = _b32encode(_deflate(data))
    # BBQr.md: fall back to base32 when compression does not help.
    if encoding == "Z" or len(packed) < len(plain):
        return "Z", packed
    return "2", plain


def _fit(length: int, mod: int, min_version: int, max_version: int, ecc: str) -> tuple[int, int]:
    """(version, count): the fewest parts, then the lowest version."""
    best: tuple[int, int] | None = None
    for version in range(min_version, max_version + 1):
        room = alphanumeric_capacity(version, ecc) - HEADER_LEN
        count = 1 if length <= room else math.ceil(length / (room - room % mod))
        if count <= MAX_PARTS and (best is None or count < best[1]):
            best = (version, count)
    if best is None:
        raise BadPart("qr_too_large", f"{length} characters need more than {MAX_PARTS} BBQr parts")
    return best


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, _WBITS)
    return packer.compress(data) + packer.flush()


def _b32encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def decode_data(encoding: str, text: str, max_len: int) -> bytes:
    """The bytes of a joined series; Z output is capped at ``max_len``."""
    if encoding == "H":
        return bytes.fromhex(text)
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except binascii.Error as err:
        raise BadPart("qr_malformed_part", f"BBQr base32 does not decode: {err}") from None
    return _inflate(raw, max_len) if encoding == "Z" else raw


def _inflate(raw: bytes, max_len: int) -> bytes:
    unpacker = zlib.decompressobj(_WBITS)
    try:
        out = unpacker.decompress(raw, max_len + 1)
    except zlib.error as err:
        raise BadPart("qr_malformed_part", f"BBQr Z data does not inflate: {err}") from None
    if len(out) > max_len or unpacker.unconsumed_tail:
        raise BadPart("qr_inflate_too_large", f"BBQr Z data inflates past {max_len} bytes",
                      limit=max_len)
    if not unpacker.eof:
        raise BadPart("qr_malformed_part", "BBQr Z data is a truncated DEFLATE stream")
    return out


class BBQrJoiner:
    """Collects the parts of one series in any order, checking each against
    the others; ``result`` is (file type, bytes) once all have arrived."""

    def __init__(self, max_message_len: int) -> None:
        self.max_message_len = max_message_len
        self.reset()

    def reset(self) -> None:
        self.header: str | None = None
        self.parts: dict[int, str] = {}
        self.part_len: int | None = None
        self.result: tuple[str, bytes] | None = None

    @property
    def total(self) -> int:
        return _from_base36(self.header[4:6]) if self.header else 0

    def receive(self, part: BBQrPart) -> None:
        self._check_header(part)
        part_len = self._check_length(part)
        known = self.parts.get(part.index)
        if known is not None and known != part.data:
            raise BadPart("qr_inconsistent_part", f"BBQr part {part.index} arrived twice "
                          "with different data", index=part.index)
        self.header, self.part_len = part.header, part_len
        self.parts[part.index] = part.data
        if len(self.parts) == part.total and self.result is None:
            joined = "".join(self.parts[i] for i in range(part.total))
            try:
                data = decode_data(part.encoding, joined, self.max_message_len)
            except BadPart:
                # Start over, as a UR message failing its CRC does: kept, the
                # series would be joined and inflated again on every repeat
                # of any of its parts, megabytes of work per frame (issue 8).
                self.reset()
                raise
            self.result = (part.file_type, data)

    def _check_header(self, part: BBQrPart) -> None:
        if self.header is not None and part.header != self.header:
            # BBQr.md: all parts share their first six characters.
            raise BadPart("qr_bbqr_header_mismatch", f"BBQr part header {part.header!r} "
                          f"differs from {self.header!r}", header=part.header,
                          expected=self.header)

    def _check_length(self, part: BBQrPart) -> int | None:
        """The common part length, once a non-final part has shown it."""
        last = part.index == part.total - 1
        if not last and len(part.data) % SPLIT_MOD[part.encoding]:
            raise BadPart("qr_malformed_part", "a non-final BBQr part must hold whole bytes")
        part_len = self.part_len if self.part_len is not None or last else len(part.data)
        if part_len is not None and (
                len(part.data) > part_len or (not last and len(part.data) != part_len)):
            raise BadPart("qr_inconsistent_part", "BBQr parts other than the last must all "
                          "have the same length", index=part.index)
        runt = self.parts.get(part.total - 1)
        if part_len is not None and runt is not None and len(runt) > part_len:
            raise BadPart("qr_inconsistent_part", "the last BBQr part is longer than the others")
        if part_len is not None:
            self._check_size(part, part_len)
        return part_len

    def _check_size(self, part: BBQrPart, part_len: int) -> None:
        # Refuse early a series whose encoded size already exceeds the limit.
        chars = part_len * (part.total - 1)
        size = chars // 2 if part.encoding == "H" else chars * 5 // 8
        if size > self.max_message_len:
            raise BadPart("qr_too_large", f"BBQr series of {part.total} parts exceeds "
                          f"{self.max_message_len} bytes", limit=self.max_message_len)
