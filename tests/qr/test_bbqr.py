"""BBQr: the real camera scan, the spec's files, split rules and fitting."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coordinator.qr import bbqr
from coordinator.qr.capacity import alphanumeric_capacity
from coordinator.qr.errors import BadPart, UnsupportedPart
from coordinator.qr.stream import StreamDecoder

from .psbt_samples import build_psbt


def _join(parts, max_len=10_000_000):
    joiner = bbqr.BBQrJoiner(max_len)
    for text in parts:
        joiner.receive(bbqr.BBQrPart.from_string(text))
        if joiner.result is not None:
            return joiner.result
    raise AssertionError("series incomplete")


def test_real_scan_joins(bbqr_dir):
    expected = json.loads((bbqr_dir / "real-scan.expected.json").read_text())
    lines = [line for line in (bbqr_dir / "real-scan.txt").read_text().splitlines() if line]
    assert len(lines) == expected["scanned_lines_non_empty"]
    assert {line[:6] for line in lines} == {expected["header_prefix"]}
    file_type, data = _join(lines)
    assert file_type == expected["file_type"]
    assert len(data) == expected["decoded_length_bytes"]
    assert hashlib.sha256(data).hexdigest() == expected["decoded_sha256"]
    assert data == (bbqr_dir / "real-scan.decoded.txt").read_bytes()
    text = data.decode("utf-8")
    assert all(phrase in text for phrase in expected["upstream_assertions"]["contains"])


def test_real_scan_through_the_stream_decoder_is_not_a_psbt(bbqr_dir):
    decoder = StreamDecoder()
    for line in (bbqr_dir / "real-scan.txt").read_text().splitlines():
        if line:
            progress = decoder.receive(line)
    assert progress.complete and progress.format == "bbqr" and progress.parts_total == 8
    assert decoder.file_type == "U"
    with pytest.raises(BadPart) as err:
        decoder.psbt
    assert err.value.code == "qr_not_psbt"


def _spec_files(bbqr_dir):
    spec = json.loads((bbqr_dir / "bbqr_spec_examples.json").read_text())
    for meta in spec["test_files"]:
        data = bytes.fromhex((bbqr_dir / meta["file"]).read_text().strip())
        assert len(data) == meta["length_bytes"]
        assert hashlib.sha256(data).hexdigest() == meta["sha256"]
        assert base64.b64encode(data).decode() == meta["base64"]
        yield meta, data


@pytest.mark.parametrize("encoding", ["H", "2", "Z"])
def test_spec_files_round_trip_in_every_encoding(bbqr_dir, encoding):
    for meta, data in _spec_files(bbqr_dir):
        series = bbqr.serialize(data, meta["bbqr_file_type"], encoding, max_version=11)
        assert series.encoding == encoding
        parts = list(series.parts)
        random.Random(len(data)).shuffle(parts)
        assert _join(parts) == (meta["bbqr_file_type"], data)


def test_z_payload_is_shorter_than_the_raw_file(bbqr_dir):
    for meta, data in _spec_files(bbqr_dir):
        if meta["bbqr_file_type"] == "P":
            raw = base64.b32decode(_pad(bbqr.serialize(data, "P", "Z").parts[0][8:]))
            assert len(raw) < len(data)


def _pad(text: str) -> str:
    return text + "=" * (-len(text) % 8)


def test_auto_encoding_falls_back_to_base32_when_compression_does_not_help():
    noise = random.Random(3).randbytes(800)
    assert bbqr.serialize(noise, "T").encoding == "2"
    assert bbqr.serialize(build_psbt(10), "P").encoding == "Z"


def test_header_layout():
    series = bbqr.serialize(bytes(range(256)) * 8, "P", "H", max_version=10)
    total = len(series.parts)
    for index, part in enumerate(series.parts):
        assert part[:4] == "B$HP"
        assert int(part[4:6], 36) == total and int(part[6:8], 36) == index
        assert part == part.upper()


def test_parts_are_equal_length_and_whole_bytes():
    for encoding, mod in (("H", 2), ("2", 8), ("Z", 8)):
        series = bbqr.serialize(build_psbt(10), "P", encoding, max_version=11)
        lengths = [len(p) - bbqr.HEADER_LEN for p in series.parts]
        assert len(set(lengths[:-1])) == 1 and lengths[-1] <= lengths[0]
        assert all(n % mod == 0 for n in lengths[:-1])
        # Spread evenly: only rounding to whole bytes makes the last one shorter.
        assert lengths[0] - lengths[-1] <= len(lengths) * mod


def _parts_needed(chars: int, version: int) -> int:
    room = alphanumeric_capacity(version) - bbqr.HEADER_LEN
    return 1 if chars <= room else math.ceil(chars / (room - room % 8))


@pytest.mark.parametrize("inputs", [1, 10, 100])
def test_version_fitting_takes_fewest_qrs_then_lowest_version(inputs):
    data = build_psbt(inputs)
    series = bbqr.serialize(data, "P", "2", min_version=5, max_version=40)
    chars, count = math.ceil(len(data) * 8 / 5), len(series.parts)
    assert all(_parts_needed(chars, v) >= count for v in range(5, 41))
    assert all(_parts_needed(chars, v) > count for v in range(5, series.version))
    assert all(len(p) <= alphanumeric_capacity(series.version) for p in series.parts)


def test_small_file_is_a_single_part():
    assert bbqr.serialize(b"\x01\x02\x03", "U", "H").parts == ("B$HU0100010203",)


def test_lower_case_input_is_read():
    series = bbqr.serialize(build_psbt(1), "P", "2", max_version=10)
    assert _join([p.lower() for p in series.parts])[1] == build_psbt(1)


@pytest.mark.parametrize("text, code", [
    ("B$", "qr_malformed_part"),
    ("X$2P0100AA", "qr_malformed_part"),
    ("B$QP0100AA", "qr_unknown_type"),
    ("B$2C0100AA", "qr_unknown_type"),
    ("B$2P0101AA", "qr_malformed_part"),    # index 1 of 1
    ("B$2P0100A1", "qr_malformed_part"),    # 1 is not base32
    ("B$HP0100ABC", "qr_malformed_part"),   # odd hex
    ("B$2P0100ABC", "qr_malformed_part"),   # 3 base32 chars is not whole bytes
    ("B$2P!!00AA", "qr_malformed_part"),    # not base36
])
def test_malformed_parts(text, code):
    with pytest.raises((BadPart, UnsupportedPart)) as err:
        bbqr.BBQrPart.from_string(text)
    assert err.value.code == code


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1, max_size=4000), st.sampled_from(["H", "2", "Z", None]),
       st.integers(1, 20), st.sampled_from(["P", "T", "J", "U"]), st.randoms())
def test_any_file_splits_and_joins_in_any_order(data, encoding, max_version, file_type, rnd):
    series = bbqr.serialize(data, file_type, encoding, min_version=1, max_version=max_version)
    parts = list(series.parts) * 2
    rnd.shuffle(parts)
    assert _join(parts) == (file_type, data)
    assert all(len(p) <= alphanumeric_capacity(series.version) for p in series.parts)
