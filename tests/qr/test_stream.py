"""The streaming decoder the server will expose to the PWA."""

from __future__ import annotations

import base64
import random

import pytest

from coordinator.qr import bbqr
from coordinator.qr.errors import BadPart
from coordinator.qr.stream import StreamDecoder
from coordinator.qr.ur import encoder_for_psbt

from .psbt_samples import build_psbt


def test_progress_reports_percent_parts_format_and_completion():
    psbt = build_psbt(10)
    encoder = encoder_for_psbt(psbt, 200)
    decoder = StreamDecoder()
    assert decoder.progress().format is None
    seen = []
    while not decoder.complete:
        seen.append(decoder.receive(encoder.next_part()))
    assert [p.parts_seen for p in seen] == list(range(1, len(seen) + 1))
    assert all(p.format == "ur" and p.parts_total == encoder.seq_len for p in seen)
    percents = [p.percent for p in seen]
    assert percents == sorted(percents) and percents[-1] == 100 and max(percents[:-1]) < 100
    assert seen[-1].complete and not any(p.complete for p in seen[:-1])
    assert seen[-1].to_dict() == {"percent": 100, "parts_seen": len(seen),
                                  "parts_total": encoder.seq_len, "format": "ur",
                                  "complete": True}
    assert decoder.psbt == psbt


def test_duplicates_do_not_count_twice():
    parts = bbqr.serialize(build_psbt(10), "P", max_version=11).parts
    decoder = StreamDecoder()
    for _ in range(3):
        progress = decoder.receive(parts[0])
    assert progress.parts_seen == 1
    assert progress.percent == int(100 / len(parts))


def test_bbqr_in_any_order_with_repeats():
    psbt = build_psbt(10)
    parts = list(bbqr.serialize(psbt, "P", max_version=7).parts) * 2
    random.Random(5).shuffle(parts)
    decoder = StreamDecoder()
    for frame in parts:
        progress = decoder.receive(frame)
    assert progress.complete and progress.format == "bbqr"
    assert decoder.psbt == psbt


@pytest.mark.parametrize("encode", [lambda b: base64.b64encode(b).decode(),
                                    lambda b: b.hex(), lambda b: b.hex().upper()])
def test_a_bare_psbt_in_one_static_qr_is_read(encode):
    psbt = build_psbt(1)
    decoder = StreamDecoder()
    progress = decoder.receive(encode(psbt))
    assert progress.complete and progress.format == "psbt" and decoder.psbt == psbt


def test_frames_after_completion_are_ignored():
    psbt = build_psbt(1)
    decoder = StreamDecoder()
    decoder.receive(base64.b64encode(psbt).decode())
    assert decoder.receive("anything at all").complete
    assert decoder.psbt == psbt


def test_asking_for_the_psbt_too_early_says_how_far_it_got():
    decoder = StreamDecoder()
    decoder.receive(encoder_for_psbt(build_psbt(10), 200).next_part())
    with pytest.raises(BadPart) as err:
        decoder.psbt
    assert err.value.code == "qr_incomplete"
    assert err.value.details["parts_seen"] == 1


def test_reset_starts_a_new_transfer():
    decoder = StreamDecoder()
    decoder.receive(base64.b64encode(build_psbt(1)).decode())
    decoder.reset()
    decoder.receive(encoder_for_psbt(build_psbt(1), 2000).next_part())
    assert decoder.psbt == build_psbt(1)


def test_a_long_lossy_ur_scan_holds_bounded_state():
    psbt = build_psbt(100)
    encoder = encoder_for_psbt(psbt, 80)
    encoder.fountain.seq_num = 5_000  # only mixed parts: the worst case for memory
    decoder = StreamDecoder()
    fountain = decoder._ur.fountain
    most = 0
    while not decoder.complete:
        decoder.receive(encoder.next_part())
        most = max(most, len(fountain.held))
    assert most <= fountain.held_cap
    assert decoder.psbt == psbt
