"""Uniform Resources (BCR-2020-005) carrying PSBTs, single- and multipart.

A UR is ``ur:<type>/<bytewords>`` or ``ur:<type>/<seqNum>-<seqLen>/<bytewords>``
(BCR-2024-001), where the bytewords are minimal style and hold CBOR. We write
``crypto-psbt`` (what deployed signers read) and read ``crypto-psbt``, its
successor ``psbt`` (BCR-2020-006) and legacy ``bytes``. All three carry the
PSBT as an untagged CBOR byte string.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import cbor2

from . import bytewords, schedule
from .errors import BadPart, UnsupportedPart
from .cbor import read_message
from .fountain import FountainDecoder, FountainEncoder, FountainPart
from .payload import PSBT_MAGIC

WRITE_TYPE = "crypto-psbt"
READ_TYPES = frozenset({"crypto-psbt", "psbt", "bytes"})
_UR = re.compile(r"ur:([a-z0-9-]+)/(?:([1-9][0-9]{0,9})-([1-9][0-9]{0,9})/)?([a-z]+)")


@dataclass(frozen=True)
class URPart:
    """One scanned UR frame. ``seq`` is (seqNum, seqLen) for a multipart frame."""

    ur_type: str
    payload: bytes
    seq: tuple[int, int] | None = None

    @classmethod
    def from_string(cls, text: str) -> URPart:
        # QR alphanumeric mode upper-cases the frame; URs are case-insensitive.
        match = _UR.fullmatch(text.strip().lower())
        if match is None:
            raise BadPart("qr_malformed_part", "not a UR frame (expected ur:<type>/...)")
        ur_type, seq_num, seq_len, body = match.groups()
        seq = (int(seq_num), int(seq_len)) if seq_num else None
        return cls(ur_type, bytewords.decode(body, "minimal"), seq)

    def to_string(self) -> str:
        seq = f"{self.seq[0]}-{self.seq[1]}/" if self.seq else ""
        return f"ur:{self.ur_type}/{seq}{bytewords.encode(self.payload, 'minimal')}"

    def fountain_part(self) -> FountainPart:
        part = FountainPart.parse(self.payload)
        if self.seq != (part.seq_num, part.seq_len):
            raise BadPart("qr_malformed_part",
                          "UR frame path and its CBOR disagree on the sequence numbers")
        return part


class UREncoder:
    """Frames for one UR: a single frame if it fits, else fountain parts."""

    def __init__(self, ur_type: str, cbor: bytes, max_fragment_len: int,
                 min_fragment_len: int = 10, first_seq_num: int = 0,
                 scheduled: bool = False) -> None:
        self.ur_type = ur_type
        self.cbor = cbor
        self.fountain = FountainEncoder(cbor, max_fragment_len, min_fragment_len, first_seq_num)
        if scheduled and first_seq_num == 0:
            f = self.fountain
            f.show_first(lambda: schedule.design(f.seq_len, f.checksum, frames=4 * f.seq_len))

    @property
    def seq_len(self) -> int:
        return self.fountain.seq_len

    @property
    def is_single_part(self) -> bool:
        return self.fountain.seq_len == 1

    def next_part(self) -> str:
        """The next frame; single-part URs repeat the one frame."""
        if self.is_single_part:
            return URPart(self.ur_type, self.cbor).to_string()
        part = self.fountain.next_part()
        return URPart(self.ur_type, part.serialize(), (part.seq_num, part.seq_len)).to_string()


class URDecoder:
    """Collects UR frames of one transfer; ``result`` is the message CBOR."""

    def __init__(self, max_message_len: int, max_seq_len: int) -> None:
        self.fountain = FountainDecoder(max_message_len, max_seq_len)
        self.max_message_len = max_message_len
        self.ur_type: str | None = None
        self.single: bytes | None = None

    @property
    def result(self) -> bytes | None:
        return self.single if self.single is not None else self.fountain.result

    def receive(self, part: URPart) -> None:
        self._check_type(part.ur_type)
        if part.seq is None:
            self._receive_single(part.payload)
        else:
            self.fountain.receive(part.fountain_part())
        self.ur_type = part.ur_type

    def _check_type(self, ur_type: str) -> None:
        if ur_type not in READ_TYPES:
            raise UnsupportedPart("qr_unknown_type", f"UR type {ur_type!r} is not a PSBT "
                                  f"(Huddle reads {', '.join(sorted(READ_TYPES))})",
                                  ur_type=ur_type)
        if self.ur_type is not None and ur_type != self.ur_type:
            raise BadPart("qr_mixed_transfer", f"a ur:{ur_type} frame in a ur:{self.ur_type} "
                          "transfer", ur_type=ur_type, expected=self.ur_type)

    def _receive_single(self, cbor: bytes) -> None:
        if len(cbor) > self.max_message_len:
            raise BadPart("qr_too_large", "single-part UR exceeds the size limit")
        shape = self.fountain.shape
        other = self.result is not None and self.result != cbor
        if other or (shape is not None and zlib.crc32(cbor) != shape[2]):
            raise BadPart("qr_mixed_transfer", "a single-part UR for a different message")
        self.single = cbor


def psbt_to_cbor(psbt: bytes) -> bytes:
    return cbor2.dumps(psbt)


def psbt_from_cbor(cbor: bytes) -> bytes:
    """The PSBT inside a ``crypto-psbt``/``psbt``/``bytes`` message (cbor.py
    reads it: cbor2 never sees scanned bytes)."""
    item = read_message(cbor)
    if not item.startswith(PSBT_MAGIC):
        raise BadPart("qr_not_psbt", "the UR message does not start with the PSBT magic")
    return item


def encoder_for_psbt(psbt: bytes, max_fragment_len: int) -> UREncoder:
    """What Huddle shows a signer: crypto-psbt, mixed parts in schedule.py's order."""
    return UREncoder(WRITE_TYPE, psbt_to_cbor(psbt), max_fragment_len, scheduled=True)
