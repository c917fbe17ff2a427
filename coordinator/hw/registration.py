"""Registering a pinned wallet on a device, so it can check change on its own screen.

Each kind of device keeps (or does not keep) a multisig wallet in its own way:

- Ledger: a BIP-388 policy, registered once, its HMAC stored (ledger.py);
- Coldcard: the wallet's Coldcard file uploaded, then ``multisig_enroll``; the
  user approves the enrollment on the device (ckcc protocol, vendored by HWI);
- Jade and BitBox02: they register the wallet when asked to show an address of it;
- Trezor and KeepKey keep nothing: they check change against the PSBT's global
  xpubs, which the agent's checks require to be exactly the pinned cosigners.

Except for a Coldcard, whose enrollment is still awaiting approval, the first
receive address is then shown on the device for the group to compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hwilib.devices.ckcc.protocol import CCProtocolPacker

from ..wallet.formats import coldcard
from ..wallet.formats.base import WalletFile
from . import addresses, ledger
from .pinned import PinnedWallet
from .signing import cosigner_position

_SHOWN = {
    "jade": "Jade registered the wallet when asked to show its first address",
    "bitbox02": "BitBox02 registered the wallet when asked to show its first address",
    "trezor": "Trezor keeps no registration; it checks change against the PSBT's global xpubs",
    "keepkey": "KeepKey keeps no registration; it checks change against the PSBT's global xpubs",
}


@dataclass(frozen=True)
class Registration:
    how: str  # what happened on the device, for the user
    first_address: str | None  # shown on the device and checked; None while a Coldcard awaits approval


def register(device, wallet: PinnedWallet, agent_root: Path, *, rename: bool = False) -> Registration:
    """Register ``wallet`` on the opened ``device`` (devices.Device) the way its kind needs."""
    cosigner_position(wallet.descriptor, device.fingerprint)  # before the device is asked anything
    kind = device.found.type
    if kind == "ledger":
        signer = ledger.signer_for(device, wallet, agent_root, rename=rename)
        return Registration("Ledger: the wallet policy is registered and its HMAC stored",
                            addresses.show(wallet, signer, 0))
    if kind == "coldcard":
        device.worker.run("enrolling the wallet", lambda: enroll_coldcard(device.client.device, wallet))
        return Registration("Coldcard: the wallet file was sent; approve it on the device, then check the "
                            f"first address with: huddle agent show-address {wallet.name!r} --index 0", None)
    how = _SHOWN.get(kind, f"{device.found.model}: the first address was shown")
    return Registration(how, addresses.show(wallet, device, 0))


def enroll_coldcard(cc_device, wallet: PinnedWallet) -> None:
    """Upload the wallet as a Coldcard multisig file and start its enrollment (ckcc)."""
    text = coldcard.serialize(WalletFile(wallet.name, wallet.descriptor, wallet.network), wallet.network)
    length, sha = cc_device.upload_file(text.encode("ascii"))
    cc_device.send_recv(CCProtocolPacker.multisig_enroll(length, sha))
