"""Multipart UR fountain codes (BCR-2024-001): split and mix.

The encoder emits the seq_len plain fragments first, then an endless stream
of XOR mixes chosen by ``chooser.choose_fragments``. The decoder, which peels
mixed parts against the fragments it knows within fixed limits of memory and
work, is ``peeling.FountainDecoder`` (re-exported here).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cbor2

from .cbor import read_part
from .chooser import fragment_indexes
from .errors import BadPart
from .peeling import FountainDecoder

__all__ = ["FountainDecoder", "FountainEncoder", "FountainPart",
           "find_nominal_fragment_length", "partition", "xor"]

_UINT32 = 0xFFFFFFFF


def find_nominal_fragment_length(message_len: int, min_len: int, max_len: int) -> int:
    """The largest equal fragment size <= max_len (BCR-2024-001 encoder)."""
    # Try 1, 2, 3... fragments; the first count whose size fits wins.
    max_count = max(1, message_len // min_len)
    for count in range(1, max_count + 1):
        fragment_len = math.ceil(message_len / count)
        if fragment_len <= max_len:
            return fragment_len
    return fragment_len


def partition(message: bytes, fragment_len: int) -> list[bytes]:
    """Equal fragments; the last one is zero-padded."""
    padded_len = math.ceil(len(message) / fragment_len) * fragment_len
    padded = message.ljust(padded_len, b"\0")
    return [padded[i:i + fragment_len] for i in range(0, padded_len, fragment_len)]


def xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


@dataclass(frozen=True)
class FountainPart:
    """One part: CBOR [seqNum, seqLen, messageLen, checksum, data]."""

    seq_num: int
    seq_len: int
    message_len: int
    checksum: int
    data: bytes

    def serialize(self) -> bytes:
        return cbor2.dumps([self.seq_num, self.seq_len, self.message_len,
                            self.checksum, self.data])

    @classmethod
    def parse(cls, raw: bytes) -> FountainPart:
        *numbers, data = read_part(raw)
        if not all(n <= _UINT32 for n in numbers):
            raise BadPart("qr_malformed_part", "UR part header fields must be uint32")
        if not data:
            raise BadPart("qr_malformed_part", "UR part data must be a non-empty byte string")
        return cls(*numbers, data)

    def check_shape(self) -> None:
        """Reject parts whose numbers cannot describe one message."""
        if self.seq_num < 1 or self.seq_len < 1 or self.message_len < 1:
            raise BadPart("qr_malformed_part", "UR part numbers must be positive")
        # seqLen is fixed by the message and fragment sizes (BCR-2024-001).
        if self.seq_len != math.ceil(self.message_len / len(self.data)):
            raise BadPart("qr_inconsistent_part",
                          "UR part sequence length does not match its message and fragment sizes",
                          seq_len=self.seq_len, message_len=self.message_len)


class FountainEncoder:
    """Fixed parts first, then rateless mixed parts, forever."""

    def __init__(self, message: bytes, max_fragment_len: int,
                 min_fragment_len: int = 10, first_seq_num: int = 0) -> None:
        if not message:
            raise ValueError("cannot encode an empty message")
        if not 0 < min_fragment_len <= max_fragment_len:
            raise ValueError("need 0 < min_fragment_len <= max_fragment_len")
        self.message_len = len(message)
        self.checksum = zlib.crc32(message)
        self.fragment_len = find_nominal_fragment_length(
            len(message), min_fragment_len, max_fragment_len)
        self.fragments = partition(message, self.fragment_len)
        self.seq_num = first_seq_num
        self._schedule: tuple[int, ...] = ()
        self._planner: Callable[[], Sequence[int]] | None = None
        self._shown = 0

    def show_first(self, planner: Callable[[], Sequence[int]]) -> None:
        """Mixed parts to show right after the plain ones (schedule.py), in
        place of seq_len+1, seq_len+2, ...; then on past the largest. The
        planner runs when the first mixed part is due, so showing the plain
        fragments never waits for it."""
        if self._shown or self.seq_num:
            raise ValueError("a schedule must be set before the first part")
        self._planner = planner

    @property
    def seq_len(self) -> int:
        return len(self.fragments)

    def next_part(self) -> FountainPart:
        self._shown += 1
        k = self._shown - self.seq_len - 1
        if k == 0 and self._planner is not None:
            self._schedule, self._planner = tuple(self._planner()), None
        if 0 <= k < len(self._schedule):
            self.seq_num = self._schedule[k]
        elif self._schedule and k == len(self._schedule):
            self.seq_num = (max(self._schedule) + 1) & _UINT32
        else:
            self.seq_num = (self.seq_num + 1) & _UINT32
        indexes = fragment_indexes(self.seq_num, self.seq_len, self.checksum)
        return FountainPart(self.seq_num, self.seq_len, self.message_len,
                            self.checksum, self._mix(indexes))

    def _mix(self, indexes: list[int]) -> bytes:
        acc = 0
        for i in indexes:
            acc ^= int.from_bytes(self.fragments[i], "big")
        return acc.to_bytes(self.fragment_len, "big")
