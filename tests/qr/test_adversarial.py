"""Hostile or broken frames are refused with their own code, and the
transfer in progress survives them."""

from __future__ import annotations

import base64
import zlib

import cbor2
import pytest

from coordinator.qr import bbqr, bytewords
from coordinator.qr.errors import BadPart
from coordinator.qr.fountain import FountainEncoder, FountainPart
from coordinator.qr.stream import StreamDecoder
from coordinator.qr.ur import UREncoder, URPart, encoder_for_psbt

from .psbt_samples import build_psbt


def _ur_frames(psbt: bytes, count: int | None = None, fragment_len: int = 200) -> list[str]:
    encoder = encoder_for_psbt(psbt, fragment_len)
    return [encoder.next_part() for _ in range(count or encoder.seq_len)]


def _refused(decoder: StreamDecoder, frame: str) -> str:
    with pytest.raises(BadPart) as err:
        decoder.receive(frame)
    return err.value.code


def _finish(decoder: StreamDecoder, frames: list[str]) -> bytes:
    for frame in frames:
        decoder.receive(frame)
    return decoder.psbt


def _forged(part: FountainPart, ur_type: str = "crypto-psbt") -> str:
    """A frame with a valid Bytewords CRC around whatever part we like."""
    return URPart(ur_type, part.serialize(), (part.seq_num, part.seq_len)).to_string()


def test_frames_of_another_ur_transfer_are_refused():
    ours, theirs = _ur_frames(build_psbt(10)), _ur_frames(build_psbt(1))
    decoder = StreamDecoder()
    decoder.receive(ours[0])
    assert _refused(decoder, theirs[1]) == "qr_mixed_transfer"
    assert _finish(decoder, ours[1:]) == build_psbt(10)


def test_a_ur_type_change_is_a_mixed_transfer():
    psbt = build_psbt(1)
    decoder = StreamDecoder()
    decoder.receive(_ur_frames(psbt)[0])
    other = UREncoder("psbt", cbor2.dumps(psbt), 200).next_part()
    assert _refused(decoder, other.replace("/1-", "/2-", 1)) == "qr_mixed_transfer"


def test_a_bbqr_frame_in_a_ur_transfer_is_a_mixed_transfer():
    psbt = build_psbt(10)
    decoder = StreamDecoder()
    decoder.receive(_ur_frames(psbt)[0])
    assert _refused(decoder, bbqr.serialize(psbt).parts[0]) == "qr_mixed_transfer"


def test_a_corrupted_frame_fails_its_crc():
    frame = _ur_frames(build_psbt(10))[3]
    body = frame.rsplit("/", 1)[1]
    bad = frame[:-len(body)] + body[:10] + ("ae" if body[10:12] != "ae" else "ad") + body[12:]
    decoder = StreamDecoder()
    assert _refused(decoder, bad) == "qr_bad_checksum"


def test_a_forged_fragment_fails_the_message_crc():
    psbt = build_psbt(1)
    encoder = FountainEncoder(cbor2.dumps(psbt), 200)
    parts = [encoder.next_part() for _ in range(encoder.seq_len)]
    evil = parts[-1]
    parts[-1] = FountainPart(evil.seq_num, evil.seq_len, evil.message_len, evil.checksum,
                             bytes(len(evil.data)))
    decoder = StreamDecoder()
    for part in parts[:-1]:
        decoder.receive(_forged(part))
    assert _refused(decoder, _forged(parts[-1])) == "qr_message_checksum"
    # The decoder starts over, so an honest rescan still works.
    assert _finish(decoder, _ur_frames(psbt)) == psbt


def test_a_seq_len_change_mid_stream_is_inconsistent():
    psbt = build_psbt(10)
    encoder = FountainEncoder(cbor2.dumps(psbt), 200)
    first, second = encoder.next_part(), encoder.next_part()
    # Same message and checksum, a different split of it.
    other = FountainEncoder(cbor2.dumps(psbt), 150)
    other.seq_num = 1
    changed = other.next_part()
    assert changed.checksum == first.checksum and changed.seq_len != first.seq_len
    decoder = StreamDecoder()
    decoder.receive(_forged(first))
    assert _refused(decoder, _forged(changed)) == "qr_inconsistent_part"
    decoder.receive(_forged(second))


def test_a_huge_claimed_message_length_is_capped():
    fragment = bytes(100)
    length = 50 * 1024 * 1024
    part = FountainPart(1, length // 100, length, 0xDEADBEEF, fragment)
    decoder = StreamDecoder()
    assert _refused(decoder, _forged(part)) == "qr_too_large"
    assert decoder.format is None


def test_too_many_fragments_is_capped():
    part = FountainPart(1, 20_000, 20_000, 1, b"x")
    assert _refused(StreamDecoder(), _forged(part)) == "qr_too_large"


def test_a_bbqr_header_mismatch_is_refused():
    psbt = build_psbt(10)
    parts = bbqr.serialize(psbt, "P", "Z", max_version=11).parts
    decoder = StreamDecoder()
    decoder.receive(parts[0])
    other_type = "B$ZT" + parts[1][4:]
    other_total = parts[1][:4] + "ZZ" + parts[1][6:]
    other_encoding = "B$2P" + parts[1][4:]
    for frame in (other_type, other_total, other_encoding):
        assert _refused(decoder, frame) == "qr_bbqr_header_mismatch"
    assert _finish(decoder, parts[1:]) == psbt


def test_bbqr_parts_of_unequal_length_are_inconsistent():
    parts = bbqr.serialize(build_psbt(10), "P", "2", max_version=11).parts
    decoder = StreamDecoder()
    decoder.receive(parts[0])
    assert _refused(decoder, parts[1][:-8]) == "qr_inconsistent_part"


def test_a_bbqr_part_repeated_with_other_data_is_inconsistent():
    parts = bbqr.serialize(build_psbt(10), "P", "2", max_version=11).parts
    decoder = StreamDecoder()
    decoder.receive(parts[0])
    tampered = parts[0][:-8] + ("A" * 8 if parts[0][-8:] != "A" * 8 else "B" * 8)
    assert _refused(decoder, tampered) == "qr_inconsistent_part"


def test_a_zip_bomb_stops_at_the_inflation_cap():
    packer = zlib.compressobj(9, zlib.DEFLATED, -10)
    bomb = packer.compress(bytes(5_000_000)) + packer.flush()
    assert len(bomb) < 10_000
    body = base64.b32encode(bomb).decode().rstrip("=")
    cut = -(-len(body) // 16) * 8  # first half, whole bytes
    series = [bbqr.BBQrPart("Z", "P", 2, i, chunk).to_string()
              for i, chunk in enumerate((body[:cut], body[cut:]))]
    decoder = StreamDecoder(max_message_len=1_000_000)
    decoder.receive(series[0])
    assert _refused(decoder, series[1]) == "qr_inflate_too_large"


def test_a_bbqr_series_claiming_too_much_data_is_refused_early():
    part = bbqr.BBQrPart("H", "P", 1295, 0, "AB" * 2000).to_string()
    assert _refused(StreamDecoder(max_message_len=1_000_000), part) == "qr_too_large"


def test_unknown_frames_are_refused():
    assert _refused(StreamDecoder(), "hello world") == "qr_unknown_format"
    seed = URPart("crypto-seed", cbor2.dumps({1: bytes(16)})).to_string()
    assert _refused(StreamDecoder(), seed) == "qr_unknown_type"
    assert _refused(StreamDecoder(), "B$2X0100AA") == "qr_unknown_type"


def test_an_overlong_frame_is_refused_before_parsing():
    assert _refused(StreamDecoder(), "ur:crypto-psbt/" + "ae" * 5000) == "qr_malformed_part"


def test_bytewords_of_garbage_cbor_are_malformed():
    frame = "ur:crypto-psbt/1-3/" + bytewords.encode(b"\xff\x00\x01")
    assert _refused(StreamDecoder(), frame) == "qr_malformed_part"
