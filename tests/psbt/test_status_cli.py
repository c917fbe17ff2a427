"""Issue 8: ``huddle psbt inspect --wallet`` and ``combine`` count only
signatures that verify, say which do not, and let a valid one replace them."""

from __future__ import annotations

import json

import pytest

from coordinator.psbt import codec
from coordinator.psbt.build import Output, assemble
from tests import keys
from tests.cli.runner import huddle, ok, run  # noqa: F401 (fixtures)

from . import chain

DESC = keys.descriptor(2, 3)
PAYEE = bytes.fromhex("0014" + "22" * 20)


@pytest.fixture
def files(tmp_path):
    utxos = chain.fund(DESC, [100_000, 50_000], salt=b"status-cli")
    psbt = assemble(DESC, utxos, [Output(PAYEE, 120_000), Output(DESC.script_pubkey(1, 0).data, 20_000, 0)],
                    800_000)
    garbage = chain.sign(psbt, [0, 1])  # well-formed signatures by two cosigners that verify for nothing
    for scope in garbage.inputs:
        for pub, sig in scope.partial_sigs.items():
            scope.partial_sigs[pub] = sig[:10] + bytes([sig[10] ^ 1]) + sig[11:]
    (tmp_path / "garbage.psbt").write_text(codec.to_base64(garbage))
    (tmp_path / "second.psbt").write_text(codec.to_base64(chain.sign(psbt, [1])))
    (tmp_path / "third.psbt").write_text(codec.to_base64(chain.sign(psbt, [2])))
    return tmp_path


def test_inspect_does_not_call_garbage_signatures_complete(run, files):
    text = ok(run("psbt", "inspect", str(files / "garbage.psbt"), "--wallet", DESC.to_string()))
    assert "Complete" not in text and "Needs 2 more signature(s)" in text
    assert f"input 0: the signature by {keys.fingerprint(0)} does not verify" in text
    out = json.loads(ok(run("psbt", "inspect", str(files / "garbage.psbt"), "--wallet", DESC.to_string(),
                            "--json")))
    assert out["signatures"]["complete"] is False
    assert out["signatures"]["inputs"][1]["invalid"] == [keys.fingerprint(0), keys.fingerprint(1)]


def test_combine_lets_valid_signatures_replace_garbage_in_the_first_file(run, files):
    result = run("psbt", "combine", str(files / "garbage.psbt"), str(files / "second.psbt"),
                 str(files / "third.psbt"), "--wallet", DESC.to_string())
    ok(result)
    assert f"Added signatures by {keys.fingerprint(1)} on 2 input(s)" in result.stderr
    assert f"Dropped signatures by {keys.fingerprint(0)} on 2 input(s)" in result.stderr
    assert "Complete: ready to finalize." in result.stderr
    (files / "combined.psbt").write_text(result.stdout)
    assert len(ok(run("psbt", "finalize", str(files / "combined.psbt"), "--wallet", DESC.to_string())).strip()) > 100
