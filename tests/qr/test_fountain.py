"""Fountain parts: the spec's 20 parts, and reassembly under frame loss."""

from __future__ import annotations

import random

import cbor2
import pytest

from coordinator.qr.errors import BadPart
from coordinator.qr.fountain import FountainDecoder, FountainEncoder, FountainPart
from coordinator.qr.presets import PRESETS
from coordinator.qr.stream import StreamDecoder
from coordinator.qr.ur import encoder_for_psbt

from .psbt_samples import build_psbt


def test_part_cbor(ur_vectors):
    case = ur_vectors["part_cbor"]
    part = FountainPart(case["seq_num"], case["seq_len"], case["message_len"],
                        case["checksum"], bytes.fromhex(case["data_hex"]))
    assert part.serialize().hex() == case["expected_cbor_hex"]
    assert FountainPart.parse(part.serialize()) == part


def test_encoder_emits_the_spec_parts(ur_vectors):
    case = ur_vectors["fountain_encoder"]
    encoder = FountainEncoder(bytes.fromhex(case["message_hex"]), case["max_fragment_len"])
    for expected in case["expected_parts"]:
        part = encoder.next_part()
        assert (part.seq_num, part.seq_len, part.message_len, part.checksum) == (
            expected["seq_num"], expected["seq_len"], expected["message_len"],
            expected["checksum"])
        assert part.data.hex() == expected["data_hex"]
        assert part.serialize().hex() == expected["cbor_hex"]


def test_decoder_reassembles_the_spec_parts_in_any_order(ur_vectors):
    case = ur_vectors["fountain_encoder"]
    parts = [FountainPart.parse(bytes.fromhex(p["cbor_hex"])) for p in case["expected_parts"]]
    for seed in range(30):
        decoder = FountainDecoder(10_000, 100)
        for part in random.Random(seed).sample(parts, len(parts)):
            decoder.receive(part)
        assert decoder.result == bytes.fromhex(case["message_hex"])


def test_decoder_uses_only_mixed_parts_when_it_must():
    message = random.Random(7).randbytes(1000)
    encoder = FountainEncoder(message, 100)
    for _ in range(encoder.seq_len):
        encoder.next_part()  # never shown: only fountain mixes reach the decoder
    decoder = FountainDecoder(10_000, 100)
    while decoder.result is None:
        decoder.receive(encoder.next_part())
    assert decoder.result == message


def test_mixed_parts_held_are_bounded():
    class SmallDecoder(FountainDecoder):
        held_cap = 10

    encoder = FountainEncoder(random.Random(1).randbytes(20_000), 100)
    encoder.seq_num = 10_000  # skip the plain fragments
    decoder = SmallDecoder(100_000, 1000)
    high_water = 0
    for _ in range(150):
        decoder.receive(encoder.next_part())
        high_water = max(high_water, len(decoder.held))
        assert sum(len(s) for s in decoder.by_index.values()) == decoder.indexes_held == sum(
            h.mask.bit_count() for h in decoder.held.values())
        assert sorted(i for s in decoder.by_low.values() for i in s) == sorted(decoder.held)
    assert high_water == 10
    assert FountainDecoder(100_000, 1000).held_cap == 16  # before any part


def _frames_until_complete(psbt: bytes, fragment_len: int, loss: float, seed: int) -> int:
    encoder = encoder_for_psbt(psbt, fragment_len)
    decoder = StreamDecoder()
    rng = random.Random(seed)
    for shown in range(1, 20 * encoder.seq_len + 100):
        frame = encoder.next_part()
        if rng.random() >= loss:
            decoder.receive(frame)
        if decoder.complete:
            assert decoder.psbt == psbt
            return shown
    raise AssertionError("fountain decoding did not finish")


@pytest.mark.parametrize("inputs", [1, 10, 100])
@pytest.mark.parametrize("loss", [0.0, 0.1, 0.2, 0.3])
def test_reassembles_under_seeded_frame_loss(inputs, loss):
    psbt = build_psbt(inputs)
    fragment_len = PRESETS["medium"].ur_fragment_len
    shown = _frames_until_complete(psbt, fragment_len, loss, seed=inputs * 100 + int(loss * 10))
    seq_len = -(-(len(psbt) + 3) // fragment_len)
    if loss == 0:
        assert shown == seq_len  # the plain fragments alone suffice
    assert shown < 3 * seq_len + 10


def test_a_part_that_cannot_describe_its_message_is_refused():
    with pytest.raises(BadPart) as err:
        FountainDecoder(10_000, 100).receive(FountainPart(1, 5, 100, 0, b"x" * 10))
    assert err.value.code == "qr_inconsistent_part"


@pytest.mark.parametrize("fields", [
    [1, 1, 1, 1],                       # four fields
    [1, 1, 1, 1, "text"],               # data not bytes
    [-1, 1, 1, 1, b"x"],                # negative
    [1, 1, 1, 2 ** 32, b"x"],           # checksum beyond uint32
    [0, 1, 1, 1, b"x"],                 # seqNum 0
])
def test_malformed_part_cbor_is_refused(fields):
    with pytest.raises(BadPart) as err:
        FountainDecoder(10_000, 100).receive(FountainPart.parse(cbor2.dumps(fields)))
    assert err.value.code == "qr_malformed_part"


def test_trailing_bytes_after_part_cbor_are_refused():
    raw = FountainPart(1, 1, 1, 0, b"x").serialize() + b"\x00"
    with pytest.raises(BadPart) as err:
        FountainPart.parse(raw)
    assert err.value.code == "qr_malformed_part"
