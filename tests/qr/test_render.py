"""Rendered frames are real QR codes: zxing-cpp reads them back."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from coordinator.qr.presets import PRESETS
from coordinator.qr.render import FrameRenderer, qr_text, sequence_version
from coordinator.qr.sequence import psbt_frames
from coordinator.qr.stream import StreamDecoder

from .psbt_samples import build_psbt


def _scan(png: bytes) -> zxingcpp.Barcode:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)),
                                   formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, "zxing-cpp did not find exactly one QR code"
    return found[0]


@pytest.mark.parametrize("fmt", ["ur", "bbqr"])
@pytest.mark.parametrize("preset", list(PRESETS))
def test_png_frames_scan_and_reassemble(preset, fmt):
    psbt = build_psbt(10)
    sequence = psbt_frames(psbt, fmt, PRESETS[preset])
    renderer = FrameRenderer(sequence.version, scale=2)
    decoder = StreamDecoder()
    versions = set()
    for frame in reversed(sequence.frames):
        scanned = _scan(renderer.to_png(frame))
        assert scanned.text == qr_text(frame)
        assert scanned.ec_level == "L"
        versions.add(int(scanned.extra["Version"]))
        decoder.receive(scanned.text)
    assert decoder.psbt == psbt
    assert versions == {sequence.version}


def test_bbqr_frames_share_one_version_and_size():
    sequence = psbt_frames(build_psbt(10), "bbqr", PRESETS["high"])
    renderer = FrameRenderer(sequence.version)
    sizes = {Image.open(io.BytesIO(renderer.to_png(f))).size for f in sequence.frames}
    assert len(sizes) == 1
    assert {renderer.symbol(f).version for f in sequence.frames} == {sequence.version}


def test_ur_frames_use_alphanumeric_mode():
    sequence = psbt_frames(build_psbt(1), "ur", PRESETS["medium"])
    assert {FrameRenderer(sequence.version).symbol(f).mode for f in sequence.frames} \
        == {"alphanumeric"}


@pytest.mark.parametrize("inputs", [1, 10, 100])
def test_preset_versions_are_about_what_they_promise(inputs):
    # Small PSBTs get smaller equal fragments, so lower versions; full
    # fragments land within one version of the preset's.
    for preset in PRESETS.values():
        sequence = psbt_frames(build_psbt(inputs), "ur", preset)
        assert sequence.version <= preset.qr_version + 1, preset.name
        if inputs > 1:
            assert sequence.version >= preset.qr_version - 1, preset.name


def test_svg_is_well_formed_and_scales():
    sequence = psbt_frames(build_psbt(1), "ur", PRESETS["low"])
    svg = FrameRenderer(sequence.version).to_svg(sequence.frames[0])
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    modules = 4 * sequence.version + 17 + 2 * 4
    assert root.get("width") == str(modules * 4)


def test_a_frame_that_outgrows_the_sequence_version_still_renders():
    renderer = FrameRenderer(1)
    assert _scan(renderer.to_png("B$HP0100" + "AB" * 40)).text == "B$HP0100" + "AB" * 40


@settings(max_examples=8, deadline=None)
@given(st.binary(min_size=1, max_size=600).map(lambda b: b"psbt\xff" + b),
       st.sampled_from(["ur", "bbqr"]), st.sampled_from(list(PRESETS)))
def test_any_psbt_bytes_survive_render_and_scan(psbt, fmt, preset):
    sequence = psbt_frames(psbt, fmt, PRESETS[preset])
    renderer = FrameRenderer(sequence_version(sequence.frames), scale=2)
    decoder = StreamDecoder()
    for frame in sequence.frames:
        decoder.receive(_scan(renderer.to_png(frame)).text)
    assert decoder.psbt == psbt
