"""Frames from strangers cost bounded memory and work, and CBOR the decoder
does not expect is refused with its own code, never a crash (issue 8)."""

from __future__ import annotations

import itertools
import tracemalloc

import cbor2
import pytest
from click.testing import CliRunner

from coordinator.cli import main
from coordinator.cli import qr as qr_cli
from coordinator.qr import bbqr
from coordinator.qr.chooser import fragment_indexes
from coordinator.qr.errors import BadPart
from coordinator.qr.fountain import FountainEncoder, FountainPart
from coordinator.qr.stream import StreamDecoder
from coordinator.qr.ur import URPart

from .hostile_frames import deflate_bomb, degree_attack, tagged_message_frame, ur_frame
from .psbt_samples import build_psbt

if "qr" not in main.commands:
    main.add_command(qr_cli.group)


def _refused(decoder: StreamDecoder, frame: str) -> str:
    with pytest.raises(BadPart) as err:
        decoder.receive(frame)
    return err.value.code


def _peak_bytes(frames: list[str]) -> tuple[int, StreamDecoder]:
    decoder = StreamDecoder()
    tracemalloc.start()
    try:
        for frame in frames:
            decoder.receive(frame)
        return tracemalloc.get_traced_memory()[1], decoder
    finally:
        tracemalloc.stop()


def test_high_degree_frames_hold_bounded_memory():
    # The attack scaled down: 150 frames of 67 characters, each
    # claiming 2,000 one-byte fragments and mixing at least 1,000 of them.
    # The decoder before issue 8 held every index as a set: 48 MB here
    # (3.5 GB for the full 2,000 frames of 10,000 fragments).
    frames = degree_attack(150, seq_len=2_000)
    peak, decoder = _peak_bytes(frames)
    assert peak < 4_000_000
    fountain = decoder._ur.fountain
    assert fountain.indexes_held <= fountain.index_cap
    assert len(fountain.held) <= fountain.held_cap


def test_high_degree_frames_cost_work_in_proportion_to_their_bytes():
    frames = degree_attack(150, seq_len=2_000)
    decoder = StreamDecoder()
    for frame in frames:
        decoder.receive(frame)
    fountain = decoder._ur.fountain
    # Each part earns 24 units (about 0.1 µs each) per byte of data and
    # framing, about 9 per character here, and one part may overdraw. The
    # decoder before issue 8 drew every fragment of every part: about 1,500
    # generator steps (4 µs each) per 69-character frame.
    assert fountain.work <= 12 * sum(map(len, frames))
    assert fountain.deferred > 100  # most frames are set aside, their mixes never drawn
    assert not decoder.complete


def test_parts_that_add_nothing_do_not_move_progress():
    psbt = build_psbt(10)
    encoder = FountainEncoder(cbor2.dumps(psbt), 80)
    plain = [encoder.next_part() for _ in range(encoder.seq_len)]
    known = len(plain) // 2
    # Mixes made only of fragments already received: each peels to nothing.
    seq_nums = (s for s in itertools.count(encoder.seq_len + 1)
                if max(fragment_indexes(s, encoder.seq_len, encoder.checksum)) < known)
    stale = [FountainPart(s, encoder.seq_len, encoder.message_len, encoder.checksum, bytes(80))
             for s in itertools.islice(seq_nums, 40)]
    decoder = StreamDecoder()
    for part in plain[:known]:
        decoder.receive(ur_frame(part))
    before = decoder.progress().percent
    for part in stale:
        decoder.receive(ur_frame(part))
    assert decoder.progress().percent == before
    assert decoder.progress().parts_seen == known + len(stale)


@pytest.mark.parametrize("multipart", [False, True], ids=["single", "multipart"])
@pytest.mark.parametrize("tag", [4, 5], ids=["decimal_fraction", "bigfloat"])
def test_decimal_and_bigfloat_tags_are_refused_not_evaluated(tag, multipart):
    code = _refused(StreamDecoder(), tagged_message_frame(tag, multipart))
    assert code == ("qr_malformed_part" if multipart else "qr_not_psbt")


def _part_cbor(*fields: bytes) -> bytes:
    return bytes([0x85]) + b"".join(fields)


@pytest.mark.parametrize("body", [
    _part_cbor(b"\x01", b"\x02", b"\x05", b"\xc2\x41\x01", b"\x41\x00"),  # bignum tag
    _part_cbor(b"\x01", b"\x02", b"\x05", b"\x01", b"\x5b" + b"\xff" * 8),  # 2^64-byte string
    _part_cbor(b"\x01", b"\x02", b"\x05", b"\x01", b"\x5f\x41\x00\xff"),  # indefinite length
    _part_cbor(b"\x01", b"\x02", b"\x05", b"\xfb" + bytes(8), b"\x41\x00"),  # a float
    _part_cbor(b"\x01", b"\x02", b"\x05", b"\x20", b"\x41\x00"),  # a negative integer
    _part_cbor(b"\x81" * 3_000 + b"\x01", b"\x02", b"\x05", b"\x01", b"\x41\x00"),  # nesting
    _part_cbor(b"\x01", b"\x02", b"\x05", b"\x01", b"\x41"),  # ends early
    _part_cbor(b"\x01", b"\x02", b"\x05", b"\x1c", b"\x41\x00"),  # reserved
], ids=["bignum", "huge_length", "indefinite", "float", "negative", "deep", "short", "reserved"])
def test_part_cbor_other_than_five_plain_fields_is_malformed(body):
    frame = URPart("crypto-psbt", body, (1, 2)).to_string()
    assert _refused(StreamDecoder(), frame) == "qr_malformed_part"


@pytest.mark.parametrize("body, code", [
    (b"\x5b" + b"\xff" * 8, "qr_malformed_part"),  # declares 2^64 bytes
    (b"\xd9\x01\x36\x5f\x41\x00\xff", "qr_malformed_part"),  # tag 310, indefinite bytes
    (b"\x81" * 3_000 + b"\x00", "qr_not_psbt"),  # deep arrays: refused at the first
    (b"\xc2\x49" + b"\xff" * 9, "qr_not_psbt"),  # a bignum
    (b"\xd9\x01\x36" + cbor2.dumps(b"psbt\xff") + b"\x00", "qr_malformed_part"),  # trailing
])
def test_a_single_part_message_is_a_byte_string_or_refused(body, code):
    assert _refused(StreamDecoder(), URPart("crypto-psbt", body).to_string()) == code


@pytest.mark.parametrize("tag", [4, 5])
@pytest.mark.parametrize("multipart", [False, True])
def test_decode_cli_reports_a_tagged_ur_in_one_line(tag, multipart):
    frame = tagged_message_frame(tag, multipart)
    result = CliRunner().invoke(main, ["qr", "decode"], input=frame + "\n")
    assert result.exit_code == 3
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("huddle: error: ")
    assert ("[qr_malformed_part]" if multipart else "[qr_not_psbt]") in lines[0]


def test_a_refused_zip_bomb_starts_the_series_over():
    bomb = deflate_bomb(5_000_000)
    decoder = StreamDecoder(max_message_len=1_000_000)
    decoder.receive(bomb[0])
    assert _refused(decoder, bomb[1]) == "qr_inflate_too_large"
    # A repeat is the first part of a new series, not another 1 MB inflation.
    progress = decoder.receive(bomb[1])
    assert progress.parts_seen == 1 and not progress.complete
    assert _refused(decoder, bomb[0]) == "qr_inflate_too_large"
    honest = build_psbt(1)
    for frame in bbqr.serialize(honest).parts:
        decoder.receive(frame)
    assert decoder.psbt == honest
