"""Ledger: registered once, the HMAC stored per (device, policy) and passed at every signing;
a renamed policy is registered again only knowingly."""

from __future__ import annotations

import stat

import pytest

from coordinator.errors import HuddleError
from coordinator.hw import ledger, signing
from coordinator.psbt.status import status

from .. import keys
from ..psbt.test_checks import make
from .ledger_double import LedgerDouble


@pytest.fixture
def registrations(store):
    return ledger.Registrations(store.root)


def sign_with(double, registrations, wallet, policy=None, psbt=None, rename=False):
    policy = policy or ledger.policy_for(wallet)
    hmac = ledger.ensure_registered(double, registrations, double.fingerprint, policy, rename=rename)
    signer = ledger.LedgerSigner(double, double.fingerprint, policy, hmac)
    return signing.sign(psbt or make(wallet.descriptor), wallet, signer)


def test_the_policy_is_the_pinned_wallet_in_bip388_form(pinned):
    policy = ledger.policy_for(pinned)
    assert policy.descriptor_template == "wsh(sortedmulti(2,@0/**,@1/**,@2/**))"
    assert policy.keys_info[0] == f"[{keys.fingerprint(0)}/48'/1'/0'/2']{keys.xpub(0)}"
    assert policy.get_descriptor(False).replace("'", "h") == pinned.descriptor.to_string(0, checksummed=False)


def test_a_wallet_is_registered_once_and_every_signing_passes_the_stored_hmac(pinned, registrations):
    double = LedgerDouble(0)

    first = sign_with(double, registrations, pinned)
    second = sign_with(double, registrations, pinned, psbt=make(pinned.descriptor, salt=b"second spend"))

    assert double.registered == ["family"]
    expected = double._hmac(ledger.policy_for(pinned))
    assert double.signed == [expected, expected]
    assert [c.fingerprint for c in status(first.psbt, pinned.descriptor).cosigners if c.done] == [keys.fingerprint(0)]
    assert len(second.signatures) == 2


def test_the_stored_hmac_survives_a_restart_in_a_private_file(pinned, registrations, store):
    double = LedgerDouble(0)
    sign_with(double, registrations, pinned)
    sign_with(double, ledger.Registrations(store.root), pinned)  # a new process, same directory

    files = list((store.root / "ledger").glob("*.json"))
    assert double.registered == ["family"]
    assert len(files) == 1 and files[0].name.startswith(keys.fingerprint(0) + "-")
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600


def test_each_device_registers_for_itself(pinned, registrations):
    a, b = LedgerDouble(0), LedgerDouble(1)
    sign_with(a, registrations, pinned)
    sign_with(b, registrations, pinned)
    assert a.registered == b.registered == ["family"]


def test_a_renamed_policy_is_refused_unless_re_registered_knowingly(pinned, registrations):
    double = LedgerDouble(0)
    sign_with(double, registrations, pinned)
    renamed = ledger.policy_for(pinned, "family savings")

    with pytest.raises(HuddleError) as err:
        sign_with(double, registrations, pinned, policy=renamed)
    assert err.value.code == "ledger_policy_renamed" and "'family'" in err.value.message
    assert double.registered == ["family"]

    sign_with(double, registrations, pinned, policy=renamed, rename=True)
    assert double.registered == ["family", "family savings"]


def test_a_ledger_that_forgot_the_registration_is_reported(pinned, registrations):
    sign_with(LedgerDouble(0), registrations, pinned)
    reset = LedgerDouble(0, secret=b"a new secret after a reset")
    policy = ledger.policy_for(pinned)
    signer = ledger.LedgerSigner(reset, reset.fingerprint, policy, registrations.hmac(reset.fingerprint, policy))

    with pytest.raises(HuddleError) as err:
        signing.sign(make(pinned.descriptor), pinned, signer)
    assert err.value.code == "ledger_registration_refused"


def test_a_registration_answering_for_another_policy_is_not_stored(pinned, registrations):
    class Confused(LedgerDouble):
        def register_wallet(self, policy):
            return b"\x00" * 32, b"\x11" * 32

    double = Confused(0)
    with pytest.raises(HuddleError) as err:
        ledger.ensure_registered(double, registrations, double.fingerprint, ledger.policy_for(pinned))
    assert err.value.code == "ledger_registration_mismatch"
    assert registrations.hmac(double.fingerprint, ledger.policy_for(pinned)) is None


def test_a_refused_psbt_never_reaches_the_ledger(pinned, registrations):
    double = LedgerDouble(0)
    other = keys.descriptor(2, 3, first=3)
    with pytest.raises(HuddleError) as err:
        sign_with(double, registrations, pinned, psbt=make(other))
    assert err.value.code == "xpub_mismatch" and double.signed == []


@pytest.mark.parametrize("name", ["", "x" * 65, "caf\u00e9"])
def test_a_name_the_ledger_cannot_hold_is_refused(pinned, name):
    with pytest.raises(HuddleError) as err:
        ledger.policy_for(pinned, name)
    assert err.value.code == "bad_wallet_name"


def test_an_address_is_shown_with_the_stored_hmac_without_registering_again(pinned, registrations):
    from coordinator.hw import addresses

    double = LedgerDouble(0)
    policy = ledger.policy_for(pinned)
    hmac = ledger.ensure_registered(double, registrations, double.fingerprint, policy)
    signer = ledger.LedgerSigner(double, double.fingerprint, policy, hmac)

    assert addresses.show(pinned, signer, 4, 1) == pinned.descriptor.address(1, 4, "testnet")
    assert double.shown == [(1, 4)] and double.registered == ["family"]


def test_a_ledger_is_not_asked_for_an_address_of_another_wallet(pinned, registrations):
    double = LedgerDouble(0)
    policy = ledger.policy_for(pinned)
    signer = ledger.LedgerSigner(double, double.fingerprint, policy,
                                 ledger.ensure_registered(double, registrations, double.fingerprint, policy))
    with pytest.raises(HuddleError) as err:
        signer.display_address(keys.descriptor(2, 3, first=1), 0, 0)
    assert err.value.code == "descriptor_mismatch" and double.shown == []
