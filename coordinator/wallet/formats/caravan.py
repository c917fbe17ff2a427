"""Caravan's wallet configuration JSON (also written by BDK's wallet export).

    {"name": "...", "addressType": "P2WSH", "network": "mainnet",
     "client": {"type": "public"},
     "quorum": {"requiredSigners": 2, "totalSigners": 3},
     "extendedPublicKeys": [{"name", "bip32Path", "xpub", "xfp", "method"}, ...],
     "startingAddressIndex": 0}

Caravan lets a key's path be "Unknown" and its fingerprint be absent; a
signer cannot sign for such a key, so Huddle refuses it (``missing_origin``).
"""

from __future__ import annotations

import json

from ... import networks
from ...errors import InvalidInput
from ..descriptor import MultisigDescriptor
from ..keys import Cosigner
from .base import (
    SCRIPT_TYPE_NAMES,
    WalletFile,
    apostrophe_path,
    default_name,
    field,
    load_json,
    located,
    malformed,
    require_sorted,
    script_type_named,
)

_NETWORK_NAMES = {  # Huddle's name -> Caravan's; testnet4 shares testnet's prefixes
    "bitcoin": "mainnet", "testnet": "testnet", "testnet4": "testnet",
    "signet": "signet", "regtest": "regtest",
}
_NOT_DEVICES = {"", "text", "xpub", "unknown", "other"}  # methods that name no device
_DEVICE_METHODS = {"trezor", "ledger", "coldcard", "hermit"}  # methods Caravan signs with


def parse(text: str) -> WalletFile:
    data = load_json(text)
    script_type = _address_type(field(data, "addressType", str, "wallet"))
    threshold, total = _quorum(field(data, "quorum", dict, "wallet"))
    keys = field(data, "extendedPublicKeys", list, "wallet")
    if total is not None and total != len(keys):
        raise malformed(f"quorum.totalSigners is {total} but the file lists {len(keys)} extendedPublicKeys")
    start = field(data, "startingAddressIndex", int, "wallet", required=False)
    if start is not None and start < 0:
        raise malformed(f"startingAddressIndex {start} is negative")
    cosigners = tuple(_cosigner(i, key) for i, key in enumerate(keys))
    desc = MultisigDescriptor(script_type, threshold, cosigners, sorted=True)
    network = _network(data, desc)
    return WalletFile((field(data, "name", str, "wallet", required=False) or "").strip(), desc, network)


def _address_type(value: str) -> str:
    return script_type_named(value, "addressType")


def _quorum(quorum: dict) -> tuple[int, int | None]:
    required = field(quorum, "requiredSigners", int, "quorum")
    total = field(quorum, "totalSigners", int, "quorum", required=False)
    return required, total


def _cosigner(i: int, key: object) -> Cosigner:
    where = f"extendedPublicKeys[{i}]"
    if not isinstance(key, dict):
        raise malformed(f"{where}: expected an object, got {type(key).__name__}")
    xpub = field(key, "xpub", str, where)
    path = (field(key, "bip32Path", str, where, required=False) or "").strip()
    xfp = (field(key, "xfp", str, where, required=False) or "").strip()
    if not xfp or path.lower() in ("", "unknown"):
        missing = "master fingerprint (xfp)" if not xfp else "derivation path (bip32Path)"
        raise InvalidInput(
            "missing_origin",
            f"{where}: the key's {missing} is unknown; signers need it to sign. "
            "Re-import the key from its device",
        )
    label = field(key, "name", str, where, required=False) or ""
    method = (field(key, "method", str, where, required=False) or "").strip().lower()
    with located(where):
        return Cosigner.create(xpub, xfp, path, label=label,
                               device="" if method in _NOT_DEVICES else method)


def _network(data: dict, desc: MultisigDescriptor) -> str | None:
    name = field(data, "network", str, "wallet", required=False)
    if name is None:
        return None
    with located("network"):
        network = networks.check(name)
        desc.check_network(network)
    return network


def serialize(wallet: WalletFile, network: str) -> str:
    desc = wallet.descriptor
    require_sorted(desc, "Caravan")
    keys = [
        {
            "name": c.label or f"cosigner {i + 1}",
            "bip32Path": apostrophe_path(c),
            "xpub": c.xpub,
            "xfp": c.fingerprint,
            "method": c.device if c.device in _DEVICE_METHODS else "text",
        }
        for i, c in enumerate(desc.cosigners)
    ]
    data = {
        "name": wallet.name or default_name(desc),
        "addressType": SCRIPT_TYPE_NAMES[desc.script_type],
        "network": _NETWORK_NAMES[networks.check(network)],
        "client": {"type": "public"},
        "quorum": {"requiredSigners": desc.threshold, "totalSigners": desc.n},
        "extendedPublicKeys": keys,
        "startingAddressIndex": 0,
    }
    return json.dumps(data, indent=2) + "\n"
