"""``huddle psbt inspect|combine|finalize`` on real PSBTs signed with the test seeds."""

from __future__ import annotations

import json

import bdkpython as bdk
import pytest

from coordinator.psbt.build import Output, assemble
from tests import keys
from tests.psbt import chain

from .runner import fails, huddle, ok, run  # noqa: F401

DESC = keys.descriptor(2, 3)
PAYEE = bytes.fromhex("0014" + "22" * 20)


@pytest.fixture
def files(tmp_path):
    utxos = chain.fund(DESC, [100_000, 50_000])
    psbt = assemble(DESC, utxos, [Output(PAYEE, 120_000), Output(DESC.script_pubkey(1, 0).data, 20_000, 0)],
                    800_000)
    (tmp_path / "unsigned.psbt").write_text(psbt.to_string())  # base64
    (tmp_path / "first.psbt").write_bytes(chain.sign(psbt, [0]).serialize())  # binary
    (tmp_path / "third.psbt").write_text(chain.sign(psbt, [2]).serialize().hex())  # hex
    (tmp_path / "foreign.psbt").write_bytes(_foreign(chain.sign(psbt, [0])).serialize())
    return tmp_path


def _foreign(signed):
    """Move input 0's signature onto a key that is not in the wallet."""
    outsider = keys.root(5).derive("m/48h/1h/0h/2h/0/0").get_public_key()
    scope = signed.inputs[0]
    [(_, sig)] = scope.partial_sigs.items()
    scope.partial_sigs = {outsider: sig}
    return signed


def test_inspect_with_the_wallet_shows_payee_change_fee_and_signers(run, files):
    out = json.loads(ok(run("psbt", "inspect", str(files / "first.psbt"), "--wallet", DESC.to_string(),
                            "--network", "regtest", "--json")))
    summary = out["summary"]
    assert [r["amount"] for r in summary["recipients"]] == [120_000]
    assert summary["change"] == [{"address": DESC.address(1, 0, "regtest"), "amount": 20_000, "index": 0}]
    assert summary["fee"] == 10_000
    signed = {c["fingerprint"]: c["done"] for c in out["signatures"]["cosigners"]}
    assert signed == {keys.fingerprint(0): True, keys.fingerprint(1): False, keys.fingerprint(2): False}
    assert out["signatures"]["needed"] == 1


def test_inspect_without_a_wallet_says_it_verified_nothing(run, files):
    out = ok(run("psbt", "inspect", str(files / "unsigned.psbt")))
    assert "Not verified" in out and "tb1q" in out  # tpub global xpubs: testnet addresses


def test_combine_then_finalize_gives_the_transaction_bdk_finalizes(run, files):
    combined = files / "combined.psbt"
    result = run("psbt", "combine", str(files / "unsigned.psbt"), str(files / "first.psbt"),
                 str(files / "third.psbt"), "--wallet", DESC.to_string(), "-o", str(combined))
    ok(result)
    assert f"Added signatures by {keys.fingerprint(0)} on 2 input(s)" in result.stderr
    assert "Complete" in result.stderr
    raw = ok(run("psbt", "finalize", str(combined), "--wallet", DESC.to_string())).strip()
    theirs = bdk.Psbt(combined.read_text().strip()).finalize()
    assert theirs.could_finalize
    assert raw == theirs.psbt.extract_tx().serialize().hex()


def test_finalize_with_one_signature_short_is_refused(run, files):
    fails(run("psbt", "finalize", str(files / "first.psbt"), "--wallet", DESC.to_string()), 5, "incomplete")


def test_combine_refuses_a_signature_by_a_key_outside_the_wallet(run, files):
    fails(run("psbt", "combine", str(files / "unsigned.psbt"), str(files / "foreign.psbt"),
              "--wallet", DESC.to_string()), 3, "foreign_key")


def test_combine_reads_stdin(run, files):
    result = run("psbt", "combine", str(files / "unsigned.psbt"), "-", "--wallet", DESC.to_string(),
                 input=(files / "third.psbt").read_text())
    assert ok(result).startswith("cHNidP")
    assert f"Added signatures by {keys.fingerprint(2)}" in result.stderr


def test_garbage_is_a_malformed_psbt_not_a_crash(run, tmp_path):
    (tmp_path / "junk").write_text("hello")
    fails(run("psbt", "inspect", str(tmp_path / "junk")), 3, "malformed_psbt")


def test_inspect_by_stored_wallet_name_uses_its_network(run, files):
    (files / "wallet.txt").write_text(DESC.to_string())
    ok(run("wallet", "import", str(files / "wallet.txt"), "--name", "group", env={"HUDDLE_NETWORK": "regtest"}))
    out = json.loads(ok(run("psbt", "inspect", str(files / "unsigned.psbt"), "--wallet", "group", "--json",
                            env={"HUDDLE_NETWORK": "regtest"})))
    assert out["summary"]["change"][0]["address"].startswith("bcrt1")


def test_inspect_without_a_wallet_shows_addresses_of_the_configured_network(run, files):
    out = json.loads(ok(run("psbt", "inspect", str(files / "unsigned.psbt"), "--json",
                            env={"HUDDLE_NETWORK": "regtest"})))
    assert [o["address"] for o in out["outputs"]] == [_address(PAYEE, "regtest"), DESC.address(1, 0, "regtest")]


def test_inspect_without_a_wallet_refuses_test_keys_on_a_bitcoin_huddle(run, files):
    line = fails(run("psbt", "inspect", str(files / "unsigned.psbt"), env={"HUDDLE_NETWORK": "bitcoin"}),
                 3, "wrong_network")
    assert "--network" in line


def test_inspect_without_a_wallet_takes_network_over_the_setting(run, files):
    out = ok(run("psbt", "inspect", str(files / "unsigned.psbt"), "--network", "signet",
                 env={"HUDDLE_NETWORK": "regtest"}))
    assert DESC.address(1, 0, "signet") in out and "bcrt1" not in out


def _address(script_pubkey: bytes, network: str) -> str:
    from embit.script import Script

    from coordinator import networks

    return Script(script_pubkey).address(networks.params(network))


BOM = "\ufeff"


@pytest.mark.parametrize("name", ["unsigned.psbt", "third.psbt"], ids=["base64", "hex"])
def test_a_psbt_file_starting_with_a_utf8_bom_is_read_like_a_wallet_file(run, files, name):
    text = (files / name).read_text()
    (files / "bom.psbt").write_text(BOM + text + "\r\n", encoding="utf-8")  # as Notepad saves it

    plain = json.loads(ok(run("psbt", "inspect", str(files / name), "--json")))
    assert json.loads(ok(run("psbt", "inspect", str(files / "bom.psbt"), "--json"))) == plain
    assert json.loads(ok(run("psbt", "inspect", "-", "--json", input=(BOM + text).encode()))) == plain


def test_a_bom_before_a_signer_file_in_combine_is_read_too(run, files):
    (files / "bom.psbt").write_text(BOM + (files / "third.psbt").read_text(), encoding="utf-8")
    result = run("psbt", "combine", str(files / "unsigned.psbt"), str(files / "bom.psbt"),
                 "--wallet", DESC.to_string())
    assert ok(result).startswith("cHNidP")
    assert f"Added signatures by {keys.fingerprint(2)}" in result.stderr


def test_qr_encode_reads_a_psbt_saved_with_a_utf8_bom(run, files):
    (files / "bom.psbt").write_text(BOM + (files / "unsigned.psbt").read_text(), encoding="utf-8")
    assert ok(run("qr", "encode", str(files / "bom.psbt"))) == ok(run("qr", "encode", str(files / "unsigned.psbt")))
