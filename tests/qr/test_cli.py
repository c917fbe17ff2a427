"""``huddle qr encode`` / ``huddle qr decode`` through click."""

from __future__ import annotations

import base64
import random

import pytest
from click.testing import CliRunner

from coordinator.cli import main
from coordinator.cli import qr as qr_cli

from .psbt_samples import build_psbt

if "qr" not in main.commands:
    main.add_command(qr_cli.group)


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(main, ["qr", *args], input=input)

    return invoke


@pytest.mark.parametrize("form", ["binary", "base64", "hex"])
@pytest.mark.parametrize("fmt", ["ur", "bbqr"])
def test_encode_then_decode_round_trips(run, tmp_path, form, fmt):
    psbt = build_psbt(10)
    body = {"binary": psbt, "base64": base64.b64encode(psbt) + b"\n",
            "hex": psbt.hex().encode() + b"\n"}[form]
    path = tmp_path / "tx.psbt"
    path.write_bytes(body)
    encoded = run("encode", str(path), "--format", fmt, "--density", "low")
    assert encoded.exit_code == 0, encoded.output
    frames = encoded.output.splitlines()
    assert all(f.startswith("ur:crypto-psbt/" if fmt == "ur" else "B$") for f in frames)
    shuffled = frames * 2
    random.Random(1).shuffle(shuffled)
    decoded = run("decode", input="\n".join(shuffled) + "\n")
    assert decoded.exit_code == 0, decoded.output
    assert base64.b64decode(decoded.output) == psbt


def test_encode_reads_stdin(run):
    psbt = build_psbt(1)
    result = run("encode", "-", "--density", "high", input=base64.b64encode(psbt))
    assert result.exit_code == 0
    assert len(result.output.splitlines()) == 4


def test_encode_can_print_extra_fountain_frames(run):
    result = run("encode", "-", "--frames", "20", input=base64.b64encode(build_psbt(10)))
    frames = result.output.splitlines()
    assert len(frames) == 20 and frames[-1].startswith("ur:crypto-psbt/20-30/")


def test_decode_skips_blank_lines_and_reads_bbqr_scan_of_a_psbt(run):
    frames = run("encode", "-", "--format", "bbqr", input=build_psbt(1).hex()).output
    decoded = run("decode", input="\n\n" + frames.replace("\n", "\n\n"))
    assert base64.b64decode(decoded.output) == build_psbt(1)


@pytest.mark.parametrize("frames, code, words", [
    (["ur:crypto-psbt/1-3/lpadaxcfaxhlcy"], "qr_bad_checksum", "checksum"),
    (["hello"], "qr_unknown_format", "neither UR, BBQr"),
    (["B$2P0300AAAAAAAA", "B$ZP0301AAAAAAAA"], "qr_bbqr_header_mismatch", "differs"),
])
def test_decode_errors_say_what_is_wrong(run, frames, code, words):
    result = run("decode", input="\n".join(frames) + "\n")
    assert result.exit_code == 3
    assert f"[{code}]" in result.output and words in result.output
    assert result.output.startswith("huddle: error: ")


def test_decode_of_an_unknown_ur_type(run, ur_vectors):
    result = run("decode", input=ur_vectors["ur_paper_examples"]["seed_ur"] + "\n")
    assert result.exit_code == 3 and "[qr_unknown_type]" in result.output


def test_decode_of_too_few_frames_reports_progress(run):
    frames = run("encode", "-", input=base64.b64encode(build_psbt(10))).output.splitlines()
    result = run("decode", input="\n".join(frames[:5]) + "\n")
    assert result.exit_code == 3 and "[qr_incomplete]" in result.output
    assert "5 parts seen" in result.output


def test_decode_reports_an_inconsistent_part(run):
    frames = run("encode", "-", input=base64.b64encode(build_psbt(10))).output.splitlines()
    other = run("encode", "-", input=base64.b64encode(build_psbt(1))).output.splitlines()
    result = run("decode", input=f"{frames[0]}\n{other[1]}\n")
    assert "[qr_mixed_transfer]" in result.output


def test_encode_of_something_else_is_not_a_psbt(run, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n")
    result = run("encode", str(path))
    assert result.exit_code == 3 and "[qr_not_psbt]" in result.output


def test_encode_of_a_missing_file(run, tmp_path):
    result = run("encode", str(tmp_path / "nope.psbt"))
    assert result.exit_code == 3 and "[bad_input]" in result.output


def test_encode_compact_for_a_documented_device_leaves_out_only_the_previous_transactions(run):
    from embit.psbt import PSBT

    psbt = build_psbt(10)
    result = run("encode", "-", "--compact", "seedsigner", input=base64.b64encode(psbt))
    assert result.exit_code == 0, result.output
    decoded = run("decode", input=result.output)
    shown = PSBT.parse(base64.b64decode(decoded.output))
    full = PSBT.parse(psbt)
    assert len(base64.b64decode(decoded.output)) < len(psbt)
    assert shown.tx.txid() == full.tx.txid()
    assert all(i.non_witness_utxo is None and i.witness_utxo is not None for i in shown.inputs)
    assert [i.witness_script for i in shown.inputs] == [i.witness_script for i in full.inputs]


def test_encode_compact_for_an_undocumented_device_is_refused(run):
    result = run("encode", "-", "--compact", "keystone", input=base64.b64encode(build_psbt(1)))
    assert result.exit_code != 0 and "[qr_compact_undocumented]" in result.output
    assert "Traceback" not in result.output
