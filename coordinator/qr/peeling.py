"""The multipart UR decoder (BCR-2024-001 "Decoding"), bounded whatever the frames.

Peeling: a part is reduced by the fragments already known and by held mixed
parts that are subsets of it; one fragment left is learned, which in turn
peels the held parts that contain it. ``schedule.Peeler`` models the same
steps on bit masks, and tests/qr/test_schedule.py checks both finish on the
same frame.

Frames come from strangers' cameras, so count alone bounds nothing: 2,000
frames of 69 characters claiming 10,000 one-byte fragments, each mixing 5,000
or more of them, once took 3.5 GB and a minute (issue 8). Now:

- A held part is an integer bit mask: seq_len bits whatever its degree.
- At most ``held_cap`` parts and ``index_cap`` indexes (the sum of their
  unknown fragments) are held; over either, the part with the most unknown
  fragments, the least likely to peel, is dropped.
- Work is metered in units of about 0.1 µs. Each part earns credit for its
  bytes (``CREDIT_PER_BYTE``); a mixed part is taken only while the credit is
  positive, and its work is charged after. So the work on any run of frames is
  at most its bytes' credit plus ``CREDIT_CAP`` saved earlier plus one part.
  A part over budget is set aside, not an error, and is taken if shown again.
- A repeated sequence number is skipped before any work (cameras read each
  frame several times), and only parts that add a fragment or a held equation
  count as progress.
"""

from __future__ import annotations

import heapq
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .chooser import fragment_indexes, is_small_draw
from .errors import BadPart

if TYPE_CHECKING:
    from .fountain import FountainPart

PART_COST = 500  # a mixed part's fixed cost: seeding (SHA-256), its degree, the calls around it
STEP_COST = 10  # draw one fragment index: a xoshiro256** step; and for a large draw
LIST_COST_DIVISOR = 16  # ... build the seq_len-long list (seq_len / 16 units)
POP_COST_DIVISOR = 256  # ... and pop from it (seq_len / 256 units per index)
XOR_COST = 1  # XOR one fragment into a value, or one index into or out of the index
MASK_BITS_PER_UNIT = 1024  # a held-part comparison costs 1 unit per this many bits, plus 1
CREDIT_PER_BYTE = 24  # earned per byte of a part (its data plus PART_OVERHEAD)
PART_OVERHEAD = 24  # CBOR fields, CRC-32 and the ur:type/n-m/ prefix around the data
CREDIT_CAP = 4_000_000  # unspent credit saved at most: about 0.4 s of work
INDEX_FACTOR = 8  # indexes held, at most INDEX_FACTOR * seq_len + 64
SEEN_FACTOR = 4  # sequence numbers remembered, at most SEEN_FACTOR * seq_len + 1024


@dataclass
class _Held:
    """A mixed part being peeled: the fragments still XORed into ``value``."""

    mask: int
    value: int
    count: int  # bits set in mask
    low: int  # its lowest set bit: the key of FountainDecoder.by_low


def _mask(indexes: list[int]) -> int:
    bits = bytearray(max(indexes) // 8 + 1)
    for i in indexes:
        bits[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(bits, "little")


def _discard(index: dict[int, set[int]], key: int, held_id: int) -> None:
    ids = index.get(key)
    if ids is not None:
        ids.discard(held_id)
        if not ids:
            del index[key]


def _bits(mask: int) -> list[int]:
    """The set bits of ``mask``, ascending."""
    if mask.bit_count() <= 16:  # sparse: one step per bit
        found = []
        while mask:
            low = mask & -mask
            found.append(low.bit_length() - 1)
            mask ^= low
        return found
    # dense: one C pass over the digits, then one find per bit
    text = bin(mask)[:1:-1]  # least significant first
    found, i = [], text.find("1")
    while i >= 0:
        found.append(i)
        i = text.find("1", i + 1)
    return found


class FountainDecoder:
    """Reassembles a message from fountain parts received in any order."""

    def __init__(self, max_message_len: int, max_seq_len: int) -> None:
        self.max_message_len = max_message_len
        self.max_seq_len = max_seq_len
        # The meter survives reset(): a forced restart must not wipe a debt.
        self.credit = 0
        self.work = 0
        self.deferred = 0  # mixed parts set aside for want of credit
        self.dropped = 0  # held parts dropped over held_cap or index_cap
        self.reset()

    def reset(self) -> None:
        self.shape: tuple[int, int, int, int] | None = None
        self.simple: dict[int, int] = {}
        self.held: dict[int, _Held] = {}
        self.by_index: dict[int, set[int]] = {}  # fragment -> held parts that mix it
        self.by_low: dict[int, set[int]] = {}  # fragment -> held parts whose lowest it is
        # (-count, id) of held parts, to drop the one with most unknowns (the
        # oldest of those); counts only fall, so a stale entry is re-pushed.
        self._by_count: list[tuple[int, int]] = []
        self.indexes_held = 0
        self.seen: set[int] = set()
        self.useful = 0
        self._next_id = 0
        self.result: bytes | None = None

    @property
    def seq_len(self) -> int:
        return self.shape[0] if self.shape else 0

    @property
    def held_cap(self) -> int:
        return self.seq_len + 16

    @property
    def index_cap(self) -> int:
        return INDEX_FACTOR * self.seq_len + 64

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
        earned = CREDIT_PER_BYTE * (len(part.data) + PART_OVERHEAD)
        self.credit = min(self.credit + earned, CREDIT_CAP)
        if part.seq_num in self.seen:
            return
        if part.seq_num > self.seq_len and self.credit <= 0:
            self.deferred += 1
            return
        if len(self.seen) < SEEN_FACTOR * self.seq_len + 1024:
            self.seen.add(part.seq_num)
        work, known, last_id = self.work, len(self.simple), self._next_id
        self._take(part)
        self._enforce_caps()
        self.credit -= self.work - work
        if len(self.simple) > known or (self._next_id > last_id and self._next_id in self.held):
            self.useful += 1
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

    def _take(self, part: FountainPart) -> None:
        indexes = fragment_indexes(part.seq_num, part.seq_len, part.checksum)
        self.work += self._draw_cost(part.seq_num, len(indexes)) + XOR_COST * len(indexes)
        value = int.from_bytes(part.data, "big")
        unknown = []
        for i in indexes:
            known = self.simple.get(i)
            if known is None:
                unknown.append(i)
            else:
                value ^= known
        if len(unknown) == 1:
            self._learn([(unknown[0], value)])
        elif unknown:
            self._take_mixed(unknown, _mask(unknown), value)

    def _take_mixed(self, unknown: list[int], mask: int, value: int) -> None:
        # Like the bc-ur reference decoder, reduce by held parts that are
        # subsets of this one, in the order they came (it matters when they
        # overlap), then the other way round. A subset's lowest fragment is
        # one of this part's, so only those held parts are compared.
        subsets = sorted(i for b in unknown for i in self.by_low.get(b, ()))
        self.work += XOR_COST * len(unknown) + self._compare_cost * len(subsets)
        for held_id in subsets:
            h = self.held[held_id]
            if h.mask & mask == h.mask and h.mask != mask:
                mask ^= h.mask
                value ^= h.value
        if mask & (mask - 1) == 0:
            self._learn([(mask.bit_length() - 1, value)])
            return
        bits, pending, duplicate = _bits(mask), [], False
        # A superset, or an equal part, mixes every fragment of this one.
        supersets = min((self.by_index.get(b, ()) for b in bits), key=len)
        self.work += XOR_COST * len(bits) + self._compare_cost * len(supersets)
        for held_id in list(supersets):
            h = self.held[held_id]
            if h.mask == mask:
                duplicate = True
            elif mask & h.mask == mask:
                self._reduce(held_id, h, mask, value, bits, pending)
        if not duplicate:
            self._hold(mask, value, bits)
        self._learn(pending)

    def _reduce(self, held_id: int, h: _Held, mask: int, value: int, bits: list[int],
                pending: list[tuple[int, int]]) -> None:
        """Take the subset ``mask`` out of held part ``h``."""
        self._unindex(held_id, bits)
        h.mask ^= mask
        h.value ^= value
        h.count -= len(bits)
        self.indexes_held -= len(bits)
        self._relow(held_id, h)
        if h.count == 1:
            self._drop(held_id)
            pending.append((h.mask.bit_length() - 1, h.value))

    def _relow(self, held_id: int, h: _Held) -> None:
        low = (h.mask & -h.mask).bit_length() - 1
        if low != h.low:
            _discard(self.by_low, h.low, held_id)
            h.low = low
            self.by_low.setdefault(low, set()).add(held_id)

    def _draw_cost(self, seq_num: int, degree: int) -> int:
        n = self.seq_len
        if seq_num <= n:
            return STEP_COST
        if is_small_draw(n, degree):
            return PART_COST + STEP_COST * degree + degree * degree // 2
        return (PART_COST + n // LIST_COST_DIVISOR
                + degree * (STEP_COST + n // POP_COST_DIVISOR))

    @property
    def _compare_cost(self) -> int:
        return 1 + self.seq_len // MASK_BITS_PER_UNIT

    def _hold(self, mask: int, value: int, bits: list[int]) -> None:
        self._next_id += 1
        self.held[self._next_id] = _Held(mask, value, len(bits), bits[0])
        self.by_low.setdefault(bits[0], set()).add(self._next_id)
        heapq.heappush(self._by_count, (-len(bits), self._next_id))
        self.indexes_held += len(bits)
        self.work += XOR_COST * len(bits)
        for i in bits:
            self.by_index.setdefault(i, set()).add(self._next_id)

    def _learn(self, queue: list[tuple[int, int]]) -> None:
        """Store fragments and peel every held part that contains one."""
        while queue:
            index, value = queue.pop()
            if index in self.simple:
                continue
            self.simple[index] = value
            for held_id in self.by_index.pop(index, ()):
                h = self.held[held_id]
                h.mask ^= 1 << index
                h.value ^= value
                h.count -= 1
                self.indexes_held -= 1
                self.work += XOR_COST + self._compare_cost
                if index == h.low:
                    self._relow(held_id, h)
                if h.count == 1:
                    self._drop(held_id)
                    queue.append((h.mask.bit_length() - 1, h.value))

    def _unindex(self, held_id: int, bits: list[int]) -> None:
        self.work += XOR_COST * len(bits)
        for i in bits:
            _discard(self.by_index, i, held_id)

    def _drop(self, held_id: int) -> None:
        h = self.held.pop(held_id)
        _discard(self.by_low, h.low, held_id)
        self.indexes_held -= h.count
        self.work += self._compare_cost
        self._unindex(held_id, _bits(h.mask))

    def _enforce_caps(self) -> None:
        heap = self._by_count
        while len(self.held) > self.held_cap or self.indexes_held > self.index_cap:
            count, held_id = heapq.heappop(heap)
            self.work += XOR_COST
            h = self.held.get(held_id)
            if h is not None and h.count != -count:
                heapq.heappush(heap, (-h.count, held_id))
            elif h is not None:
                self.dropped += 1
                self._drop(held_id)
        if len(heap) > 2 * len(self.held) + 64:  # keep stale entries bounded
            self._by_count = [(-h.count, i) for i, h in self.held.items()]
            heapq.heapify(self._by_count)
            self.work += len(self._by_count)

    def _finish(self) -> None:
        seq_len, message_len, checksum, fragment_len = self.shape
        joined = b"".join(self.simple[i].to_bytes(fragment_len, "big") for i in range(seq_len))
        message = joined[:message_len]
        if zlib.crc32(message) != checksum:
            self.reset()
            raise BadPart("qr_message_checksum",
                          "the reassembled UR message fails its CRC-32; scan again")
        self.result = message
