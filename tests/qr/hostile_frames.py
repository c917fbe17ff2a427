"""Hostile UR and BBQr frames, built with Huddle's own encoder pieces (the
chooser, CRC-32, Bytewords and the part CBOR), for tests and
bench/qr_decode_worst.py."""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterator

from coordinator.qr import bbqr
from coordinator.qr.chooser import mix_degree
from coordinator.qr.fountain import FountainPart
from coordinator.qr.ur import URPart


def high_degree_seq_nums(seq_len: int, checksum: int, min_degree: int) -> Iterator[int]:
    """Sequence numbers past the plain fragments whose mix has at least ``min_degree``
    fragments: what an attacker picks to make each frame cost the most."""
    seq_num = seq_len
    while True:
        seq_num += 1
        if mix_degree(seq_num, seq_len, checksum) >= min_degree:
            yield seq_num


def ur_frame(part: FountainPart, ur_type: str = "crypto-psbt") -> str:
    return URPart(ur_type, part.serialize(), (part.seq_num, part.seq_len)).to_string()


def degree_attack(count: int, seq_len: int = 10_000, min_degree: int | None = None,
                  fragment_len: int = 1, checksum: int = 0x5EED5EED) -> list[str]:
    """The issue 8 attack: ``count`` frames claiming ``seq_len`` fragments of
    ``fragment_len`` bytes, each a mix of at least half of them (default)."""
    min_degree = seq_len // 2 if min_degree is None else min_degree
    seq_nums = high_degree_seq_nums(seq_len, checksum, min_degree)
    return [ur_frame(FountainPart(next(seq_nums), seq_len, seq_len * fragment_len, checksum,
                                  bytes([n % 251 + 1]) * fragment_len))
            for n in range(count)]


def pair_chain_attack(count: int, seq_len: int = 10_000, checksum: int = 0x5EED5EED) -> list[str]:
    """Degree-2 mixes, then plain fragments: many small held parts and long
    peeling cascades."""
    frames = []
    seq_num = seq_len
    while len(frames) < count:
        seq_num += 1
        if mix_degree(seq_num, seq_len, checksum) == 2:
            frames.append(ur_frame(FountainPart(seq_num, seq_len, seq_len, checksum, b"\x07")))
    plain = [ur_frame(FountainPart(n, seq_len, seq_len, checksum, b"\x07"))
             for n in range(1, count // 4 + 1)]
    return frames + plain


def tagged_message_frame(tag: int, multipart: bool) -> str:
    """A UR whose CBOR is tag 4 (decimal fraction) or 5 (bigfloat) with an
    exponent that makes cbor2's ``decimal`` arithmetic raise."""
    # tag, array(2), uint64 exponent 2^63 - 1, mantissa 1
    body = bytes([0xC0 | tag, 0x82, 0x1B]) + (2**63 - 1).to_bytes(8, "big") + b"\x01"
    if not multipart:
        return URPart("crypto-psbt", body).to_string()
    # [seqNum 1, seqLen 2, messageLen 5, checksum <tagged>, data]: the tag sits
    # inside the part's own CBOR.
    raw = bytes([0x85, 0x01, 0x02, 0x05]) + body + bytes([0x41, 0x00])
    return URPart("crypto-psbt", raw, (1, 2)).to_string()


def deflate_bomb(size: int, parts: int = 2) -> list[str]:
    """A BBQr ``Z`` series: a few KB of raw DEFLATE that inflates to ``size`` zero bytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -10)
    packed = packer.compress(bytes(size)) + packer.flush()
    body = base64.b32encode(packed).decode().rstrip("=")
    per_part = -(-len(body) // (8 * parts)) * 8  # whole bytes in every part but the last
    chunks = [body[i:i + per_part] for i in range(0, len(body), per_part)]
    return [bbqr.BBQrPart("Z", "P", len(chunks), i, chunk).to_string()
            for i, chunk in enumerate(chunks)]
