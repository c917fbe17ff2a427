"""Issue 8: status, merge and finalize believe only signatures that verify,
finalize holds a spend to the signer checks' fee caps and verified amounts,
and the messages say what really happened."""

from __future__ import annotations

import pytest
from embit.script import Witness

from coordinator.errors import HuddleError
from coordinator.psbt import codec
from coordinator.psbt.build import Output, assemble
from coordinator.psbt.checks import check
from coordinator.psbt.fees import FeePolicy
from coordinator.psbt.finalize import finalize
from coordinator.psbt.merge import merge
from coordinator.psbt.status import status

from .. import keys
from . import chain

PAYEE = bytes.fromhex("0014" + "22" * 20)


def _spend(d, amounts=(100_000, 50_000), pay=120_000, change=20_000, salt=b""):
    utxos = chain.fund(d, list(amounts), salt=salt)
    outputs = [Output(PAYEE, pay), Output(d.script_pubkey(1, 0).data, change, 0)]
    return assemble(d, utxos, outputs, 800_000)


def _garbage(psbt, signers):
    """A copy where each of ``signers`` holds a well-formed signature that verifies for nothing."""
    bad = chain.sign(psbt, signers)
    for scope in bad.inputs:
        for pub, sig in scope.partial_sigs.items():
            scope.partial_sigs[pub] = sig[:10] + bytes([sig[10] ^ 1]) + sig[11:]
    return codec.parse(bad.serialize())


def _code(call, *args, **kw) -> str:
    with pytest.raises(HuddleError) as err:
        call(*args, **kw)
    return err.value.code


@pytest.fixture(scope="module")
def wallet():
    d = keys.descriptor(2, 3)
    return d, _spend(d)


# -- status counts only what verifies -----------------------------------------------


def test_status_counts_only_signatures_that_verify_and_names_the_bad_ones(wallet):
    d, p = wallet
    s = status(_garbage(p, [0, 1]), d)
    assert not s.complete and s.needed == 2
    assert all(i.signed_by == () for i in s.inputs)
    assert [i.invalid for i in s.inputs] == [(keys.fingerprint(0), keys.fingerprint(1))] * 2
    assert any(keys.fingerprint(0) in line and "does not verify" in line for line in s.problems())


def test_status_of_good_signatures_has_no_problems(wallet):
    d, p = wallet
    s = status(codec.parse(chain.sign(p, [0, 2]).serialize()), d)
    assert s.complete and s.problems() == [] and all(i.invalid == () for i in s.inputs)


def test_enough_valid_signatures_beside_a_bad_one_is_not_complete_because_finalize_refuses_it(wallet):
    d, p = wallet
    held = codec.parse(chain.sign(p, [1, 2]).serialize())
    garbage = _garbage(p, [0])
    for scope, bad in zip(held.inputs, garbage.inputs):
        scope.partial_sigs.update(bad.partial_sigs)
    s = status(held, d)
    assert s.needed == 0 and not s.complete and "finalize refuses" in s.headline()
    assert _code(finalize, held, d) == "invalid_signature"


# -- merge verifies what it holds too -----------------------------------------------


def test_merge_drops_held_signatures_that_do_not_verify_or_are_by_strangers(wallet):
    d, p = wallet
    held = _garbage(p, [0])
    stranger = keys.root(9).derive("m/1/2").key
    held.inputs[0].partial_sigs[stranger.get_public_key()] = stranger.sign(b"\x01" * 32).serialize() + b"\x01"
    result = merge(held, chain.sign(p, [1]), d)
    stranger_hex = stranger.get_public_key().sec().hex()
    assert result.dropped == {keys.fingerprint(0): [0, 1], stranger_hex: [0]}
    assert all(len(scope.partial_sigs) == 1 for scope in result.psbt.inputs)
    assert result.status.problems() == [] and result.status.needed == 1


def test_a_valid_signature_replaces_a_held_invalid_one(wallet):
    d, p = wallet
    held = _garbage(p, [0])
    result = merge(held, chain.sign(p, [0]), d)
    assert result.added == {keys.fingerprint(0): [0, 1]}
    assert result.status.inputs[0].signed_by == (keys.fingerprint(0),)
    assert result.status.inputs[0].invalid == ()
    done = merge(result.psbt, chain.sign(p, [1]), d)
    assert done.status.complete
    assert finalize(done.psbt, d).txid


def test_a_final_witness_that_repeats_a_signature_counts_it_once(wallet):
    d, p = wallet
    final = finalize(chain.sign(p, [0, 1]), d).psbt
    for scope in final.inputs:
        items = list(scope.final_scriptwitness.items)
        scope.final_scriptwitness = Witness([items[0], items[1], items[1], items[1], items[-1]])
    result = merge(p, final.serialize(), d)
    taken = sorted(i for inputs in result.added.values() for i in inputs)
    assert taken == [0, 1]  # one signature per input, each counted once
    assert [len(i.signed_by) for i in result.status.inputs] == [1, 1]


# -- finalize: the same fee caps and the same verified amounts as the checks ------------


def test_finalize_refuses_a_fee_the_signer_checks_refuse():
    d = keys.descriptor(2, 3)
    p = _spend(d, amounts=(3_000_000,), pay=1_500_000, change=400_000, salt=b"fee")  # fee 1.1M sat
    signed = merge(merge(p, chain.sign(p, [0]), d).psbt, chain.sign(p, [2]), d).psbt
    assert _code(check, p, d, "testnet", max_change_index=19) == "fee_too_high"
    assert _code(finalize, signed, d) == "fee_too_high"
    generous = FeePolicy(max_fee=2_000_000, max_fee_rate=10_000_000)
    assert finalize(signed, d, policy=generous).txid


def test_finalize_without_non_witness_utxo_is_missing_utxo_unless_a_synced_coin_vouches(wallet):
    d, p = wallet
    signed = codec.parse(chain.sign(p, [0, 1]).serialize())
    stripped = codec.copy(signed)
    for scope in stripped.inputs:
        scope.non_witness_utxo = None
    assert _code(finalize, stripped, d) == "missing_utxo"
    coins = chain.fund(d, [100_000, 50_000])  # the same coins, as the wallet's sync stored them
    assert finalize(stripped, d, coins=coins).tx == finalize(signed, d).tx
    lying = codec.copy(stripped)
    lying.inputs[0].witness_utxo.value -= 1
    assert _code(finalize, lying, d, coins=coins) == "utxo_mismatch"


def test_finalizing_a_psbt_another_tool_finalized_says_it_is_already_final(wallet):
    import bdkpython as bdk

    d, p = wallet
    theirs = bdk.Psbt(chain.sign(p, [1, 2]).to_string()).finalize()
    assert theirs.could_finalize
    with pytest.raises(HuddleError) as err:
        finalize(codec.parse(theirs.psbt.serialize()), d)
    assert err.value.code == "already_final" and "already final" in err.value.message
    recovered = merge(p, theirs.psbt.serialize(), d).psbt  # what the message says to do
    assert finalize(recovered, d).tx == bytes(theirs.psbt.extract_tx().serialize())
    ours = finalize(chain.sign(p, [0, 1]), d).psbt
    assert _code(finalize, ours, d) == "already_final"
    kept = codec.copy(p)  # a finalizer that kept the derivations: once "has 0 of the 2 signatures"
    for scope, final in zip(kept.inputs, ours.inputs):
        scope.final_scriptwitness = final.final_scriptwitness
    assert _code(finalize, kept, d) == "already_final"
