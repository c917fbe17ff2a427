"""Caravan's wallet configuration JSON.

    {"name": "...", "addressType": "P2WSH", "network": "mainnet",
     "client": {"type": "public"},
     "quorum": {"requiredSigners": 2, "totalSigners": 3},
     "extendedPublicKeys": [{"name", "bip32Path", "xpub", "xfp", "method"}, ...],
     "startingAddressIndex": 0}

Caravan lets a key's path be "Unknown (make sure ...)" (any key typed in
as text) and its fingerprint be absent or ``00000000``; a signer cannot sign
for such a key, so Huddle refuses it (``missing_origin``) unless the user
supplies the origin (``--origin FPR:PATH``). Writing omits ``method`` for a
key without a device Caravan knows, so Caravan keeps the path. Caravan cannot
derive signet addresses, so a signet wallet is not written
(``unsupported_network``). BDK does not read this format (see
docs/wallet-formats.md).
"""

from __future__ import annotations

import json

from ... import networks
from ...errors import InvalidInput, Unsupported
from ..descriptor import MultisigDescriptor
from ..keys import Cosigner, KeyOrigin
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
    "bitcoin": "mainnet", "testnet": "testnet", "testnet4": "testnet", "regtest": "regtest",
}
# Caravan's "method" values that name no device ("text" means the path is unknown).
_NOT_DEVICES = {"", "text", "xpub", "unknown", "other", "sparrow", "bcur2"}
# Huddle device kind -> Caravan's method name, for the devices Caravan knows
# (apps/coordinator/src/components/Wallet/index.jsx validateExtendedPublicKeys).
_DEVICE_METHODS = {"trezor": "trezor", "ledger": "ledger", "coldcard": "coldcard", "hermit": "hermit",
                   "jade": "jade", "bitbox": "bitbox", "bitbox02": "bitbox"}
_NO_FINGERPRINT = "00000000"  # what Caravan writes for an unknown fingerprint


def parse(text: str, origins: tuple[KeyOrigin, ...] = ()) -> WalletFile:
    """``origins`` are given, in file order, to the keys whose origin is unknown."""
    data = load_json(text)
    script_type = _address_type(field(data, "addressType", str, "wallet"))
    threshold, total = _quorum(field(data, "quorum", dict, "wallet"))
    keys = field(data, "extendedPublicKeys", list, "wallet")
    if total is not None and total != len(keys):
        raise malformed(f"quorum.totalSigners is {total} but the file lists {len(keys)} extendedPublicKeys")
    start = field(data, "startingAddressIndex", int, "wallet", required=False)
    if start is not None and start < 0:
        raise malformed(f"startingAddressIndex {start} is negative")
    supply = _Supply(origins)
    cosigners = tuple(_cosigner(i, key, supply) for i, key in enumerate(keys))
    supply.check_all_used()
    desc = MultisigDescriptor(script_type, threshold, cosigners, sorted=True)
    network = _network(data, desc)
    return WalletFile((field(data, "name", str, "wallet", required=False) or "").strip(), desc, network)


class _Supply:
    """The user's ``--origin`` values, handed out to keys that lack one."""

    def __init__(self, origins: tuple[KeyOrigin, ...]) -> None:
        self.origins = list(origins)
        self.used = 0

    def take(self, label: str, missing: str) -> KeyOrigin:
        if self.used == len(self.origins):
            raise InvalidInput(
                "missing_origin",
                f"{f'key {label!r}: ' if label else ''}the key's {missing} is unknown (Caravan "
                "writes that for a key typed in as text); signers need it to sign. Pass "
                "--origin FINGERPRINT:PATH for it (one per such key, in file order), or re-import "
                "the key from its device",
            )
        self.used += 1
        return self.origins[self.used - 1]

    def check_all_used(self) -> None:
        if self.used < len(self.origins):
            raise InvalidInput(
                "origin_not_needed",
                f"{len(self.origins)} --origin given but {self.used} key(s) in the file lack an "
                "origin; every key's origin is otherwise in the file",
            )


def _address_type(value: str) -> str:
    return script_type_named(value, "addressType")


def _quorum(quorum: dict) -> tuple[int, int | None]:
    required = field(quorum, "requiredSigners", int, "quorum")
    total = field(quorum, "totalSigners", int, "quorum", required=False)
    return required, total


def _cosigner(i: int, key: object, supply: _Supply) -> Cosigner:
    where = f"extendedPublicKeys[{i}]"
    if not isinstance(key, dict):
        raise malformed(f"{where}: expected an object, got {type(key).__name__}")
    xpub = field(key, "xpub", str, where)
    path = (field(key, "bip32Path", str, where, required=False) or "").strip()
    xfp = (field(key, "xfp", str, where, required=False) or "").strip()
    label = field(key, "name", str, where, required=False) or ""
    method = (field(key, "method", str, where, required=False) or "").strip().lower()
    device = "" if method in _NOT_DEVICES else method
    no_xfp = xfp in ("", _NO_FINGERPRINT)
    no_path = path == "" or path.lower().startswith("unknown")  # "Unknown (make sure ...)"
    with located(where):
        if not (no_xfp or no_path):
            return Cosigner.create(xpub, xfp, path, label=label, device=device)
        missing = "master fingerprint (xfp)" if no_xfp else "derivation path (bip32Path)"
        origin = supply.take(label.strip(), missing)
        if not no_xfp and origin.fingerprint.hex() != xfp.lower():
            raise InvalidInput("origin_mismatch", f"--origin {origin.to_string()} names fingerprint "
                               f"{origin.fingerprint.hex()} but the file says {xfp.lower()}")
        return Cosigner.from_parts(origin, xpub, label=label, device=device)


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
    data = {
        "name": wallet.name or default_name(desc),
        "addressType": SCRIPT_TYPE_NAMES[desc.script_type],
        "network": _network_name(network),
        "client": {"type": "public"},
        "quorum": {"requiredSigners": desc.threshold, "totalSigners": desc.n},
        "extendedPublicKeys": [_key(i, c) for i, c in enumerate(desc.cosigners)],
        "startingAddressIndex": 0,
    }
    return json.dumps(data, indent=2) + "\n"


def _key(i: int, cosigner: Cosigner) -> dict:
    # No "method" without a device: Caravan reads a missing method as
    # "unknown" and keeps the path, while "text" makes its next download
    # write the path as "Unknown (make sure ...)" (selectors/wallet.ts).
    key = {"name": cosigner.label or f"cosigner {i + 1}", "bip32Path": apostrophe_path(cosigner),
           "xpub": cosigner.xpub, "xfp": cosigner.fingerprint}
    if cosigner.device in _DEVICE_METHODS:
        key["method"] = _DEVICE_METHODS[cosigner.device]
    return key


def _network_name(network: str) -> str:
    network = networks.check(network)
    if network not in _NETWORK_NAMES:  # @caravan/bitcoin networkData: "Signet is not supported yet"
        raise Unsupported(
            "unsupported_network",
            f"Caravan cannot derive addresses on {network}; export the wallet as a descriptor, "
            "BSMS or Specter file instead",
        )
    return _NETWORK_NAMES[network]
