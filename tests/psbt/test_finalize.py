"""Our checked finalizer, the BIP-143 sighash it relies on, and their speed."""

from __future__ import annotations

import pytest
from embit.ec import PublicKey, Signature
from embit.script import Script
from embit.transaction import SIGHASH, Transaction, TransactionInput, TransactionOutput
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordinator.errors import Conflict, InvalidInput
from coordinator.psbt import codec
from coordinator.psbt import status as status_mod
from coordinator.psbt.build import Output, assemble
from coordinator.psbt.finalize import finalize
from coordinator.psbt.merge import merge
from coordinator.psbt.sighash import (
    Sighasher,
    is_strict_der,
    parse_signature,
    unsigned_tx,
)
from coordinator.wallet.descriptor import MultisigDescriptor

from .. import keys
from . import chain

PAYEE = bytes.fromhex("0014" + "22" * 20)


def _spend(d, amounts=(100_000, 50_000), salt=b""):
    utxos = chain.fund(d, amounts, salt=salt)
    outputs = [Output(PAYEE, sum(amounts) - 30_000), Output(d.script_pubkey(1, 0).data, 20_000, 0)]
    return assemble(d, utxos, outputs, 800_000)


def _signed(d, p, signers):
    result = merge(p, p, d)
    for s in signers:
        result = merge(result.psbt, chain.sign(p, [s]), d)
    return result.psbt


def _witness_signers(tx: Transaction, i: int, ws: bytes, digest: bytes) -> list[int]:
    """Positions (in the witness script) of the keys that made each witness signature."""
    script_keys = [ws[1 + 34 * k + 1:1 + 34 * k + 34] for k in range((len(ws) - 3) // 34)]
    positions = []
    for sig in tx.vin[i].witness.items[1:-1]:
        positions.append(next(k for k, key in enumerate(script_keys)
                              if PublicKey.parse(key).verify(Signature.parse(sig[:-1]), digest)))
    return positions


@pytest.mark.parametrize("script_type", ["wsh", "sh-wsh"])
@pytest.mark.parametrize("signers", [(0, 1), (1, 0), (0, 2), (2, 1), (0, 1, 2)])
def test_signatures_go_in_witness_script_order(script_type, signers):
    d = keys.descriptor(2, 3, script_type=script_type)
    p = _spend(d)
    done = finalize(_signed(d, p, signers), d)
    tx = Transaction.parse(done.tx)
    assert tx.txid().hex() == done.txid
    if script_type == "wsh":  # nested segwit puts the redeem script in scriptSig, so in the txid
        assert done.txid == unsigned_tx(p).txid().hex()
    hasher = Sighasher(unsigned_tx(p))
    for i, scope in enumerate(p.inputs):
        ws = scope.witness_script.data
        items = tx.vin[i].witness.items
        assert items[0] == b"" and items[-1] == ws and len(items) == 2 + d.threshold
        order = _witness_signers(tx, i, ws, hasher.digest(i, ws, scope.witness_utxo.value))
        assert order == sorted(order) and len(set(order)) == 2
        expected_sig = b"" if script_type == "wsh" else bytes([34]) + scope.redeem_script.data
        assert tx.vin[i].script_sig.data == expected_sig


def test_unsorted_multi_follows_the_descriptors_key_order():
    d0 = keys.descriptor(2, 3)
    d = MultisigDescriptor("wsh", 2, tuple(reversed(d0.cosigners)), sorted=False)
    assert d.witness_script(0, 0).data != d0.witness_script(0, 0).data  # really another order
    p = _spend(d)
    done = finalize(_signed(d, p, (0, 2)), d)  # seeds 0 and 2 are at script positions 2 and 0
    tx = Transaction.parse(done.tx)
    ws = p.inputs[0].witness_script.data
    digest = Sighasher(unsigned_tx(p)).digest(0, ws, p.inputs[0].witness_utxo.value)
    assert _witness_signers(tx, 0, ws, digest) == [0, 2]


def test_the_finalized_psbt_keeps_utxos_and_drops_signing_data():
    d = keys.descriptor(2, 3)
    p = _spend(d)
    done = finalize(_signed(d, p, (0, 1)), d)
    again = codec.parse(codec.serialize(done.psbt))
    for scope, original in zip(again.inputs, p.inputs):
        assert scope.final_scriptwitness is not None and not scope.partial_sigs
        assert not scope.bip32_derivations and scope.witness_script is None
        assert scope.witness_utxo.serialize() == original.witness_utxo.serialize()
        assert scope.non_witness_utxo.txid() == original.non_witness_utxo.txid()


def test_too_few_signatures_is_incomplete():
    d = keys.descriptor(3, 5)
    p = _spend(d)
    with pytest.raises(Conflict) as e:
        finalize(_signed(d, p, (0, 4)), d)
    assert e.value.code == "incomplete"


def test_a_bad_signature_refuses_finalization_even_with_enough_good_ones():
    d = keys.descriptor(2, 3)
    p = _signed(d, _spend(d), (0, 1, 2))
    pub, sig = next(iter(p.inputs[1].partial_sigs.items()))
    p.inputs[1].partial_sigs[pub] = sig[:10] + bytes([sig[10] ^ 1]) + sig[11:]  # behind merge's back
    with pytest.raises(InvalidInput) as e:
        finalize(p, d)
    assert e.value.code == "invalid_signature"


def test_a_foreign_signature_refuses_finalization():
    d = keys.descriptor(2, 3)
    p = _signed(d, _spend(d), (0, 1))
    stranger = keys.root(9).derive("m/1/2").key
    p.inputs[0].partial_sigs[stranger.get_public_key()] = stranger.sign(b"\x01" * 32).serialize() + b"\x01"
    with pytest.raises(InvalidInput) as e:
        finalize(p, d)
    assert e.value.code == "foreign_key"


def test_an_input_that_is_not_the_wallets_is_refused():
    d, other = keys.descriptor(2, 3), keys.descriptor(2, 3, first=3)
    p = _spend(d)
    p.inputs[0] = _spend(other).inputs[0]
    with pytest.raises(InvalidInput) as e:
        finalize(p, d)
    assert e.value.code == "foreign_input"


def test_utxo_disagreement_and_missing_utxo_are_refused():
    d = keys.descriptor(2, 3)
    p = codec.copy(_spend(d))
    p.inputs[0].witness_utxo.value -= 1
    with pytest.raises(InvalidInput) as e:
        status_mod.status(p, d)
    assert e.value.code == "utxo_mismatch"
    p.inputs[0].witness_utxo = p.inputs[0].non_witness_utxo = None
    with pytest.raises(InvalidInput) as e:
        status_mod.status(p, d)
    assert e.value.code == "missing_utxo"


@pytest.mark.parametrize("sorted_", [True, False])
@pytest.mark.parametrize("script_type", ["wsh", "sh-wsh"])
def test_our_derived_witness_script_is_the_descriptors(sorted_, script_type):
    base = keys.descriptor(3, 5, script_type=script_type)
    d = MultisigDescriptor(script_type, 3, base.cosigners, sorted=sorted_)
    for branch, index in [(0, 0), (1, 7), (0, 2**31 - 1)]:
        assert status_mod._derive(d, branch, index)[1] == d.witness_script(branch, index).data


# -- BIP-143 and signature encoding -------------------------------------------------

@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n_in=st.integers(1, 6), n_out=st.integers(1, 4), version=st.sampled_from([1, 2, 3]),
       locktime=st.integers(0, 2**32 - 1), seed=st.binary(min_size=4, max_size=4),
       sequences=st.lists(st.integers(0, 2**32 - 1), min_size=6, max_size=6),
       script=st.binary(max_size=300), value=st.integers(0, 21_000_000 * 10**8))
def test_our_bip143_sighash_equals_embits(n_in, n_out, version, locktime, seed, sequences, script, value):
    vin = [TransactionInput(bytes([i]) * 28 + seed, i * 3, sequence=sequences[i]) for i in range(n_in)]
    vout = [TransactionOutput(value // (j + 1), Script(seed * (j + 1))) for j in range(n_out)]
    tx = Transaction(version=version, vin=vin, vout=vout, locktime=locktime)
    ours = Sighasher(tx)
    for i in range(n_in):
        assert ours.digest(i, script, value) == tx.sighash_segwit(i, Script(script), value, SIGHASH.ALL)


def test_our_cached_sighash_equals_embits_on_every_input_of_a_large_psbt():
    """The per-transaction hashes are computed once (speed: bench/psbt_pipeline.py)."""
    d = keys.descriptor(2, 3)
    p = _spend(d, [1000 + i for i in range(300)])
    hasher = Sighasher(unsigned_tx(p))
    ours = [hasher.digest(i, s.witness_script.data, s.witness_utxo.value) for i, s in enumerate(p.inputs)]
    theirs = [p.sighash_segwit(i, s.witness_script, s.witness_utxo.value) for i, s in enumerate(p.inputs)]
    assert ours == theirs


GOOD = bytes.fromhex("3044022062eb7a556107a7c73f45ac4ab5a1dddf6f7075fb1275969a7f383efff784bcb2"
                     "02200c05dbb7470dbf2f08557dd356c7325c1ed30913e996cd3840945db12228da5f01")


@pytest.mark.parametrize("sig, ok", [
    (GOOD, True),
    (GOOD[:1] + bytes([GOOD[1] + 1]) + GOOD[2:], False),  # wrong total length
    (GOOD[:3] + b"\x21" + GOOD[4:], False),  # R length runs over
    (b"\x30\x45\x02\x21\x00" + GOOD[4:36] + GOOD[36:], False),  # padded R that needs no padding
    (GOOD[:4] + bytes([GOOD[4] | 0x80]) + GOOD[5:], False),  # negative R
    (GOOD[:2] + b"\x03" + GOOD[3:], False),  # not an integer tag
    (b"\x30\x06\x02\x01\x01\x02\x01\x01\x01", True),  # the smallest valid encoding
    (b"\x30\x06\x02\x00\x02\x02\x01\x01\x01", False),  # zero-length R
])
def test_strict_der(sig, ok):
    assert is_strict_der(sig) is ok


def test_parse_signature_codes():
    assert parse_signature(GOOD)
    for sighash in (0x00, 0x02, 0x03, 0x81, 0x83):
        with pytest.raises(InvalidInput) as e:
            parse_signature(GOOD[:-1] + bytes([sighash]))
        assert e.value.code == "bad_sighash_type"
    for bad in (b"", GOOD[:-2] + GOOD[-1:]):
        with pytest.raises(InvalidInput) as e:
            parse_signature(bad)
        assert e.value.code == "invalid_signature"


# -- scale (timing lives in bench/psbt_pipeline.py) ---------------------------------

def test_a_500_input_3_of_5_psbt_merges_and_finalizes():
    d = keys.descriptor(3, 5)
    p = _spend(d, [100_000 + i for i in range(500)], salt=b"scale")
    submissions = [chain.sign(p, [s]).serialize() for s in (0, 2, 4)]
    result = merge(p, submissions[0], d)
    for raw in submissions[1:]:
        result = merge(result.psbt, raw, d)
    done = finalize(result.psbt, d)
    assert result.status.complete and len(Transaction.parse(done.tx).vin) == 500
