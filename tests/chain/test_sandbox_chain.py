"""The sandbox chain accepts real spends and refuses bad ones in Bitcoin Core's words."""

from __future__ import annotations

import pytest

from coordinator.chain.sandbox import Chain, Rejected, faucet_pay, script_for
from coordinator.chain.sandbox.faucet import FAUCET_SCRIPT, _build
from coordinator.chain.sandbox.tx import Tx, TxOut
from coordinator.errors import InvalidInput

from .. import keys
from ..psbt.chain import sign
from .spends import (
    PAYEE,
    finalize,
    foreign_signature,
    fund,
    high_s,
    signed_spend,
    unsigned,
    with_witness,
)

NULLFAIL = "mandatory-script-verify-flag-failed (Signature must be zero for failed CHECK(MULTI)SIG operation)"


def rejection(chain: Chain, raw: bytes) -> Rejected:
    with pytest.raises(Rejected) as caught:
        chain.submit(raw)
    return caught.value


@pytest.mark.parametrize("m,n,script_type", [(2, 3, "wsh"), (2, 3, "sh-wsh"), (3, 5, "wsh"), (3, 5, "sh-wsh")])
def test_valid_multisig_spend_is_accepted_and_mined(m, n, script_type):
    chain = Chain()
    desc = keys.descriptor(m, n, True, script_type)
    raw, _ = signed_spend(chain, desc, list(range(n))[-m:], script_type)
    txid = chain.submit(raw)
    assert txid in chain.mempool
    chain.mine(1)
    assert chain.confirmed[txid][1] == chain.height


def test_one_signature_short_of_the_threshold_is_refused():
    chain = Chain()
    desc = keys.descriptor(2, 3, True, "wsh")
    raw, _ = signed_spend(chain, desc, [0, 1])
    dummy, sig_a, _sig_b, script = Tx.parse(raw).vin[0].witness
    short = with_witness(raw, 0, [dummy, sig_a, script])
    assert rejection(chain, short).message == (
        "mandatory-script-verify-flag-failed (Operation not valid with the current stack size)")
    # an empty signature in the missing slot: the multisig fails, and NULLFAIL objects to sig_a
    empty_slot = with_witness(raw, 0, [dummy, sig_a, b"", script])
    assert rejection(chain, empty_slot).message == NULLFAIL


def test_signature_from_a_foreign_key_is_refused():
    chain = Chain()
    desc = keys.descriptor(2, 3, True, "wsh")
    raw, utxos = signed_spend(chain, desc, [0, 1])
    dummy, sig_a, _sig_b, script = Tx.parse(raw).vin[0].witness
    foreign = foreign_signature(raw, 0, script, utxos[0].value)
    assert rejection(chain, with_witness(raw, 0, [dummy, sig_a, foreign, script])).message == NULLFAIL


def test_signature_over_the_wrong_amount_is_refused():
    chain = Chain()
    desc = keys.descriptor(2, 3, True, "wsh")
    utxo = fund(chain, desc, 1_000_000)
    psbt = unsigned(chain, desc, [utxo])
    psbt.inputs[0].non_witness_utxo = None
    psbt.inputs[0].witness_utxo.value = utxo.value + 1  # the signers are told a wrong amount
    raw = finalize(sign(psbt, [0, 1]))
    assert rejection(chain, raw).message == NULLFAIL


def test_outputs_above_inputs_are_refused():
    chain = Chain()
    desc = keys.descriptor(2, 3, True, "wsh")
    raw, _ = signed_spend(chain, desc, [0, 1], extra_out=2_000)  # pays 1_001_000 from 1_000_000
    assert rejection(chain, raw).message == "bad-txns-in-belowout, value in (0.01) < value out (0.01001)"


def test_double_spend_of_a_confirmed_coin_is_missing_or_spent():
    chain = Chain()
    desc = keys.descriptor(2, 3, True, "wsh")
    utxo = fund(chain, desc, 1_000_000)
    first = finalize(sign(unsigned(chain, desc, [utxo], fee=1_000), [0, 1]))
    second = finalize(sign(unsigned(chain, desc, [utxo], fee=5_000), [1, 2]))
    chain.submit(first)
    chain.mine(1)
    refused = rejection(chain, second)
    assert (refused.message, refused.code) == ("bad-txns-inputs-missingorspent", -25)


def test_double_spend_in_the_mempool_follows_replacement_rules():
    chain = Chain()
    desc = keys.descriptor(2, 3, True, "wsh")
    utxo = fund(chain, desc, 1_000_000)
    first = finalize(sign(unsigned(chain, desc, [utxo], fee=1_000), [0, 1]))
    same_fee = finalize(sign(unsigned(chain, desc, [utxo], fee=1_000, pay_to=FAUCET_SCRIPT), [1, 2]))
    bumped = finalize(sign(unsigned(chain, desc, [utxo], fee=2_000), [0, 2]))
    first_txid = chain.submit(first)
    assert rejection(chain, same_fee).message.startswith(f"insufficient fee, rejecting replacement {Tx.parse(same_fee).txid}; new feerate")
    assert chain.submit(bumped) in chain.mempool
    assert first_txid not in chain.mempool


def test_double_spend_without_full_rbf_is_a_mempool_conflict():
    chain = Chain(full_rbf=False)
    faucet_txid = faucet_pay(chain, PAYEE, 50_000)  # the faucet signals RBF, so make a non-signalling child
    coins = [(faucet_txid, 1, chain.mempool[faucet_txid].tx.vout[1].value)]
    one = _build(coins, PAYEE, 10_000)
    two = _build(coins, PAYEE, 20_000)
    one.vin[0].sequence = two.vin[0].sequence = 0xFFFFFFFE
    one, two = _resign(coins, one), _resign(coins, two)
    chain.submit(one.serialize())
    assert rejection(chain, two.serialize()).message == "txn-mempool-conflict"


def _resign(coins, tx):
    """Re-sign a faucet transaction after changing it (the faucet key signs)."""
    rebuilt = _build(coins, tx.vout[0].script_pubkey, tx.vout[0].value)
    for a, b in zip(rebuilt.vin, tx.vin):
        a.sequence = b.sequence
    from embit.util import secp256k1

    from coordinator.chain.sandbox.faucet import FAUCET_PUBKEY, FAUCET_SECRET
    from coordinator.chain.sandbox.verify import (
        Precomputed,
        p2wpkh_script_code,
        sighash_v0,
    )
    pre = Precomputed.of(rebuilt)
    for i, (_, _, value) in enumerate(coins):
        digest = sighash_v0(rebuilt, i, p2wpkh_script_code(FAUCET_PUBKEY), value, 1, pre)
        sig = secp256k1.ecdsa_signature_serialize_der(secp256k1.ecdsa_sign(digest, FAUCET_SECRET))
        rebuilt.vin[i].witness = [sig + b"\x01", FAUCET_PUBKEY]
    return rebuilt


def test_high_s_signature_is_refused_as_non_standard():
    chain = Chain()
    desc = keys.descriptor(2, 3, True, "wsh")
    raw, _ = signed_spend(chain, desc, [0, 1])
    dummy, sig_a, sig_b, script = Tx.parse(raw).vin[0].witness
    assert rejection(chain, with_witness(raw, 0, [dummy, high_s(sig_a), sig_b, script])).message == (
        "non-mandatory-script-verify-flag (Non-canonical signature: S value is unnecessarily high)")


def test_non_empty_multisig_dummy_is_refused():
    chain = Chain()
    desc = keys.descriptor(2, 3, True, "wsh")
    raw, _ = signed_spend(chain, desc, [0, 1])
    _, sig_a, sig_b, script = Tx.parse(raw).vin[0].witness
    assert rejection(chain, with_witness(raw, 0, [b"\x01", sig_a, sig_b, script])).message == (
        "mandatory-script-verify-flag-failed (Dummy CHECKMULTISIG argument must be zero)")


def test_wrong_witness_script_is_a_program_mismatch():
    chain = Chain()
    desc = keys.descriptor(2, 3, True, "wsh")
    raw, _ = signed_spend(chain, desc, [0, 1])
    dummy, sig_a, sig_b, script = Tx.parse(raw).vin[0].witness
    other = keys.descriptor(2, 3, True, "wsh", first=3).witness_script(0, 0).data
    assert rejection(chain, with_witness(raw, 0, [dummy, sig_a, sig_b, other])).message == (
        "mandatory-script-verify-flag-failed (Witness program hash mismatch)")


def test_coinbase_spends_wait_for_maturity():
    chain = Chain()
    chain.mine(99)  # the coinbase of block 1 is at depth 99 for a transaction in block 100
    coinbase = chain.blocks[1].txs[0]
    coins = [(coinbase.txid, 0, coinbase.vout[0].value)]
    spend = _build(coins, PAYEE, 100_000).serialize()
    assert rejection(chain, spend).message == "bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth 99"
    chain.mine(1)
    assert chain.submit(spend)


def test_unconfirmed_outputs_can_be_spent_in_a_chain():
    chain = Chain()
    desc = keys.descriptor(2, 3, True, "wsh")
    parent = fund(chain, desc, 500_000, confirm=False)
    raw = finalize(sign(unsigned(chain, desc, [parent]), [0, 1]))
    child = chain.submit(raw)
    assert parent.txid in chain.mempool and child in chain.mempool
    chain.mine(1)
    assert chain.confirmed[child][1] == chain.confirmed[parent.txid][1] == chain.height


@pytest.mark.parametrize("locktime_offset,accepted", [(0, True), (1, False)])
def test_locktime_must_be_below_the_next_block(locktime_offset, accepted):
    chain = Chain()
    desc = keys.descriptor(2, 3, True, "wsh")
    utxo = fund(chain, desc, 1_000_000)
    psbt = unsigned(chain, desc, [utxo], locktime=chain.height + locktime_offset)
    raw = finalize(sign(psbt, [0, 1]))
    if accepted:
        assert chain.submit(raw)
    else:
        assert rejection(chain, raw).message == "non-final"


def test_structural_and_policy_refusals_use_cores_words():
    chain = Chain()
    faucet_txid = faucet_pay(chain, PAYEE, 50_000)
    coins = [(faucet_txid, 1, chain.mempool[faucet_txid].tx.vout[1].value)]
    no_inputs = Tx(2, [], [TxOut(1_000, PAYEE)], 0)
    no_outputs = Tx(2, _build(coins, PAYEE, 10_000).vin, [], 0)
    assert rejection(chain, no_inputs.serialize()).message == "bad-txns-vin-empty"
    assert rejection(chain, no_outputs.serialize()).message == "bad-txns-vout-empty"
    assert rejection(chain, _build(coins, PAYEE, 293).serialize()).message == "dust"
    refused = rejection(chain, b"\x00\x01")
    assert (refused.code, refused.message) == (-22, "TX decode failed. Make sure the tx has at least one input.")


def test_resubmission_answers_like_sendrawtransaction():
    chain = Chain()
    txid = faucet_pay(chain, PAYEE, 50_000)
    raw = chain.mempool[txid].tx.serialize()
    assert chain.submit(raw) == txid  # already in the mempool: Core answers with the txid
    assert chain.test_accept(raw) == "txn-already-in-mempool"
    chain.mine(1)
    refused = rejection(chain, raw)
    assert (refused.code, refused.message) == (-27, "Transaction outputs already in utxo set")
    assert chain.test_accept(raw) == "txn-already-known"


def test_invalidating_a_block_returns_its_transactions_and_allows_a_conflict():
    chain = Chain()
    desc = keys.descriptor(2, 3, True, "wsh")
    utxo = fund(chain, desc, 1_000_000)
    first = chain.submit(finalize(sign(unsigned(chain, desc, [utxo], fee=1_000), [0, 1])))
    height = chain.mine(1) and chain.height
    chain.mine(2)
    assert chain.height - chain.confirmed[first][1] + 1 == 3  # three confirmations
    returned = chain.invalidate(height)
    assert first in returned and first in chain.mempool and chain.height == height - 1
    bump = chain.submit(finalize(sign(unsigned(chain, desc, [utxo], fee=3_000), [1, 2])))
    assert first not in chain.mempool
    chain.mine(1)
    assert bump in chain.confirmed and first not in chain.confirmed


def test_other_networks_are_refused():
    with pytest.raises(InvalidInput) as caught:
        Chain("bitcoin")
    assert caught.value.code == "wrong_network"
    with pytest.raises(InvalidInput):
        script_for("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4")  # a mainnet address
    assert script_for("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080")


def test_file_backed_chain_survives_a_restart(tmp_path):
    path = tmp_path / "sandbox.json"
    chain = Chain(path=path)
    confirmed = faucet_pay(chain, PAYEE, 40_000, confirm=True)
    pending = faucet_pay(chain, PAYEE, 30_000)
    again = Chain(path=path)
    assert (again.height, again.tip.hash) == (chain.height, chain.tip.hash)
    assert confirmed in again.confirmed and pending in again.mempool
