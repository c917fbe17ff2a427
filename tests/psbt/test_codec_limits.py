"""Hostile PSBTs: bounded memory, counts capped before anything is built, and
compact sizes only in their shortest form (BIP-174, Bitcoin Core)."""

from __future__ import annotations

import hashlib
import tracemalloc

import pytest
from embit import compact
from embit.ec import PrivateKey
from embit.misc import secp256k1

from coordinator.errors import InvalidInput
from coordinator.psbt import codec
from coordinator.psbt.merge import merge

from . import chain
from . import hostile as h
from .test_codec import _spend

MAX_BYTES_PER_BYTE = 256 // 8  # 256 MB for the 8 MiB cap


def _error(data, **kwargs) -> InvalidInput:
    with pytest.raises(InvalidInput) as e:
        codec.parse(data, **kwargs)
    return e.value


def _peak(fn) -> int:
    """Bytes allocated at the peak while ``fn`` runs (its result or error dropped)."""
    tracemalloc.start()
    try:
        fn()
    except InvalidInput:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


# -- counts -------------------------------------------------------------------------

def test_more_outputs_than_a_standard_transaction_holds_are_refused_before_any_is_built():
    raw = h.empty_outputs(20_000)  # 400,000 WU hold at most 11,111 outputs of 9 bytes
    err = _error(raw)
    assert err.code == "psbt_too_large" and "20000 outputs" in err.message
    assert _peak(lambda: codec.parse(raw)) < 256 * 1024


def test_more_inputs_than_a_standard_transaction_holds_are_refused_before_any_is_built():
    raw = h.empty_inputs(3_000)  # 400,000 WU hold at most 2,439 inputs of 41 bytes
    err = _error(raw)
    assert err.code == "psbt_too_large" and "3000 inputs" in err.message
    assert _peak(lambda: codec.parse(raw)) < 256 * 1024


@pytest.mark.parametrize("n_in, n_out", [(3_000, 1), (1, 20_000)])
def test_v2_counts_above_a_standard_transaction_are_too_large(n_in, n_out):
    assert _error(h.v2_counts(n_in, n_out)).code == "psbt_too_large"


def test_a_standard_transactions_most_outputs_still_parse():
    psbt = codec.parse(h.empty_outputs(11_111))
    assert len(psbt.outputs) == 11_111 and codec.serialize(psbt) == h.empty_outputs(11_111)


@pytest.mark.parametrize("build", [
    lambda: h.empty_outputs(30_000),  # refused (issue 8: 830,000 of them took 1 GB)
    lambda: h.empty_inputs(6_000),
    lambda: h.many_unknowns(50_000),
    lambda: h.big_prev_txs(3, 10_000),
    lambda: h.many_derivations(6_000),
    lambda: h.huge_witness(300_000),
], ids=["outputs", "inputs", "unknowns", "prev-txs", "derivations", "witness"])
def test_hostile_shapes_parse_in_memory_proportional_to_their_size(build):
    raw = build()
    assert len(raw) > 250_000
    assert _peak(lambda: codec.parse(raw)) < MAX_BYTES_PER_BYTE * len(raw)


def test_merge_refuses_a_different_transaction_before_reading_its_maps():
    d, stored = _spend()
    other = h.many_derivations(20_000)  # ~0.9 MB of maps for another transaction
    with pytest.raises(InvalidInput) as e:
        merge(stored, other, d)
    assert e.value.code == "different_transaction"
    assert _peak(lambda: merge(stored, other, d)) < 512 * 1024


def test_merge_refuses_a_different_v2_transaction_from_its_pairs():
    d, stored = _spend()
    _, other = _spend(amounts=(90_000, 60_000), salt=b"other")
    v2 = codec.parse(other.serialize())
    v2.version = 2
    with pytest.raises(InvalidInput) as e:
        merge(stored, v2.serialize(), d)
    assert e.value.code == "different_transaction"


# -- canonical compact sizes, in every place one is read -------------------------

def _noncanonical(n: int) -> bytes:
    return b"\xfd" + n.to_bytes(2, "little")


def _canonical_error(raw: bytes) -> None:
    err = _error(raw)
    assert err.code == "malformed_psbt" and "canonical" in err.message, err.message


@pytest.mark.parametrize("where", ["global", "input", "output"])
def test_a_key_type_written_long_is_malformed(where):
    # key type 0x01 written fd0100: BIP-174's key type is a compact size, shortest form only
    bad = b"\x03" + _noncanonical(1) + b"\x00"
    maps = {"global": {"global_pairs": bad}, "input": {"inputs": [bad], "n_out": 1},
            "output": {"n_in": 1, "outputs": [bad]}}[where]
    maps.setdefault("n_in", 1)
    maps.setdefault("n_out", 1)
    _canonical_error(h.v0(h.unsigned_tx(1, 1), **maps))


def test_a_canonical_three_byte_key_type_is_an_unknown_kept_as_it_is():
    key = b"\xfd\xfd\x00"  # type 0xfd, written in its shortest form
    raw = h.v0(h.unsigned_tx(1, 1), global_pairs=h.pair(key, b"v"), n_in=1, n_out=1)
    assert codec.serialize(codec.parse(raw)) == raw


def test_a_key_length_written_long_is_malformed():
    raw = h.v0(h.unsigned_tx(1, 1), global_pairs=_noncanonical(2) + b"\xfc\x00" + b"\x00", n_in=1, n_out=1)
    _canonical_error(raw)


def test_a_value_length_written_long_is_malformed():
    raw = h.v0(h.unsigned_tx(1, 1), global_pairs=b"\x02\xfc\x00" + _noncanonical(1) + b"v", n_in=1, n_out=1)
    _canonical_error(raw)


@pytest.mark.parametrize("part", ["inputs", "outputs", "script"])
def test_a_count_or_length_in_the_unsigned_transaction_written_long_is_malformed(part):
    tx = h.unsigned_tx(1, 1)
    at = {"inputs": 4, "outputs": 4 + 1 + 41, "script": 4 + 1 + 36}[part]
    bad = tx[:at] + _noncanonical(tx[at]) + tx[at + 1:]
    _canonical_error(h.v0(bad, n_in=1, n_out=1))


@pytest.mark.parametrize("part", ["inputs", "outputs", "script"])
def test_a_count_or_length_in_a_non_witness_utxo_written_long_is_malformed(part):
    prev = h.prev_tx(2)
    at = {"inputs": 4, "outputs": 4 + 1 + 41, "script": 4 + 1 + 41 + 1 + 8}[part]
    bad = prev[:at] + _noncanonical(prev[at]) + prev[at + 1:]
    _canonical_error(h.v0(h.unsigned_tx(1, 1), inputs=[h.pair(b"\x00", bad)], n_out=1))


def test_a_script_length_in_a_witness_utxo_written_long_is_malformed():
    utxo = b"\x00" * 8 + _noncanonical(22) + b"\x00\x14" + b"\x11" * 20
    _canonical_error(h.v0(h.unsigned_tx(1, 1), inputs=[h.pair(b"\x01", utxo)], n_out=1))


@pytest.mark.parametrize("part", ["count", "item"])
def test_a_count_or_length_in_a_final_witness_written_long_is_malformed(part):
    witness = _noncanonical(1) + b"\x01\xaa" if part == "count" else b"\x01" + _noncanonical(1) + b"\xaa"
    _canonical_error(h.v0(h.unsigned_tx(1, 1), inputs=[h.pair(b"\x08", witness)], n_out=1))


@pytest.mark.parametrize("v2_key", [b"\x04", b"\x05"])
def test_a_v2_count_written_long_is_malformed(v2_key):
    raw = h.v2_counts(1, 1).replace(h.pair(v2_key, b"\x01"), h.pair(v2_key, _noncanonical(1)))
    _canonical_error(raw)


def test_a_taproot_leaf_count_written_long_is_malformed():
    value = _noncanonical(0) + b"\x00" * 4  # no leaf hashes, fingerprint, no steps
    pairs = h.pair(b"\x16" + b"\x22" * 32, value)
    _canonical_error(h.v0(h.unsigned_tx(1, 1), inputs=[pairs], n_out=1))


# -- what is read is what is kept -------------------------------------------------

def test_a_segwit_previous_transaction_keeps_its_bytes_and_its_txid():
    prev = chain.prev_tx([(b"\x00\x14" + b"\x33" * 20, 5_000)], b"segwit")
    prev.vin[0].witness.items.append(b"\x01" * 72)
    raw_prev = prev.serialize()
    assert raw_prev[4:6] == b"\x00\x01"
    raw = h.v0(h.unsigned_tx(1, 1), inputs=[h.pair(b"\x00", raw_prev)], n_out=1)
    psbt = codec.parse(raw)
    assert psbt.inputs[0].non_witness_utxo.txid() == prev.txid()
    assert codec.serialize(psbt) == raw


def _off_curve_key() -> bytes:
    for x in range(1, 100):
        key = b"\x02" + x.to_bytes(32, "big")
        try:
            secp256k1.ec_pubkey_parse(key)
        except ValueError:
            return key
    raise AssertionError("no x below 100 is off the curve")


def test_an_off_curve_signing_key_is_malformed_when_read():
    sig = h.pair(b"\x02" + _off_curve_key(), b"\x30" * 9)
    err = _error(h.v0(h.unsigned_tx(1, 1), inputs=[sig], n_out=1))
    assert err.code == "malformed_psbt" and "not a point" in err.message


def test_an_off_curve_derivation_key_is_malformed_when_used_as_a_point():
    der = h.pair(b"\x06" + _off_curve_key(), b"\x00" * 8)
    psbt = codec.parse(h.v0(h.unsigned_tx(1, 1), inputs=[der], n_out=1))
    (key,) = psbt.inputs[0].bip32_derivations
    assert key.sec() == _off_curve_key()  # kept as bytes: nothing used it as a point yet
    digest = hashlib.sha256(b"any message").digest()
    with pytest.raises(InvalidInput) as e:
        key.verify(PrivateKey(b"\x01" * 32).sign(digest), digest)
    assert e.value.code == "malformed_psbt"


def test_derivation_keys_read_lazily_equal_the_ones_embit_reads():
    d, psbt = _spend()
    parsed = codec.parse(psbt.serialize())
    for ours, theirs in zip(parsed.inputs, psbt.inputs):
        assert list(ours.bip32_derivations) == list(theirs.bip32_derivations)
        assert [k.sec() for k in ours.bip32_derivations] == [k.sec() for k in theirs.bip32_derivations]
    assert compact.to_bytes(len(parsed.inputs)) == b"\x02"
