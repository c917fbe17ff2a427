"""The two CBOR shapes a UR carries, read without a general CBOR decoder.

A multipart frame holds ``[seqNum, seqLen, messageLen, checksum, data]``
(BCR-2024-001) and a PSBT message is a byte string, perhaps tagged 310 or
40310 (BCR-2020-006). Scanned frames come from strangers, so we read these
shapes and nothing else: cbor2 would evaluate tags 4 and 5 (decimal fractions,
big floats) into ``decimal`` arithmetic that raises ``InvalidOperation`` or
``Overflow``, and follows nesting and bignum tags as deep and as large as the
input asks. Here every length is checked against the bytes actually present
before anything is allocated, and every failure is a ``BadPart``.
"""

from __future__ import annotations

from .errors import BadPart

_UINT, _BYTES, _ARRAY, _TAG = 0, 2, 4, 6
_PSBT_TAGS = frozenset({310, 40310})  # crypto-psbt, psbt: a sender may leave one on
_TYPE_NAMES = {0: "an unsigned integer", 1: "a negative integer", 2: "a byte string",
               3: "a text string", 4: "an array", 5: "a map", 6: "a tag", 7: "a simple value"}


def _malformed(why: str) -> BadPart:
    return BadPart("qr_malformed_part", f"UR body is not the CBOR expected: {why}")


class _Reader:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.pos = 0

    def take(self, count: int) -> bytes:
        # Checked against what is there, so a declared 2^64-byte string costs nothing.
        if count > len(self.raw) - self.pos:
            raise _malformed("it ends early")
        chunk = self.raw[self.pos:self.pos + count]
        self.pos += count
        return chunk

    def peek(self) -> int:
        """The major type of the next item."""
        if self.pos >= len(self.raw):
            raise _malformed("it ends early")
        return self.raw[self.pos] >> 5

    def head(self) -> tuple[int, int]:
        """(major type, argument) of the next item; definite lengths only,
        as deterministic CBOR requires (BCR-2020-005)."""
        major, info = self.peek(), self.raw[self.pos] & 0x1F
        self.pos += 1
        if info < 24:
            return major, info
        if info <= 27:
            return major, int.from_bytes(self.take(1 << (info - 24)), "big")
        raise _malformed(f"{_TYPE_NAMES[major]} with additional information {info} "
                         "(indefinite or reserved)")

    def uint(self, name: str) -> int:
        major, value = self.head()
        if major != _UINT:
            raise _malformed(f"{name} is {_TYPE_NAMES[major]}, not an unsigned integer")
        return value

    def byte_string(self, name: str) -> bytes:
        major, length = self.head()
        if major != _BYTES:
            raise _malformed(f"{name} is {_TYPE_NAMES[major]}, not a byte string")
        return self.take(length)

    def end(self) -> None:
        if self.pos != len(self.raw):
            raise _malformed("there are bytes after its item")


def read_part(raw: bytes) -> tuple[int, int, int, int, bytes]:
    """The five fields of a multipart frame's CBOR."""
    reader = _Reader(raw)
    major, count = reader.head()
    if major != _ARRAY or count != 5:
        raise BadPart("qr_malformed_part", "a UR part must be a CBOR array of 5 items")
    numbers = [reader.uint(name) for name in ("seqNum", "seqLen", "messageLen", "checksum")]
    data = reader.byte_string("the part data")
    reader.end()
    return (*numbers, data)


def read_message(raw: bytes) -> bytes:
    """The byte string a ``crypto-psbt``/``psbt``/``bytes`` message holds."""
    reader = _Reader(raw)
    major = reader.peek()
    if major == _TAG:
        _, tag = reader.head()
        if tag not in _PSBT_TAGS:
            raise BadPart("qr_not_psbt", f"the UR message is CBOR tag {tag}, not a PSBT "
                          "byte string", tag=tag)
        major = reader.peek()
    if major != _BYTES:
        raise BadPart("qr_not_psbt", f"the UR message is {_TYPE_NAMES[major]}, "
                      "not a CBOR byte string")
    data = reader.byte_string("the UR message")
    reader.end()
    return data
