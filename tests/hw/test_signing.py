"""The agent refuses a bad PSBT before any device is asked, and believes nothing the device returns."""

from __future__ import annotations

from collections import OrderedDict

import pytest
from embit.bip32 import HDKey
from embit.psbt import PSBT, DerivationPath
from hwilib.common import Chain

from coordinator.errors import HuddleError
from coordinator.hw import devices, signing
from coordinator.hw.pinned import PinnedWallet
from coordinator.psbt.status import status
from coordinator.wallet.descriptor import CHANGE, RECEIVE

from .. import keys
from ..psbt import chain
from ..psbt.test_checks import CORPUS, MAX_CHANGE, base, desc, make, network_of, swapped  # noqa: F401 (fixtures)
from .software_device import SoftwareDevice, SoftwareFactory


def wallet_for(desc, network=None) -> PinnedWallet:
    # the corpus's change limit (MAX_CHANGE) is the gap window with nothing used yet
    return PinnedWallet("family", network or network_of(desc), desc, "2026-01-01T00:00:00+00:00")


def device(seed=0, desc=None, tamper=None):
    is_test = desc is None or desc.is_test
    soft = SoftwareDevice(seed, Chain.TEST if is_test else Chain.MAIN, tamper)
    return soft, devices.select(SoftwareFactory(soft), soft.fingerprint, devices.Worker(timeout=30))


def refused(psbt, wallet, dev, **kw) -> str:
    with pytest.raises(HuddleError) as err:
        signing.sign(psbt, wallet, dev, **kw)
    return err.value.code


def test_the_corpus_limit_is_the_agents_gap_window():
    assert wallet_for(keys.descriptor(2, 3)).max_change_index() == MAX_CHANGE


@pytest.mark.parametrize("code,what,tamper", CORPUS, ids=[f"{c}: {w}" for c, w, _ in CORPUS])
def test_tampered_psbt_is_refused_before_the_device_is_asked(base, desc, code, what, tamper):
    psbt = PSBT.parse(base)
    tamper(psbt, desc)
    soft, dev = device(desc=desc)

    assert refused(psbt, wallet_for(desc), dev) == code
    assert soft.calls == []


def test_untampered_psbt_gets_only_this_devices_verified_signatures(base, desc):
    soft, dev = device(1, desc)
    shown = []

    signed = signing.sign(base, wallet_for(desc), dev, show=shown.append)

    assert soft.calls == ["sign_tx"]
    assert shown == [signed.summary] and signed.summary.recipients_total == 7_000_000
    assert [i for i, _, _ in signed.signatures] == [0, 1]
    assert {pub for _, pub, _ in signed.signatures} == {
        desc.cosigners[1].child_pubkey(RECEIVE, 0), desc.cosigners[1].child_pubkey(RECEIVE, 1)}
    assert [c.fingerprint for c in status(signed.psbt, desc).cosigners if c.done] == [keys.fingerprint(1)]


def test_global_xpubs_of_another_wallet_are_refused_before_the_device(base, desc):
    psbt = PSBT.parse(base)
    other = swapped(desc, seed=6)
    psbt.xpubs = OrderedDict((HDKey.from_string(c.xpub), DerivationPath(c.origin.fingerprint, list(c.origin.path)))
                             for c in other.cosigners)
    soft, dev = device(desc=desc)

    assert refused(psbt, wallet_for(desc), dev) == "xpub_mismatch"
    assert soft.calls == []


@pytest.mark.parametrize("sent", ["swapped cosigner", "another threshold", "another origin path", "not a descriptor"])
def test_a_descriptor_from_the_server_that_differs_from_the_pinned_one_is_refused(base, desc, sent):
    texts = {
        "swapped cosigner": swapped(desc).to_string(),
        "another threshold": keys.descriptor(3, 3, desc.is_test, desc.script_type).to_string(),
        "another origin path": desc.to_string(checksummed=False).replace("/0h/", "/5h/", 1),
        "not a descriptor": "wsh(sortedmulti(2,",
    }
    soft, dev = device(desc=desc)

    assert refused(base, wallet_for(desc), dev, server_descriptor=texts[sent]) == "descriptor_mismatch"
    assert soft.calls == []


def test_the_pinned_descriptor_sent_back_by_the_server_is_accepted(base, desc):
    soft, dev = device(desc=desc)
    signing.sign(base, wallet_for(desc), dev, server_descriptor=desc.to_string() + "\n")
    assert soft.calls == ["sign_tx"]


@pytest.mark.parametrize("pinned_network,psbt_is_test", [("testnet", False), ("bitcoin", True)])
def test_a_psbt_of_another_network_is_refused_before_the_device(pinned_network, psbt_is_test):
    pinned = keys.descriptor(2, 3, pinned_network != "bitcoin")
    psbt = make(keys.descriptor(2, 3, psbt_is_test))
    soft, dev = device(desc=pinned)

    assert refused(psbt, wallet_for(pinned, pinned_network), dev) == "wrong_network"
    assert soft.calls == []


def test_a_wallet_pinned_for_signet_refuses_to_sign_as_bitcoin(base):
    desc = keys.descriptor(2, 3)
    soft, dev = device(desc=desc)
    assert refused(make(desc), wallet_for(desc, "bitcoin"), dev) == "wrong_network"
    assert soft.calls == []


def test_a_device_that_is_not_a_cosigner_is_never_asked(base, desc):
    soft, dev = device(5, desc)
    assert refused(base, wallet_for(desc), dev) == "device_not_cosigner"
    assert soft.calls == []


# -- a lying device -------------------------------------------------------------


def _plant_field(psbt):
    psbt.outputs[0].unknown[b"\xfc\x05huddl"] = b"planted"


def _sign_also_as(seed):
    def tamper(psbt):
        psbt.sign_with(keys.root(seed))
    return tamper


def _add_a_strangers_signature(psbt):
    sig = next(iter(psbt.inputs[0].partial_sigs.values()))
    psbt.inputs[0].partial_sigs[keys.root(7).derive("m/48h/1h/0h/2h/0/0").to_public().key] = sig


def _flip_a_signature(psbt):
    pub, sig = next(iter(psbt.inputs[1].partial_sigs.items()))
    psbt.inputs[1].partial_sigs[pub] = sig[:10] + bytes([sig[10] ^ 1]) + sig[11:]


def _sign_nothing(psbt):
    for scope in psbt.inputs:
        scope.partial_sigs = OrderedDict()


def _change_fee(psbt):
    psbt.outputs[0].value -= 1_000


def _replace_witness_utxo(psbt):
    wu = psbt.inputs[0].witness_utxo
    wu.value -= 1


@pytest.mark.parametrize("code,tamper", [
    ("device_changed_psbt", _plant_field),
    ("device_changed_psbt", _change_fee),
    ("device_changed_psbt", _replace_witness_utxo),
    ("foreign_key", _sign_also_as(2)),  # another cosigner's signature, as if it held that key too
    ("foreign_key", _add_a_strangers_signature),
    ("invalid_signature", _flip_a_signature),
    ("device_signed_nothing", _sign_nothing),
], ids=["extra field", "output changed", "witness_utxo changed", "another cosigner's signature",
        "a stranger's signature", "invalid signature", "no signature"])
def test_what_a_lying_device_returns_is_refused(base, desc, code, tamper):
    soft, dev = device(0, desc, tamper)
    assert refused(base, wallet_for(desc), dev) == code
    assert soft.calls == ["sign_tx"]


def test_signatures_already_held_stay_and_only_the_new_one_counts(desc):
    psbt = chain.sign(make(desc), [1], desc.is_test, desc.script_type)
    soft, dev = device(0, desc)

    signed = signing.sign(psbt, wallet_for(desc), dev)

    assert {pub for _, pub, _ in signed.signatures} == {
        desc.cosigners[0].child_pubkey(RECEIVE, 0), desc.cosigners[0].child_pubkey(RECEIVE, 1)}
    assert status(signed.psbt, desc).complete


def test_a_signed_spend_moves_the_gap_windows_on(store):
    desc = keys.descriptor(2, 3)
    wallet, _ = store.pin("family", "testnet", desc)
    soft, dev = device(0, desc)

    signed = signing.sign(make(desc, change_index=7), wallet, dev)
    updated = store.saw_used(wallet, signing.used_indexes(signed))

    assert signing.used_indexes(signed) == [(RECEIVE, 0), (RECEIVE, 1), (CHANGE, 7)]
    assert updated.max_change_index() == 7 + 20 and updated.index_limit(RECEIVE) == 1 + 20
    assert store.get("family").last_used == {"receive": 1, "change": 7}
