"""Taking in signatures: only verified partial_sigs of the wallet's keys, nothing else."""

from __future__ import annotations

import itertools

import pytest
from embit.ec import PrivateKey, Signature
from embit.psbt import PSBT
from embit.script import Script, Witness
from embit.transaction import SIGHASH
from embit.util import secp256k1
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordinator.errors import InvalidInput
from coordinator.psbt import codec
from coordinator.psbt.build import Output, assemble
from coordinator.psbt.finalize import finalize
from coordinator.psbt.merge import merge
from coordinator.psbt.sighash import Sighasher, unsigned_tx
from coordinator.psbt.status import status

from .. import keys
from . import chain

PAYEE = bytes.fromhex("0014" + "22" * 20)
ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _spend(m=2, n=3, script_type="wsh", amounts=(100_000, 50_000), salt=b""):
    d = keys.descriptor(m, n, script_type=script_type)
    utxos = chain.fund(d, amounts, salt=salt)
    outputs = [Output(PAYEE, sum(amounts) - 30_000), Output(d.script_pubkey(1, 0).data, 20_000, 0)]
    return d, assemble(d, utxos, outputs, 800_000)


@pytest.fixture(scope="module")
def wallet():
    return _spend()


def _code(stored, incoming, d) -> str:
    with pytest.raises(InvalidInput) as e:
        merge(stored, incoming, d)
    return e.value.code


def _private_key(psbt: PSBT, i: int, signer: int) -> tuple:
    """Signer's (private key, public key) for input ``i``, from the input's derivations."""
    root = keys.root(signer)
    for pub, der in psbt.inputs[i].bip32_derivations.items():
        if der.fingerprint == root.my_fingerprint:
            return root.derive(der.derivation).key, pub
    raise LookupError("signer not on this input")


def _digest(psbt: PSBT, i: int) -> bytes:
    scope = psbt.inputs[i]
    return Sighasher(unsigned_tx(psbt)).digest(i, scope.witness_script.data, scope.witness_utxo.value)


def sign_with_nonce(psbt: PSBT, signer: int, extra: bytes) -> PSBT:
    """A copy signed by ``signer`` with extra nonce entropy (as anti-exfil devices do)."""
    signed = codec.copy(psbt)
    for i in range(len(psbt.inputs)):
        prv, pub = _private_key(psbt, i, signer)
        raw = secp256k1.ecdsa_sign(_digest(psbt, i), prv.secret, None, extra.ljust(32, b"\0"))
        signed.inputs[i].partial_sigs[pub] = Signature(raw).serialize() + b"\x01"
    return signed


def _stripped(psbt: PSBT) -> bytes:
    """What SeedSigner/Krux send back: the tx and the signatures, nothing else."""
    p = codec.copy(psbt)
    p.xpubs.clear()
    for scope in p.inputs:
        scope.non_witness_utxo = scope.witness_utxo = scope.witness_script = scope.redeem_script = None
        scope.bip32_derivations.clear()
    for scope in p.outputs:
        scope.witness_script = scope.redeem_script = None
        scope.bip32_derivations.clear()
    return p.serialize()


# -- taking signatures ------------------------------------------------------------

def test_merge_takes_each_signers_signatures_and_says_who_added_what(wallet):
    d, p = wallet
    first = merge(p, chain.sign(p, [0]), d)
    assert first.added == {d.cosigners[0].fingerprint: [0, 1]}
    assert not first.status.complete and first.status.needed == 1
    second = merge(first.psbt, chain.sign(p, [2]).serialize(), d)
    assert second.added == {d.cosigners[2].fingerprint: [0, 1]}
    assert second.status.complete and second.status.needed == 0


@pytest.mark.parametrize("form", ["stripped", "v2", "base64", "hex", "embit_object"])
def test_merge_accepts_every_form_signers_send(wallet, form):
    d, p = wallet
    signed = chain.sign(p, [1])
    if form == "stripped":
        incoming = _stripped(signed)
    elif form == "v2":
        v2 = codec.parse(signed.serialize())
        v2.version = 2
        incoming = v2.serialize()
    elif form == "base64":
        incoming = codec.to_base64(signed)
    elif form == "hex":
        incoming = signed.serialize().hex()
    else:
        incoming = signed
    result = merge(p, incoming, d)
    assert result.added == {d.cosigners[1].fingerprint: [0, 1]}


@pytest.mark.parametrize("script_type", ["wsh", "sh-wsh"])
def test_nested_segwit_signatures_merge(script_type):
    d, p = _spend(script_type=script_type)
    result = merge(merge(p, chain.sign(p, [0]), d).psbt, chain.sign(p, [1]), d)
    assert result.status.complete


def test_merge_modifies_neither_argument(wallet):
    d, p = wallet
    before = p.serialize()
    incoming = chain.sign(p, [0])
    incoming_before = incoming.serialize()
    merge(p, incoming, d)
    assert p.serialize() == before and incoming.serialize() == incoming_before


def test_merge_is_idempotent(wallet):
    d, p = wallet
    once = merge(p, chain.sign(p, [0]), d)
    twice = merge(once.psbt, chain.sign(p, [0]), d)
    assert twice.added == {}
    assert twice.psbt.serialize() == once.psbt.serialize()


def test_an_unsigned_submission_adds_nothing(wallet):
    d, p = wallet
    result = merge(p, p, d)
    assert result.added == {} and not result.changed
    assert result.psbt.serialize() == p.serialize()


def test_two_valid_signatures_by_one_key_settle_on_the_smaller(wallet):
    d, p = wallet
    a, b = sign_with_nonce(p, 0, b"a"), sign_with_nonce(p, 0, b"b")
    ab = merge(merge(p, a, d).psbt, b, d)
    ba = merge(merge(p, b, d).psbt, a, d)
    assert ab.psbt.serialize() == ba.psbt.serialize()
    assert ab.added == {}  # the second one replaced nothing new: same cosigner, same inputs
    pub = _private_key(p, 0, 0)[1]
    assert ab.psbt.inputs[0].partial_sigs[pub] == min(a.inputs[0].partial_sigs[pub],
                                                      b.inputs[0].partial_sigs[pub])


# -- adversarial submissions: each with its own code -----------------------------

def test_foreign_key_signature_is_refused(wallet):
    d, p = wallet
    outsider = PrivateKey(b"\x07" * 32)
    bad = codec.copy(p)
    sig = outsider.sign(_digest(p, 0)).serialize() + b"\x01"  # valid, over our very sighash
    bad.inputs[0].partial_sigs[outsider.get_public_key()] = sig
    assert _code(p, bad, d) == "foreign_key"


def test_uncompressed_form_of_our_key_is_foreign(wallet):
    d, p = wallet
    prv, pub = _private_key(p, 0, 0)
    bad = codec.copy(p)
    uncompressed = PrivateKey(prv.secret, compressed=False).get_public_key()
    bad.inputs[0].partial_sigs[uncompressed] = prv.sign(_digest(p, 0)).serialize() + b"\x01"
    assert _code(p, bad, d) == "foreign_key"


def test_signature_over_another_amount_is_invalid(wallet):
    d, p = wallet
    lying = codec.copy(p)
    lying.inputs[0].witness_utxo.value += 1  # copy() gave the copy its own witness_utxo
    lying.inputs[0].non_witness_utxo = None
    signed = chain.sign(lying, [0])
    assert _code(p, signed, d) == "invalid_signature"


@pytest.mark.parametrize("sighash", [SIGHASH.NONE, SIGHASH.SINGLE, SIGHASH.ALL | SIGHASH.ANYONECANPAY,
                                     SIGHASH.NONE | SIGHASH.ANYONECANPAY])
def test_sighash_types_other_than_all_are_refused(wallet, sighash):
    d, p = wallet
    signed = codec.copy(p)
    assert signed.sign_with(keys.root(0), sighash=sighash) == 2  # real signatures of that type
    assert all(s[-1] == sighash for s in signed.inputs[0].partial_sigs.values())
    assert _code(p, signed, d) == "bad_sighash_type"


def test_high_s_signature_is_invalid(wallet):
    d, p = wallet
    signed = chain.sign(p, [0])
    pub, sig = next(iter(signed.inputs[0].partial_sigs.items()))
    r_len = sig[3]
    r, s = sig[4:4 + r_len], int.from_bytes(sig[6 + r_len:-1], "big")
    high = (ORDER - s).to_bytes(33, "big").lstrip(b"\0")
    high = b"\0" + high if high[0] & 0x80 else high
    body = b"\x02" + bytes([r_len]) + r + b"\x02" + bytes([len(high)]) + high
    signed.inputs[0].partial_sigs[pub] = b"\x30" + bytes([len(body)]) + body + b"\x01"
    assert _code(p, signed, d) == "invalid_signature"


@pytest.mark.parametrize("mangle", [lambda s: s[:-2] + s[-1:], lambda s: b"\x01",
                                    lambda s: b"\x30" * 72 + b"\x01",
                                    lambda s: s[:5] + bytes([s[5] ^ 1]) + s[6:]])
def test_garbled_signatures_are_invalid(wallet, mangle):
    d, p = wallet
    signed = chain.sign(p, [0])
    pub, sig = next(iter(signed.inputs[0].partial_sigs.items()))
    signed.inputs[0].partial_sigs[pub] = mangle(sig)
    assert _code(p, signed, d) == "invalid_signature"


@pytest.mark.parametrize("tamper", ["amount", "script", "locktime", "sequence", "extra_output",
                                    "drop_input"])
def test_a_tampered_transaction_is_a_different_transaction(wallet, tamper):
    d, p = wallet
    other = codec.copy(p)
    if tamper == "amount":
        other.outputs[0].value -= 1000  # the stolen fee attack's cousin
    elif tamper == "script":
        other.outputs[0].script_pubkey = Script(bytes.fromhex("0014" + "33" * 20))
    elif tamper == "locktime":
        other.locktime += 1
    elif tamper == "sequence":
        other.inputs[1].sequence = 0xFFFFFFFF
    elif tamper == "extra_output":
        other.outputs.append(codec.copy(p).outputs[0])
    else:
        other.inputs.pop()
    signed = chain.sign(other, [0])
    assert _code(p, signed, d) == "different_transaction"


def test_malformed_and_oversize_submissions(wallet):
    d, p = wallet
    assert _code(p, b"psbt\xff\x00garbage", d) == "malformed_psbt"
    assert _code(p, "not a psbt", d) == "malformed_psbt"
    with pytest.raises(InvalidInput) as e:
        merge(p, chain.sign(p, [0]).serialize(), d, max_size=100)
    assert e.value.code == "psbt_too_large"


def test_one_bad_signature_rejects_the_whole_submission(wallet):
    d, p = wallet
    signed = chain.sign(p, [0])
    pub, sig = next(iter(signed.inputs[1].partial_sigs.items()))
    signed.inputs[1].partial_sigs[pub] = sig[:-2] + bytes([sig[-2] ^ 1]) + sig[-1:]
    assert _code(p, signed, d) == "invalid_signature"


def test_incoming_fields_never_overwrite_stored_ones(wallet):
    d, p = wallet
    evil = chain.sign(p, [0])
    evil.inputs[0].witness_utxo.value = 1  # segwit fee attack: claim the coin is worth less
    evil.inputs[0].witness_script = Script(b"\x51")
    evil.inputs[1].redeem_script = Script(b"\x00\x14" + b"\x44" * 20)
    for der in evil.inputs[0].bip32_derivations.values():
        der.derivation = [0, 0]
    evil.inputs[0].sighash_type = SIGHASH.NONE
    evil.inputs[0].unknown[b"\xfc\x05evil"] = b"x"
    evil.outputs[1].bip32_derivations.clear()
    evil.outputs[0].unknown[b"\xfc\x05evil"] = b"y"
    evil.unknown[b"\xfc\x05evil"] = b"z"
    evil.xpubs.clear()
    raw = evil.serialize()
    # the signatures are still good (they were made over the true amounts)
    result = merge(p, raw, d)
    assert result.added == {d.cosigners[0].fingerprint: [0, 1]}
    without_sigs = codec.copy(result.psbt)
    for scope in without_sigs.inputs:
        scope.partial_sigs.clear()
    assert without_sigs.serialize() == p.serialize()


def test_a_final_witness_in_the_submission_is_ignored(wallet):
    d, p = wallet
    signed = chain.sign(p, [0, 1])
    signed.inputs[0].final_scriptwitness = Witness([b"\x01"])
    result = merge(p, signed, d)
    assert all(s.final_scriptwitness is None for s in result.psbt.inputs)


# -- status -------------------------------------------------------------------------

def test_status_per_input_and_per_cosigner():
    d, p = _spend(3, 5, amounts=(10_000, 20_000, 30_000))
    s = status(p, d)
    assert s.needed == 3 and not s.complete and s.threshold == 3
    signed = codec.copy(p)
    signed.sign_with(keys.root(1))
    signed.inputs[2].partial_sigs.clear()  # member 2 signed inputs 0 and 1 only
    result = merge(p, signed, d)
    s = result.status
    fp = d.cosigners[1].fingerprint
    assert [i.signed_by for i in s.inputs] == [(fp,), (fp,), ()]
    assert [i.needed for i in s.inputs] == [2, 2, 3]
    assert s.needed == 3
    assert s.cosigners[1].signed_inputs == (0, 1) and not s.cosigners[1].done
    assert all(c.signed_inputs == () for c in s.cosigners if c.position != 1)
    for signer in (3, 4):
        result = merge(result.psbt, chain.sign(p, [signer]), d)
    assert result.status.needed == 1 and not result.status.complete
    result = merge(result.psbt, chain.sign(p, [0]), d)
    assert result.status.complete and result.status.needed == 0
    assert result.status.cosigners[0].done and not result.status.cosigners[2].done


# -- properties -----------------------------------------------------------------------

_WALLETS = {}


def _cached_wallet(m, n, script_type, n_in):
    key = (m, n, script_type, n_in)
    if key not in _WALLETS:
        d, p = _spend(m, n, script_type, [100_000 * (i + 1) for i in range(n_in)], salt=repr(key).encode())
        subs = {i: chain.sign(p, [i]) for i in range(n)}
        subs.update({(i, "nonce"): sign_with_nonce(p, i, bytes([i + 1])) for i in range(n)})
        _WALLETS[key] = d, p, subs
    return _WALLETS[key]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.sampled_from([(2, 3), (3, 5)]), script_type=st.sampled_from(["wsh", "sh-wsh"]),
       n_in=st.integers(1, 3), data=st.data())
def test_merge_is_commutative_and_idempotent(shape, script_type, n_in, data):
    d, p, subs = _cached_wallet(*shape, script_type, n_in)
    chosen = data.draw(st.lists(st.sampled_from(sorted(subs, key=repr)), min_size=1, max_size=5))
    order = data.draw(st.permutations(chosen))
    results = []
    for sequence in (chosen, order):
        psbt = p
        for key in sequence:
            psbt = merge(psbt, subs[key], d).psbt
        results.append(psbt.serialize())
    assert results[0] == results[1]
    again = merge(codec.parse(results[0]), subs[chosen[0]], d)
    assert again.psbt.serialize() == results[0] and again.added == {}
    signers = {k if isinstance(k, int) else k[0] for k in chosen}
    assert again.status.complete == (len(signers) >= d.threshold)


def test_every_pair_of_orders_gives_the_same_bytes(wallet):
    d, p = wallet
    subs = [chain.sign(p, [0]), sign_with_nonce(p, 0, b"x"), chain.sign(p, [2])]
    outs = set()
    for order in itertools.permutations(subs):
        psbt = p
        for sub in order:
            psbt = merge(psbt, sub, d).psbt
        outs.add(psbt.serialize())
    assert len(outs) == 1


def test_a_stored_psbt_whose_previous_transaction_is_not_the_prevout_is_refused(wallet):
    d, p = wallet
    stored = codec.parse(p.serialize())
    real = stored.inputs[0].non_witness_utxo
    # same outputs (so witness_utxo still agrees), different txid: a lie about the coin
    stored.inputs[0].non_witness_utxo = chain.prev_tx([(o.script_pubkey.data, o.value) for o in real.vout],
                                                      b"another")
    assert _code(stored, chain.sign(p, [0]), d) == "utxo_mismatch"


@pytest.mark.parametrize("script_type", ["wsh", "sh-wsh"])
def test_signatures_in_a_psbt_the_signer_finalized_are_recovered(script_type):
    d, p = _spend(script_type=script_type)
    finalized = finalize(chain.sign(p, [0, 2]), d)
    result = merge(p, finalized.psbt.serialize(), d)
    assert result.added == {keys.fingerprint(0): [0, 1], keys.fingerprint(2): [0, 1]}
    assert result.status.complete
    assert finalize(result.psbt, d).tx == finalized.tx


def test_a_psbt_finalized_by_bdk_is_recovered_too(wallet):
    import bdkpython as bdk

    d, p = wallet
    theirs = bdk.Psbt(chain.sign(p, [1, 2]).to_string()).finalize()
    assert theirs.could_finalize
    result = merge(p, theirs.psbt.serialize(), d)
    assert sorted(result.added) == sorted([keys.fingerprint(1), keys.fingerprint(2)])


def test_a_tampered_signature_in_a_final_witness_is_refused(wallet):
    d, p = wallet
    final = finalize(chain.sign(p, [0, 1]), d).psbt
    items = list(final.inputs[0].final_scriptwitness.items)
    sig = bytearray(items[1])
    sig[10] ^= 1
    items[1] = bytes(sig)
    final.inputs[0].final_scriptwitness = Witness(items)
    assert _code(p, final.serialize(), d) == "invalid_signature"


def test_a_final_witness_for_another_script_is_foreign(wallet):
    d, p = wallet
    final = finalize(chain.sign(p, [0, 1]), d).psbt
    items = list(final.inputs[0].final_scriptwitness.items)
    items[-1] = items[-1][:-1] + b"\xac"  # not our witness script any more
    final.inputs[0].final_scriptwitness = Witness(items)
    assert _code(p, final.serialize(), d) == "foreign_key"
