"""The compact PSBT for signers documented not to read non_witness_utxo (issue 13):
it drops that field and nothing else, only from segwit v0 inputs, only for the
devices in compact.COMPACT, and what a device signs from it merges into the stored
full PSBT exactly as a signature of the full PSBT would.

Signing is embit's ``PSBT.sign_with`` (tests/psbt/chain.py), the very call SeedSigner
and Krux make, with the test seeds' real keys."""

from __future__ import annotations

import pytest
from embit.psbt import PSBT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordinator.errors import InvalidInput
from coordinator.psbt import codec
from coordinator.psbt.build import Output, assemble
from coordinator.psbt.merge import merge
from coordinator.qr.compact import COMPACT, compact_psbt

from .. import keys
from ..psbt import chain
from .psbt_samples import build_psbt

PAYEE = bytes.fromhex("0014" + "22" * 20)
DEVICES = sorted(COMPACT)


def _spend(amounts, script_type="wsh", salt=b"compact"):
    desc = keys.descriptor(2, 3, script_type=script_type)
    coins = chain.fund(desc, amounts, salt=salt)
    total = sum(amounts)
    outputs = [Output(PAYEE, total // 2), Output(desc.script_pubkey(1, 0).data, total // 2 - 2_000, 0)]
    return desc, assemble(desc, coins, outputs, 800_000)


def _trimmed(signed: PSBT) -> PSBT:
    """What SeedSigner hands back (PSBTParser.trim): the transaction and partial_sigs only."""
    out = PSBT(signed.tx)
    for mine, theirs in zip(out.inputs, signed.inputs):
        mine.partial_sigs = theirs.partial_sigs
    return out


@pytest.mark.parametrize("device", DEVICES)
def test_the_compact_psbt_lacks_only_the_previous_transactions(device):
    full = codec.parse(build_psbt(10))
    compact = compact_psbt(full, device)
    assert all(scope.non_witness_utxo is None for scope in compact.inputs)
    assert all(scope.non_witness_utxo is not None for scope in full.inputs)  # the stored one is untouched
    restored = codec.copy(compact)
    for mine, theirs in zip(restored.inputs, full.inputs):
        mine.non_witness_utxo = theirs.non_witness_utxo
    assert codec.serialize(restored) == codec.serialize(full)  # every other field, byte for byte
    assert len(codec.serialize(compact)) < len(codec.serialize(full))


def test_a_nested_segwit_input_is_compacted_too():
    _, full = _spend([70_000, 80_000], script_type="sh-wsh")
    compact = compact_psbt(full, "jade")
    assert [s.non_witness_utxo for s in compact.inputs] == [None, None]
    assert all(s.redeem_script is not None and s.witness_utxo is not None for s in compact.inputs)


@pytest.mark.parametrize("device", ["keystone", "passport", "coldcard_q", "coldcard", "trezor", "", "SeedSigner",
                                    "seedsigner "])
def test_a_device_not_documented_to_sign_without_it_gets_no_compact_psbt(device):
    with pytest.raises(InvalidInput) as refused:
        compact_psbt(codec.parse(build_psbt(1)), device)
    assert refused.value.code == "qr_compact_undocumented"


def test_an_input_that_is_not_segwit_v0_script_hash_keeps_its_previous_transaction():
    _, full = _spend([60_000, 90_000])
    legacy_like = codec.copy(full)
    legacy_like.inputs[0].witness_utxo = None  # as a legacy input carries it: non_witness_utxo only
    legacy_like.inputs[1].witness_script = None  # no script to show it is P2WSH
    compact = compact_psbt(legacy_like, "krux")
    assert compact.inputs[0].non_witness_utxo is not None
    assert compact.inputs[1].non_witness_utxo is not None


def test_a_witness_utxo_that_disagrees_with_its_transaction_is_refused_not_hidden():
    _, full = _spend([60_000, 90_000])
    lying = codec.copy(full)
    lying.inputs[1].witness_utxo.value += 1  # the segwit fee attack (BIP-174, footnote 7)
    with pytest.raises(InvalidInput) as refused:
        compact_psbt(lying, "seedsigner")
    assert refused.value.code == "utxo_mismatch"


@pytest.mark.parametrize("device", DEVICES)
def test_a_signature_made_from_the_compact_psbt_merges_into_the_stored_full_one(device):
    desc, full = _spend([100_000, 120_000, 130_000])
    from_compact = merge(full, _trimmed(chain.sign(compact_psbt(full, device), [1])).serialize(), desc)
    from_full = merge(full, chain.sign(full, [1]).serialize(), desc)
    assert from_compact.added == {keys.fingerprint(1): [0, 1, 2]}
    assert codec.serialize(from_compact.psbt) == codec.serialize(from_full.psbt)
    assert all(s.non_witness_utxo is not None for s in from_compact.psbt.inputs)  # the merge kept ours


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(amounts=st.lists(st.integers(min_value=20_000, max_value=5_000_000), min_size=1, max_size=6),
       signers=st.lists(st.sampled_from([0, 1, 2]), min_size=1, max_size=2, unique=True),
       script_type=st.sampled_from(["wsh", "sh-wsh"]),
       device=st.sampled_from(DEVICES), trimmed=st.booleans())
def test_compact_then_sign_then_merge_equals_signing_the_full_psbt(amounts, signers, script_type, device, trimmed):
    desc, full = _spend(amounts, script_type=script_type, salt=bytes([amounts[0] % 251]))
    signed = chain.sign(compact_psbt(full, device), signers)
    returned = _trimmed(signed) if trimmed else signed
    ours = merge(full, returned.serialize(), desc)
    reference = merge(full, chain.sign(full, signers).serialize(), desc)
    assert codec.serialize(ours.psbt) == codec.serialize(reference.psbt)
    assert ours.added == reference.added and ours.status == reference.status
