"""Multipart UR fountain codes (BCR-2024-001): split, mix, peel.

The encoder emits the seq_len plain fragments first, then an endless stream
of XOR mixes chosen by ``chooser.choose_fragments``. The decoder keeps the
plain fragments it has and peels mixed parts against them until every
fragment is known, then checks the whole message's CRC-32.
"""

from __future__ import annotations

import io
import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import cbor2

from .chooser import choose_fragments
from .errors import BadPart

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

    @cached_property
    def indexes(self) -> frozenset[int]:
        return choose_fragments(self.seq_num, self.seq_len, self.checksum)

    def serialize(self) -> bytes:
        return cbor2.dumps([self.seq_num, self.seq_len, self.message_len,
                            self.checksum, self.data])

    @classmethod
    def parse(cls, raw: bytes) -> FountainPart:
        fields = decode_cbor(raw)
        if not (isinstance(fields, list) and len(fields) == 5):
            raise BadPart("qr_malformed_part", "a UR part must be a CBOR array of 5 items")
        *numbers, data = fields
        if not all(type(n) is int and 0 <= n <= _UINT32 for n in numbers):
            raise BadPart("qr_malformed_part", "UR part header fields must be uint32")
        if not isinstance(data, bytes) or not data:
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


def decode_cbor(raw: bytes) -> object:
    """One CBOR item with nothing after it; cbor2 errors become BadPart."""
    stream = io.BytesIO(raw)
    try:
        item = cbor2.CBORDecoder(stream).decode()
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError) as err:
        raise BadPart("qr_malformed_part", f"UR body is not valid CBOR: {err}") from None
    if stream.tell() != len(raw):
        raise BadPart("qr_malformed_part", "UR body has bytes after its CBOR item")
    return item


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
        indexes = choose_fragments(self.seq_num, self.seq_len, self.checksum)
        return FountainPart(self.seq_num, self.seq_len, self.message_len,
                            self.checksum, self._mix(indexes))

    def _mix(self, indexes: frozenset[int]) -> bytes:
        acc = 0
        for i in indexes:
            acc ^= int.from_bytes(self.fragments[i], "big")
        return acc.to_bytes(self.fragment_len, "big")


@dataclass
class _Held:
    """A mixed part being peeled: the fragments still XORed into ``value``."""

    key: frozenset[int]
    remaining: set[int]
    value: int


class FountainDecoder:
    """Reassembles a message from fountain parts received in any order.

    Peeling (BCR-2024-001 "Decoding"): a part is reduced by the fragments
    already known and by held parts that are subsets of it; one left is a
    new fragment, which in turn reduces the held mixed parts that contain it. Memory is bounded: the claimed
    message length and fragment count are capped before anything is
    stored, and at most ``mixed_cap`` mixed parts are held (the highest
    degree one, the least likely to peel, is dropped first).
    """

    def __init__(self, max_message_len: int, max_seq_len: int) -> None:
        self.max_message_len = max_message_len
        self.max_seq_len = max_seq_len
        self.reset()

    def reset(self) -> None:
        self.shape: tuple[int, int, int, int] | None = None
        self.simple: dict[int, int] = {}
        self.mixed: dict[int, _Held] = {}
        self.by_index: dict[int, set[int]] = {}
        self.keys: set[frozenset[int]] = set()
        self._next_id = 0
        self.result: bytes | None = None

    @property
    def seq_len(self) -> int:
        return self.shape[0] if self.shape else 0

    @property
    def mixed_cap(self) -> int:
        # Mixed parts are fragment-sized, so this holds ~3x the message.
        return 3 * self.seq_len + 16

    @property
    def fragments_known(self) -> int:
        return len(self.simple)

    def receive(self, part: FountainPart) -> None:
        """Take one part; raises BadPart if it cannot belong to this message."""
        part.check_shape()
        self._check_limits(part)
        self._check_consistent(part)
        if self.result is not None:
            return
        self._add(part.indexes, int.from_bytes(part.data, "big"))
        if len(self.simple) == self.seq_len:
            self._finish()

    def _check_limits(self, part: FountainPart) -> None:
        if part.message_len > self.max_message_len:
            raise BadPart("qr_too_large", f"UR part claims a {part.message_len}-byte message; "
                          f"the limit is {self.max_message_len}",
                          message_len=part.message_len, limit=self.max_message_len)
        if part.seq_len > self.max_seq_len:
            raise BadPart("qr_too_large", f"UR part claims {part.seq_len} fragments; "
                          f"the limit is {self.max_seq_len}",
                          seq_len=part.seq_len, limit=self.max_seq_len)

    def _check_consistent(self, part: FountainPart) -> None:
        shape = (part.seq_len, part.message_len, part.checksum, len(part.data))
        if self.shape is None:
            self.shape = shape
        elif shape[2] != self.shape[2]:
            # Another checksum means another message: a second QR on screen.
            raise BadPart("qr_mixed_transfer", "UR part belongs to a different message",
                          checksum=part.checksum, expected=self.shape[2])
        elif shape != self.shape:
            raise BadPart("qr_inconsistent_part",
                          "UR part changes the sequence length, message length or fragment "
                          "size of this transfer", seq_num=part.seq_num)

    def _add(self, indexes: frozenset[int], value: int) -> None:
        for i in indexes.intersection(self.simple):
            value ^= self.simple[i]
        remaining = set(indexes.difference(self.simple))
        # Like the bc-ur reference decoder, reduce by held parts whose
        # fragments are a subset of this one's, then the other way round:
        # signers decode this way, so the bench models them faithfully.
        for held in self.mixed.values():
            if held.remaining < remaining:
                remaining -= held.remaining
                value ^= held.value
        if len(remaining) == 1:
            self._learn(next(iter(remaining)), value)
        elif len(remaining) > 1 and indexes not in self.keys:
            self._reduce_held_by(remaining, value)
            self._hold(indexes, remaining, value)

    def _reduce_held_by(self, subset: set[int], value: int) -> None:
        for held_id, held in list(self.mixed.items()):
            if held_id in self.mixed and subset < held.remaining:
                for i in subset:
                    self.by_index.get(i, set()).discard(held_id)
                held.remaining -= subset
                held.value ^= value
                if len(held.remaining) == 1:
                    self._drop(held_id)
                    self._learn(next(iter(held.remaining)), held.value)

    def _learn(self, index: int, value: int) -> None:
        """Store a fragment and peel every held part that contains it."""
        queue = [(index, value)]
        while queue:
            index, value = queue.pop()
            if index in self.simple:
                continue
            self.simple[index] = value
            for held_id in self.by_index.pop(index, set()):
                held = self.mixed[held_id]
                held.remaining.discard(index)
                held.value ^= value
                if len(held.remaining) == 1:
                    self._drop(held_id)
                    queue.append((next(iter(held.remaining)), held.value))

    def _hold(self, indexes: frozenset[int], remaining: set[int], value: int) -> None:
        self._next_id += 1
        self.mixed[self._next_id] = _Held(indexes, remaining, value)
        self.keys.add(indexes)
        for i in remaining:
            self.by_index.setdefault(i, set()).add(self._next_id)
        if len(self.mixed) > self.mixed_cap:
            self._drop(max(self.mixed, key=lambda k: len(self.mixed[k].remaining)))

    def _drop(self, held_id: int) -> None:
        held = self.mixed.pop(held_id)
        self.keys.discard(held.key)
        for i in held.remaining:
            self.by_index.get(i, set()).discard(held_id)

    def _finish(self) -> None:
        seq_len, message_len, checksum, fragment_len = self.shape
        joined = b"".join(self.simple[i].to_bytes(fragment_len, "big") for i in range(seq_len))
        message = joined[:message_len]
        if zlib.crc32(message) != checksum:
            self.reset()
            raise BadPart("qr_message_checksum",
                          "the reassembled UR message fails its CRC-32; scan again")
        self.result = message
