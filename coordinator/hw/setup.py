"""Wallet setup on the agent's side: the device's BIP-48 key for a new wallet.

The key is read from the device at ``m/48'/coin'/account'/script'`` (BIP-48: script
2' for wsh, 1' for sh-wsh; coin 1' on every test network) and returned as a
key expression with its origin, ``[fingerprint/48h/1h/0h/2h]tpub...``, checked
the same way as any key Huddle reads (depth, child number, network).
"""

from __future__ import annotations

from typing import Protocol

from .. import networks
from ..errors import InvalidInput
from ..wallet.keys import Cosigner

SCRIPT_STEPS = {"wsh": 2, "sh-wsh": 1}


class KeySource(Protocol):
    fingerprint: str

    def xpub(self, path: str) -> str: ...


def bip48_path(network: str, script_type: str, account: int = 0) -> str:
    if script_type not in SCRIPT_STEPS:
        raise InvalidInput("unsupported_descriptor", f"script type {script_type!r}; use wsh or sh-wsh")
    if isinstance(account, bool) or not isinstance(account, int) or not 0 <= account < 2**31:
        raise InvalidInput("bad_derivation", f"account {account!r} must be 0 to 2^31-1")
    coin = 1 if networks.is_test(network) else 0
    return f"m/48h/{coin}h/{account}h/{SCRIPT_STEPS[script_type]}h"


def export_key(device: KeySource, network: str, script_type: str = "wsh", account: int = 0) -> Cosigner:
    """The device's key for a wallet, with its origin; refused if it does not fit the path or network."""
    path = bip48_path(network, script_type, account)
    xpub = device.xpub(path)
    cosigner = Cosigner.create(xpub, device.fingerprint, path)  # checks depth, child number, network
    if cosigner.is_test != networks.is_test(network):
        raise InvalidInput("wrong_network", f"the device returned a key for another network than {network}")
    return cosigner
