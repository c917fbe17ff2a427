"""Issue 8: the signer checks read every derivation field, agree with merge on
the sighash, refuse what nodes would not relay, and treat a self-transfer
by the absolute and rate caps alone."""

from __future__ import annotations

from collections import OrderedDict

import pytest
from embit.ec import PublicKey
from embit.psbt import PSBT, DerivationPath
from embit.script import Script

from coordinator.errors import HuddleError
from coordinator.psbt import codec
from coordinator.psbt.build import Output, assemble
from coordinator.psbt.checks import check
from coordinator.psbt.fees import FeePolicy
from coordinator.psbt.merge import merge

from .. import keys
from . import chain
from .test_checks import PAY, make, refused, run

NOW = 1_767_225_600  # 2026-01-01 00:00 UTC: the checks' clock in these tests
TIP = 800_000


@pytest.fixture(scope="module")
def desc():
    return keys.descriptor(2, 3)


def _tap(desc, cosigner: int, branch: int, index: int, coin: int | None = None):
    """A (key, (leaf hashes, derivation)) PSBT_*_TAP_BIP32_DERIVATION entry for a cosigner's child."""
    c = desc.cosigners[cosigner]
    path = [*c.origin.path, branch, index]
    if coin is not None:
        path[1] = coin
    return PublicKey.parse(c.child_pubkey(branch, index)), ([], DerivationPath(c.origin.fingerprint, path))


# -- every derivation field counts -------------------------------------------------


def test_taproot_output_with_a_tap_derivation_of_our_fingerprint_is_change_foreign(desc):
    psbt = make(desc)
    pub, entry = _tap(desc, 0, 1, 0)
    psbt.outputs[0].script_pubkey = Script(b"\x51\x20" + pub.xonly())  # P2TR to our own child key
    psbt.outputs[0].taproot_bip32_derivations = OrderedDict([(pub, entry)])
    assert refused(psbt, desc) == "change_foreign"


def test_taproot_output_with_a_strangers_tap_derivation_is_a_recipient(desc):
    psbt = make(desc)
    stranger = keys.descriptor(2, 3, first=3)
    pub, entry = _tap(stranger, 0, 0, 4)
    psbt.outputs[0].script_pubkey = Script(b"\x51\x20" + pub.xonly())
    psbt.outputs[0].taproot_bip32_derivations = OrderedDict([(pub, entry)])
    assert [amount for _, amount in run(psbt, desc).recipients] == [7_000_000]


def test_a_tap_derivation_on_a_wallet_input_makes_it_foreign(desc):
    psbt = make(desc)
    pub, entry = _tap(desc, 1, 0, 0)
    psbt.inputs[0].taproot_bip32_derivations = OrderedDict([(pub, entry)])
    assert refused(psbt, desc) == "foreign_input"


def test_a_tap_derivation_with_the_other_networks_coin_type_is_wrong_network(desc):
    psbt = make(desc)
    stranger = keys.descriptor(2, 3, first=3)
    pub, entry = _tap(stranger, 0, 0, 4, coin=0x80000000)  # mainnet coin type in a testnet PSBT
    psbt.outputs[0].script_pubkey = Script(b"\x51\x20" + pub.xonly())
    psbt.outputs[0].taproot_bip32_derivations = OrderedDict([(pub, entry)])
    assert refused(psbt, desc) == "wrong_network"


# -- sighash 0: the checks and merge agree --------------------------------------------


def test_sighash_field_zero_is_refused_as_merge_refuses_a_zero_sighash_byte(desc):
    psbt = make(desc)
    psbt.inputs[0].sighash_type = 0
    assert refused(psbt, desc) == "bad_sighash_type"
    unsigned = make(desc)
    signed = chain.sign(unsigned, [0])
    pub, sig = next(iter(signed.inputs[0].partial_sigs.items()))
    signed.inputs[0].partial_sigs[pub] = sig[:-1] + b"\x00"
    with pytest.raises(HuddleError) as err:
        merge(unsigned, signed, desc)
    assert err.value.code == "bad_sighash_type"


# -- what nodes relay: version and locktime --------------------------------------------


def _with(desc, version=2, locktime=TIP):
    psbt = codec.parse(make(desc).serialize())  # embit's own PSBT writes version 0 as 2
    psbt.tx_version, psbt.locktime = version, locktime
    return PSBT.parse(psbt.serialize())


@pytest.mark.parametrize("version", [0, 3, 4, 0x7FFFFFFF])
def test_a_nonstandard_version_is_refused(desc, version):
    assert refused(_with(desc, version=version), desc, tip_height=TIP, now=NOW) == "nonstandard_version"


def test_versions_1_and_2_pass(desc):
    for version in (1, 2):
        assert run(_with(desc, version=version), desc, tip_height=TIP, now=NOW).version == version


def test_a_height_locktime_far_above_the_synced_tip_is_refused(desc):
    assert refused(_with(desc, locktime=TIP + 1_000), desc, tip_height=TIP, now=NOW) == "locktime_in_future"
    assert refused(_with(desc, locktime=TIP + 13), desc, tip_height=TIP, now=NOW) == "locktime_in_future"
    assert run(_with(desc, locktime=TIP + 12), desc, tip_height=TIP, now=NOW).locktime == TIP + 12  # lag slack


def test_a_far_locktime_is_ignored_when_every_input_is_final(desc):
    psbt = codec.parse(make(desc).serialize())
    psbt.locktime = TIP + 1_000
    for scope in psbt.inputs:
        scope.sequence = 0xFFFFFFFF  # IsFinalTx: nLockTime does not apply
    assert run(PSBT.parse(psbt.serialize()), desc, tip_height=TIP, now=NOW).locktime == TIP + 1_000


def test_a_timestamp_locktime_more_than_two_hours_ahead_is_refused(desc):
    late = NOW + 2 * 3600 + 1
    assert refused(_with(desc, locktime=late), desc, tip_height=TIP, now=NOW) == "locktime_in_future"
    assert refused(_with(desc, locktime=late), desc, now=NOW) == "locktime_in_future"  # no tip needed
    assert run(_with(desc, locktime=late - 1), desc, now=NOW).locktime == late - 1
    assert run(_with(desc, locktime=NOW - 86_400), desc, now=NOW).locktime == NOW - 86_400


def test_the_summary_shows_an_unusual_version_and_locktime(desc):
    usual = "\n".join(run(_with(desc), desc, tip_height=TIP, now=NOW).to_lines())
    assert "ersion" not in usual and "LockTime" not in usual
    v1 = run(_with(desc, version=1), desc, tip_height=TIP, now=NOW)
    assert "Transaction version 1" in "\n".join(v1.to_lines()) and v1.to_dict()["version"] == 1
    timed = run(_with(desc, locktime=NOW - 86_400), desc, tip_height=TIP, now=NOW)
    assert "nLockTime 2025-12-31 00:00 UTC" in "\n".join(timed.to_lines())
    ahead = run(_with(desc, locktime=TIP + 1), desc, tip_height=TIP, now=NOW)
    assert f"nLockTime block {TIP + 1}" in "\n".join(ahead.to_lines())


# -- a self-transfer: only the absolute and rate caps -----------------------------------


def _self_transfer(desc, fee):
    utxos = chain.fund(desc, [5_000_000])
    outputs = [Output(desc.script_pubkey(1, 0).data, 5_000_000 - fee, 0)]
    return PSBT.parse(assemble(desc, utxos, outputs, TIP).serialize())


def test_a_self_transfer_pays_nobody_and_passes_under_the_caps(desc):
    summary = run(_self_transfer(desc, 2_000), desc)
    assert summary.recipients == () and summary.fee == 2_000 and len(summary.change) == 1


def test_a_self_transfer_is_still_held_to_the_absolute_and_rate_caps(desc):
    assert refused(_self_transfer(desc, 1_000_001), desc) == "fee_too_high"
    assert refused(_self_transfer(desc, 200_000), desc) == "fee_rate_too_high"


def test_the_percent_cap_still_applies_when_something_is_paid(desc):
    psbt = make(desc, amounts=(5_000_000,), pay=1_000, change=4_989_000)
    assert refused(psbt, desc, policy=FeePolicy()) == "fee_too_high"


def test_check_takes_no_fractional_tip(desc):
    with pytest.raises(TypeError):
        check(make(desc), desc, "testnet", max_change_index=19, tip_height=1.5)
