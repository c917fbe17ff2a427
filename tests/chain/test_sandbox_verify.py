"""The sandbox's verifier agrees with embit's BIP-143 sighash and with Core's script rules."""

from __future__ import annotations

import random

import pytest
from embit.script import Script
from embit.transaction import Transaction
from embit.util import secp256k1

from coordinator.chain.sandbox import interpreter as it
from coordinator.chain.sandbox.faucet import FAUCET_PUBKEY, FAUCET_SCRIPT, FAUCET_SECRET
from coordinator.chain.sandbox.tx import Tx, TxIn, TxOut
from coordinator.chain.sandbox.verify import (
    Precomputed,
    ecdsa_verify,
    input_failure,
    p2wpkh_script_code,
    sighash_v0,
)

HASHTYPES = [1, 2, 3, 0x81, 0x82, 0x83]


def random_tx(rng: random.Random) -> Tx:
    vin = [TxIn(rng.randbytes(32).hex(), rng.randrange(4), b"", rng.choice([0xFFFFFFFF, 0xFFFFFFFD, 5]))
           for _ in range(rng.randrange(1, 4))]
    vout = [TxOut(rng.randrange(1, 10**8), b"\x00\x14" + rng.randbytes(20)) for _ in range(rng.randrange(1, 4))]
    return Tx(rng.choice([1, 2]), vin, vout, rng.randrange(0, 800_000))


@pytest.mark.parametrize("seed", range(20))
def test_sighash_matches_embit_on_random_transactions(seed):
    rng = random.Random(seed)
    tx = random_tx(rng)
    theirs = Transaction.parse(tx.serialize())
    pre = Precomputed.of(tx)
    for index in range(len(tx.vin)):
        code = rng.choice([p2wpkh_script_code(rng.randbytes(33)), b"\x52" + rng.randbytes(40) + b"\xae"])
        amount = rng.randrange(1, 10**9)
        for hashtype in HASHTYPES:
            ours = sighash_v0(tx, index, code, amount, hashtype, pre)
            assert ours == theirs.sighash_segwit(index, Script(code), amount, hashtype)


def _p2wpkh_spend(value: int = 100_000) -> tuple[Tx, TxOut]:
    prev = TxOut(value, FAUCET_SCRIPT)
    tx = Tx(2, [TxIn("11" * 32, 0, b"", 0xFFFFFFFD)], [TxOut(value - 500, b"\x00\x14" + b"\x22" * 20)], 0)
    digest = sighash_v0(tx, 0, p2wpkh_script_code(FAUCET_PUBKEY), value, 1)
    sig = secp256k1.ecdsa_signature_serialize_der(secp256k1.ecdsa_sign(digest, FAUCET_SECRET)) + b"\x01"
    tx.vin[0].witness = [sig, FAUCET_PUBKEY]
    return tx, prev


def test_p2wpkh_spend_verifies():
    tx, prev = _p2wpkh_spend()
    assert input_failure(tx, 0, prev, Precomputed.of(tx)) is None


def test_p2wpkh_with_another_key_fails_equalverify():
    tx, prev = _p2wpkh_spend()
    tx.vin[0].witness[1] = bytes([2]) + b"\x33" * 32
    assert input_failure(tx, 0, prev, Precomputed.of(tx)) == (
        "mandatory-script-verify-flag-failed (Script failed an OP_EQUALVERIFY operation)")


def test_p2wpkh_signature_over_another_amount_fails():
    tx, prev = _p2wpkh_spend()
    prev = TxOut(prev.value + 1, prev.script_pubkey)
    assert input_failure(tx, 0, prev, Precomputed.of(tx)) == (
        "mandatory-script-verify-flag-failed (Signature must be zero for failed CHECK(MULTI)SIG operation)")


def test_p2wpkh_with_a_three_item_witness_is_a_program_mismatch():
    tx, prev = _p2wpkh_spend()
    tx.vin[0].witness.append(b"")
    assert input_failure(tx, 0, prev, Precomputed.of(tx)) == (
        "mandatory-script-verify-flag-failed (Witness program hash mismatch)")


def test_undefined_hashtype_is_non_standard_only():
    tx, prev = _p2wpkh_spend()
    digest = sighash_v0(tx, 0, p2wpkh_script_code(FAUCET_PUBKEY), prev.value, 0x04)
    sig = secp256k1.ecdsa_signature_serialize_der(secp256k1.ecdsa_sign(digest, FAUCET_SECRET)) + b"\x04"
    tx.vin[0].witness[0] = sig
    assert input_failure(tx, 0, prev, Precomputed.of(tx)) == (
        "non-mandatory-script-verify-flag (Signature hash type missing or not understood)")


def test_strict_der_rejects_padding_and_accepts_real_signatures():
    tx, _ = _p2wpkh_spend()
    sig = tx.vin[0].witness[0]
    assert it.is_valid_der(sig)
    padded = sig[:3] + bytes([sig[3] + 1, 0]) + sig[4:]  # an extra zero byte in front of r
    padded = padded[:1] + bytes([padded[1] + 1]) + padded[2:]
    assert not it.is_valid_der(padded)


def test_ecdsa_accepts_high_s_like_core_and_rejects_a_changed_digest():
    tx, prev = _p2wpkh_spend()
    digest = sighash_v0(tx, 0, p2wpkh_script_code(FAUCET_PUBKEY), prev.value, 1)
    der = tx.vin[0].witness[0][:-1]
    from .spends import high_s
    assert ecdsa_verify(der, FAUCET_PUBKEY, digest)
    assert ecdsa_verify(high_s(der + b"\x01")[:-1], FAUCET_PUBKEY, digest)  # normalized, as CPubKey::Verify
    assert not ecdsa_verify(der, FAUCET_PUBKEY, bytes(32))


def test_cast_to_bool_treats_negative_zero_as_false():
    assert not it.cast_to_bool(b"") and not it.cast_to_bool(b"\x00\x80") and it.cast_to_bool(b"\x00\x01")
