"""Registering the pinned wallet on each kind of device, then showing the first address."""

from __future__ import annotations

import pytest

from coordinator.errors import HuddleError
from coordinator.hw import devices, registration
from coordinator.wallet import formats

from .. import keys
from .coldcard_double import ColdcardShell
from .software_device import LedgerShell, SoftwareDevice, SoftwareFactory


def opened(shell, kind=None):
    factory = SoftwareFactory(shell)
    found = factory.enumerate().devices[0]
    if kind:  # a software device playing a Jade, BitBox02 or Trezor
        found = devices.Found(kind, kind, found.path, found.fingerprint)
    return devices.Device(factory.open(found), found, devices.Worker(timeout=30))


def test_a_ledger_registers_the_policy_and_shows_the_first_address(pinned, store):
    shell = LedgerShell(1)
    result = registration.register(opened(shell), pinned, store.root)

    assert result.first_address == pinned.descriptor.address(0, 0, "testnet")
    assert shell.client.registered == ["family"] and shell.client.shown == [(0, 0)]


def test_a_coldcard_is_sent_the_wallet_file_to_enroll(pinned, store):
    shell = ColdcardShell(2)
    result = registration.register(opened(shell), pinned, store.root)

    assert result.first_address is None and "approve it on the device" in result.how
    enrolled = formats.load(shell.device.enrolled[0])
    assert (enrolled.name, enrolled.descriptor.policy_id) == ("family", pinned.descriptor.policy_id)


@pytest.mark.parametrize("kind,says", [("jade", "registered"), ("bitbox02", "registered"), ("trezor", "global xpubs")])
def test_other_devices_show_the_first_address(pinned, store, kind, says):
    soft = SoftwareDevice(0)
    result = registration.register(opened(soft, kind), pinned, store.root)

    assert result.first_address == pinned.descriptor.address(0, 0, "testnet") and says in result.how
    assert soft.calls == ["display_multisig_address"]


def test_a_device_that_is_not_a_cosigner_is_not_asked_to_register(pinned, store):
    shell = ColdcardShell(6)
    with pytest.raises(HuddleError) as err:
        registration.register(opened(shell), pinned, store.root)
    assert err.value.code == "device_not_cosigner" and shell.device.enrolled == []


def test_a_name_coldcard_cannot_hold_is_refused_before_upload(store):
    wallet, _ = store.pin("a name far too long for coldcard", "testnet", keys.descriptor(2, 3))
    shell = ColdcardShell(0)
    with pytest.raises(HuddleError) as err:
        registration.register(opened(shell), wallet, store.root)
    assert err.value.code == "bad_wallet_name" and shell.device.uploaded == b""
