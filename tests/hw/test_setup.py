"""The device's BIP-48 key for a new wallet: the right path, and refused when it does not fit."""

from __future__ import annotations

import pytest
from embit.networks import NETWORKS

from coordinator.errors import HuddleError
from coordinator.hw import setup

from .. import keys
from .software_device import SoftwareDevice


class Answers:
    """A key source that returns what a test gives it (a device that lies about its key)."""

    def __init__(self, seed: int, answer: str) -> None:
        self.fingerprint, self.answer = keys.fingerprint(seed), answer

    def xpub(self, path: str) -> str:
        return self.answer


class Software:
    def __init__(self, seed: int) -> None:
        self.device = SoftwareDevice(seed)
        self.fingerprint = self.device.fingerprint

    def xpub(self, path: str) -> str:
        return self.device.get_pubkey_at_path(path).to_string()


@pytest.mark.parametrize("network,script_type,account,path", [
    ("bitcoin", "wsh", 0, "m/48h/0h/0h/2h"), ("testnet", "wsh", 0, "m/48h/1h/0h/2h"),
    ("signet", "sh-wsh", 3, "m/48h/1h/3h/1h"), ("regtest", "wsh", 1, "m/48h/1h/1h/2h"),
])
def test_the_path_follows_bip48(network, script_type, account, path):
    assert setup.bip48_path(network, script_type, account) == path


@pytest.mark.parametrize("script_type,account,code", [("tr", 0, "unsupported_descriptor"),
                                                       ("wsh", -1, "bad_derivation"), ("wsh", 2**31, "bad_derivation")])
def test_a_path_that_makes_no_sense_is_refused(script_type, account, code):
    with pytest.raises(HuddleError) as err:
        setup.bip48_path("testnet", script_type, account)
    assert err.value.code == code


def test_the_devices_key_comes_with_its_origin():
    assert setup.export_key(Software(2), "testnet").key_expression() == keys.cosigner(2).key_expression()


def test_a_key_from_another_depth_is_refused():
    master = keys.root(2).to_public()
    master.version = NETWORKS["test"]["xpub"]
    with pytest.raises(HuddleError) as err:
        setup.export_key(Answers(2, master.to_base58()), "testnet")
    assert err.value.code == "origin_mismatch"


def test_a_key_for_another_network_is_refused():
    with pytest.raises(HuddleError) as err:
        setup.export_key(Answers(2, keys.xpub(2, is_test=False)), "testnet")
    assert err.value.code == "wrong_network"
