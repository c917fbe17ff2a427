"""The display's order of fountain parts (schedule.py): a valid UR stream for
any decoder, modelled faithfully, and faster across the air gap."""

from __future__ import annotations

import random
import statistics

import pytest

from coordinator.qr import schedule
from coordinator.qr.chooser import choose_fragments
from coordinator.qr.fountain import FountainDecoder, FountainEncoder
from coordinator.qr.presets import PRESETS
from coordinator.qr.ur import encoder_for_psbt, psbt_to_cbor

from .psbt_samples import build_psbt

MEDIUM = PRESETS["medium"].ur_fragment_len


def _parts(encoder, count):
    return [encoder.next_part() for _ in range(count)]


def _frames_needed(parts, loss, seed):
    rng, decoder = random.Random(seed), FountainDecoder(10**7, 10**5)
    for shown, part in enumerate(parts, 1):
        if rng.random() >= loss:
            decoder.receive(part)
            if decoder.result is not None:
                return shown, decoder.result
    raise AssertionError("did not complete")


@pytest.mark.parametrize("seed", range(40))
def test_the_mask_peeler_completes_on_the_same_frame_as_the_real_decoder(seed):
    encoder = FountainEncoder(random.Random(seed).randbytes(3000), 100)
    parts = _parts(encoder, 6 * encoder.seq_len)
    rng = random.Random(1000 + seed)
    kept = [p for p in parts if rng.random() >= 0.3]
    decoder, peeler = FountainDecoder(10**7, 10**5), schedule.Peeler(encoder.seq_len)
    for part in kept:
        decoder.receive(part)
        peeler.take(schedule.mask_of(choose_fragments(part.seq_num, part.seq_len, part.checksum)))
        assert peeler.done == (decoder.result is not None)
        assert peeler.known == schedule.mask_of(decoder.simple)


def test_scheduled_stream_starts_with_every_plain_fragment_then_new_mixes():
    encoder = encoder_for_psbt(build_psbt(10), MEDIUM).fountain
    seq_nums = [p.seq_num for p in _parts(encoder, 4 * encoder.seq_len)]
    assert seq_nums[:encoder.seq_len] == list(range(1, encoder.seq_len + 1))
    assert len(set(seq_nums)) == len(seq_nums)  # never the same part twice
    assert all(s > encoder.seq_len for s in seq_nums[encoder.seq_len:])


@pytest.mark.parametrize("loss", [0.1, 0.2, 0.3])
def test_scheduled_stream_reassembles_the_psbt_under_loss(loss):
    psbt = build_psbt(10)
    parts = _parts(encoder_for_psbt(psbt, MEDIUM).fountain, 400)
    for seed in range(20):
        _, message = _frames_needed(parts, loss, seed)
        assert message == psbt_to_cbor(psbt)


def test_scheduled_stream_needs_fewer_frames_than_the_standard_order():
    psbt = build_psbt(10)
    scheduled = _parts(encoder_for_psbt(psbt, MEDIUM).fountain, 400)
    standard = _parts(FountainEncoder(psbt_to_cbor(psbt), MEDIUM), 400)
    ours = [_frames_needed(scheduled, 0.2, s)[0] for s in range(200)]
    theirs = [_frames_needed(standard, 0.2, s)[0] for s in range(200)]
    assert statistics.fmean(ours) < statistics.fmean(theirs)
    assert sorted(ours)[189] <= sorted(theirs)[189]  # p95


def test_long_messages_keep_the_standard_order():
    assert schedule.design(schedule.MAX_SEQ_LEN + 1, 12345, frames=10) == []


def test_a_schedule_cannot_be_set_after_parts_were_shown():
    encoder = FountainEncoder(bytes(500), 100)
    encoder.next_part()
    with pytest.raises(ValueError):
        encoder.show_first(lambda: (10, 11))
