"""UR strings: the spec's examples, crypto-psbt out, crypto-psbt/psbt/bytes in."""

from __future__ import annotations

import random

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coordinator.qr.errors import BadPart, UnsupportedPart
from coordinator.qr.stream import StreamDecoder
from coordinator.qr.ur import (
    URDecoder,
    UREncoder,
    URPart,
    encoder_for_psbt,
    psbt_from_cbor,
    psbt_to_cbor,
)

from .psbt_samples import build_psbt


def test_single_part_ur(ur_vectors):
    case = ur_vectors["ur_single_part"]
    encoder = UREncoder(case["ur_type"], bytes.fromhex(case["ur_cbor_hex"]), 1000)
    assert encoder.is_single_part
    assert encoder.next_part() == case["expected_ur"]
    part = URPart.from_string(case["expected_ur"])
    assert (part.ur_type, part.payload.hex(), part.seq) == ("bytes", case["ur_cbor_hex"], None)


def test_the_twenty_multipart_strings(ur_vectors):
    case = ur_vectors["ur_multipart"]
    cbor = bytes.fromhex(case["ur_cbor_hex"])
    assert cbor == cbor2.dumps(bytes.fromhex(case["message_hex"]))
    encoder = UREncoder(case["ur_type"], cbor, case["max_fragment_len"],
                        case["min_fragment_len"], case["first_seq_num"])
    assert [encoder.next_part() for _ in range(20)] == case["expected_parts"]


def test_the_twenty_parts_decode_in_any_order(ur_vectors):
    case = ur_vectors["ur_multipart"]
    for seed in range(20):
        decoder = URDecoder(10_000, 100)
        for text in random.Random(seed).sample(case["expected_parts"], 20):
            decoder.receive(URPart.from_string(text))
        assert decoder.result.hex() == case["ur_cbor_hex"]


def test_large_message_round_trip_from_seq_num_100(ur_vectors):
    case = ur_vectors["ur_multipart_roundtrip"]
    message = random.Random(32767).randbytes(32767)
    encoder = UREncoder("bytes", cbor2.dumps(message), case["max_fragment_len"],
                        first_seq_num=case["first_seq_num"])
    decoder = URDecoder(100_000, 1000)
    while decoder.result is None:
        decoder.receive(URPart.from_string(encoder.next_part()))
    assert cbor2.loads(decoder.result) == message


def test_psbt_example_reads(ur_vectors):
    case = ur_vectors["psbt_ur"]
    decoder = StreamDecoder()
    decoder.receive(case["expected_ur"])
    assert decoder.psbt.hex() == case["psbt_hex"]


def test_crypto_psbt_is_written_with_the_example_body(ur_vectors):
    case = ur_vectors["psbt_ur"]
    psbt = bytes.fromhex(case["psbt_hex"])
    assert psbt_to_cbor(psbt).hex() == case["cbor_hex"]
    frame = encoder_for_psbt(psbt, 1000).next_part()
    assert frame == case["expected_ur"].replace("ur:psbt/", "ur:crypto-psbt/")
    decoder = StreamDecoder()
    decoder.receive(frame)
    assert decoder.psbt == psbt


def test_legacy_ur_bytes_psbt_is_accepted(ur_vectors):
    psbt = bytes.fromhex(ur_vectors["psbt_ur"]["psbt_hex"])
    decoder = StreamDecoder()
    decoder.receive(UREncoder("bytes", cbor2.dumps(psbt), 1000).next_part())
    assert decoder.psbt == psbt


def test_upper_case_frames_read_like_lower_case(ur_vectors):
    case = ur_vectors["psbt_ur"]
    decoder = StreamDecoder()
    decoder.receive(case["expected_ur"].upper())
    assert decoder.psbt.hex() == case["psbt_hex"]


def test_ur_bytes_that_are_not_a_psbt_are_refused():
    decoder = StreamDecoder()
    with pytest.raises(BadPart) as err:
        decoder.receive(UREncoder("bytes", cbor2.dumps(b"hello"), 1000).next_part())
    assert err.value.code == "qr_not_psbt"


def test_tagged_psbt_body_is_tolerated():
    psbt = build_psbt(1)
    assert psbt_from_cbor(cbor2.dumps(cbor2.CBORTag(310, psbt))) == psbt


def test_other_ur_types_are_unsupported(ur_vectors):
    with pytest.raises(UnsupportedPart) as err:
        StreamDecoder().receive(ur_vectors["ur_paper_examples"]["seed_ur"])
    assert err.value.code == "qr_unknown_type"


@pytest.mark.parametrize("text", [
    "ur:crypto-psbt",                 # no body
    "ur:crypto-psbt/1-/lpad",         # bad sequence
    "ur:crypto psbt/lpad",            # space in type
    "ur:crypto-psbt/0-3/lpad",        # seqNum 0
    "ur:crypto-psbt/1-3/lp4d",        # not bytewords
])
def test_malformed_ur_strings(text):
    with pytest.raises(BadPart) as err:
        URPart.from_string(text)
    assert err.value.code == "qr_malformed_part"


def test_path_and_cbor_sequence_numbers_must_agree(ur_vectors):
    text = ur_vectors["ur_multipart"]["expected_parts"][0].replace("/1-9/", "/2-9/")
    with pytest.raises(BadPart) as err:
        URDecoder(10_000, 100).receive(URPart.from_string(text))
    assert err.value.code == "qr_malformed_part"


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=1, max_size=3000), st.integers(10, 400), st.randoms())
def test_any_message_round_trips_through_ur_frames(message, fragment_len, rnd):
    encoder = UREncoder("bytes", cbor2.dumps(message), fragment_len)
    decoder = URDecoder(100_000, 1000)
    frames = [encoder.next_part() for _ in range(encoder.seq_len * 3 + 5)]
    rnd.shuffle(frames)
    for frame in frames:
        decoder.receive(URPart.from_string(frame))
        if decoder.result is not None:
            break
    assert cbor2.loads(decoder.result) == message
