"""BIP-174 and BIP-370 test vectors, through our codec, merge and finalizer."""

from __future__ import annotations

import base64
import json
from collections import Counter

import pytest
from embit.script import Script, p2wsh

from coordinator.errors import Conflict, InvalidInput
from coordinator.psbt import codec
from coordinator.psbt.finalize import finalize_inputs
from coordinator.psbt.merge import take_signatures
from coordinator.psbt.sighash import Sighasher, determine_locktime, unsigned_tx, verify
from coordinator.psbt.status import WalletInput
from tests.conftest import VECTORS


def _load(vectors_dir):
    return json.loads((vectors_dir / "bip174.json").read_text(encoding="utf-8"))


def _cases(section: str, kind: str):
    # collected at import time, so read the file directly
    path = VECTORS / "bip174.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return [pytest.param(v, id=f"{section}-{i}-{v['description'][:40]}")
            for i, v in enumerate(data[section][kind])]


def _forms(vector):
    return [vector["hex"], vector["base64"], bytes.fromhex(vector["hex"])]


def _kv_maps(raw: bytes) -> list[Counter]:
    """Each map's key-value pairs as a multiset (order is free in BIP-174/370)."""
    maps, pos, current = [], 5, Counter()

    def string():
        nonlocal pos
        n = raw[pos]
        width = {0xFD: 2, 0xFE: 4, 0xFF: 8}.get(n, 0)
        n = int.from_bytes(raw[pos + 1:pos + 1 + width], "little") if width else n
        pos += 1 + width
        pos += n
        return raw[pos - n:pos]

    while pos < len(raw):
        key = string()
        if not key:
            maps.append(current)
            current = Counter()
            continue
        current[(key, string())] += 1
    return maps


def test_the_vectors_file_is_there(vectors_dir):
    data = _load(vectors_dir)
    assert len(data["bip174"]["invalid"]) == 20 and len(data["bip370"]["invalid"]) == 24
    assert len(data["bip174"]["valid"]) == 10 and len(data["bip370"]["valid"]) == 14


@pytest.mark.parametrize("vector", _cases("bip174", "invalid"))
def test_bip174_invalid_psbts_are_malformed(vector):
    for form in _forms(vector):
        with pytest.raises(InvalidInput) as e:
            codec.parse(form)
        assert e.value.code == "malformed_psbt", vector["description"]


@pytest.mark.parametrize("vector", _cases("bip370", "invalid"))
def test_bip370_invalid_psbts_are_malformed(vector):
    for form in _forms(vector):
        with pytest.raises(InvalidInput) as e:
            codec.parse(form)
        assert e.value.code == "malformed_psbt", vector["description"]


@pytest.mark.parametrize("vector", _cases("bip174", "valid")
                         + _cases("bip174", "valid_but_fails_signer_checks"))
def test_bip174_valid_psbts_parse_and_round_trip_exactly(vector):
    for form in _forms(vector):
        assert codec.serialize(codec.parse(form)).hex() == vector["hex"]


@pytest.mark.parametrize("vector", _cases("bip370", "valid"))
def test_bip370_valid_psbts_parse_and_keep_every_field(vector):
    raw = bytes.fromhex(vector["hex"])
    psbt = codec.parse(raw)
    again = codec.serialize(psbt)
    assert psbt.version == 2
    assert _kv_maps(again) == _kv_maps(raw)  # embit may reorder keys; none is lost or changed
    assert codec.serialize(codec.parse(again)) == again


@pytest.mark.parametrize("vector", _cases("bip370", "locktime_determination"))
def test_bip370_locktime_determination(vector):
    if vector["expected_locktime"] is None:  # height-only and time-only inputs: no locktime works
        with pytest.raises(InvalidInput) as e:
            codec.parse(vector["hex"])
        assert e.value.code == "malformed_psbt"
        return
    psbt = codec.parse(vector["hex"])
    assert determine_locktime(psbt) == vector["expected_locktime"]
    assert unsigned_tx(psbt).locktime == vector["expected_locktime"]


def test_combiner_unknown_keys_vectors_parse_and_round_trip(vectors_dir):
    case = _load(vectors_dir)["bip174"]["combiner_unknown_keys"]
    for item in case["input_psbts"] + [{"hex": case["expected_combined_psbt_hex"]}]:
        assert codec.serialize(codec.parse(item["hex"])).hex() == item["hex"]
    # Our merge never combines unknown fields (only verified partial_sigs): see test_merge.


# -- the full role run: creator -> updater -> signers -> combiner -> finalizer -> extractor


@pytest.fixture(scope="module")
def run(vectors_dir):
    steps = {s["role"]: s for s in _load(vectors_dir)["bip174"]["role_workflow"]["steps"]}
    return steps


def _psbt(step):
    return codec.parse(step["expected_psbt_base64"])


def _segwit_input(run) -> WalletInput:
    """Input 1, the P2SH-P2WSH 2-of-2: the input type our engine handles."""
    ws = bytes.fromhex(run["updater"]["witness_scripts"][0])
    keys = (ws[2:35], ws[36:69])  # multi(), key order as written in the script
    value = _psbt(run["updater"]).inputs[1].witness_utxo.value
    return WalletInput(1, ws, p2wsh(Script(ws)).data, ((keys[0], 0), (keys[1], 1)), value)


def test_every_role_output_round_trips_exactly(run):
    for role, step in run.items():
        if "expected_psbt_hex" in step:
            again = codec.serialize(codec.parse(step["expected_psbt_hex"]))
            assert again.hex() == step["expected_psbt_hex"], role
            assert base64.b64decode(step["expected_psbt_base64"]).hex() == step["expected_psbt_hex"]


def test_signers_signatures_verify_against_our_bip143_sighash(run):
    info = _segwit_input(run)
    for role in ("signer_1", "signer_2"):
        psbt = _psbt(run[role])
        digest = Sighasher(unsigned_tx(psbt)).digest(1, info.witness_script, info.value)
        (pub, sig), = psbt.inputs[1].partial_sigs.items()
        verify(pub, sig, digest)
        assert info.cosigner(pub.sec()) is not None


def _without_legacy_input_sigs(psbt):
    psbt.inputs[0].partial_sigs.clear()  # input 0 is legacy P2SH: not a type our engine signs for
    return psbt


@pytest.mark.parametrize("order", [("signer_1", "signer_2"), ("signer_2", "signer_1")])
def test_combiner_merge_takes_the_segwit_signatures(run, order):
    stored = _psbt(run["updater_sighash_all"])
    inputs = {1: _segwit_input(run)}
    for role in order:
        theirs = _without_legacy_input_sigs(_psbt(run[role]))
        for i, pub, sig, _ in take_signatures(stored, theirs, inputs):
            stored.inputs[i].partial_sigs[pub] = sig
    expected = _psbt(run["combiner"]).inputs[1].partial_sigs
    assert dict(stored.inputs[1].partial_sigs) == dict(expected)


def test_finalizer_and_extractor_match_the_bip_for_the_segwit_input(run):
    """Our finalizer does P2WSH and P2SH-P2WSH only. The BIP's input 0 is legacy
    P2SH multisig: for it we take the BIP's own finalized input, and finalize
    input 1 ourselves. Our finalized PSBT and the extracted transaction must
    then equal the BIP's, byte for byte."""
    combined = _psbt(run["combiner"])
    bip_final = _psbt(run["input_finalizer"])
    combined.inputs[0] = bip_final.inputs[0]
    done = finalize_inputs(combined, {1: _segwit_input(run)}, threshold=2)
    assert done.tx.hex() == run["transaction_extractor"]["expected_tx_hex"]
    assert codec.serialize(done.psbt).hex() == run["input_finalizer"]["expected_psbt_hex"]


def test_our_finalizer_refuses_the_legacy_input_it_cannot_finalize(run):
    with pytest.raises(Conflict) as e:
        finalize_inputs(_psbt(run["combiner"]), {1: _segwit_input(run)}, threshold=2)
    assert e.value.code == "incomplete"
