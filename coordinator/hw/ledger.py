"""Ledger: the wallet registered once as a BIP-388 policy, its HMAC kept, passed at every signing.

HWI 3.2's own Ledger ``sign_tx`` registers the policy again on every call and
throws the HMAC away, so the user approves a registration before each spend and
learns to click through it. Here the agent registers once, stores the HMAC per
(device fingerprint, policy id) in its directory (0600), and signs through the
``ledger_bitcoin`` client with it. The policy id covers the name, so a renamed
wallet is a new registration: it is refused (``ledger_policy_renamed``) unless the
caller asks for it knowingly, never done silently.

``LedgerSigner`` has the ``fingerprint``/``sign`` shape signing.py takes, so every
check before and after the device is the same as for any other device.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hwilib.devices.ledger_bitcoin import MultisigWallet, WalletPolicy
from hwilib.devices.ledger_bitcoin.exception.errors import IncorrectDataError, SecurityStatusNotSatisfiedError
from hwilib.devices.ledger_bitcoin.wallet import AddressType as LedgerAddressType
from hwilib.psbt import PSBT as HwiPSBT

from ..errors import Conflict, InvalidInput, StorageError
from . import files
from .devices import Worker
from .pinned import PinnedWallet

MAX_NAME_BYTES = 64  # the Ledger Bitcoin app's limit on a policy name
_TYPES = {"wsh": LedgerAddressType.WIT, "sh-wsh": LedgerAddressType.SH_WIT}


def policy_for(wallet: PinnedWallet, name: str | None = None) -> MultisigWallet:
    """The pinned wallet as a BIP-388 policy: ``wsh(sortedmulti(M,@0/**,...))`` over its keys."""
    return policy_of(wallet.descriptor, wallet.name if name is None else name)


def policy_of(descriptor, name: str) -> MultisigWallet:
    if not name.isascii() or not name.isprintable() or not 0 < len(name) <= MAX_NAME_BYTES:
        raise InvalidInput("bad_wallet_name", f"a Ledger policy name is 1-{MAX_NAME_BYTES} printable ASCII "
                           f"characters; {name!r} is not")
    keys = [_ledger_key(c.key_expression()) for c in descriptor.cosigners]
    return MultisigWallet(name, _TYPES[descriptor.script_type], descriptor.threshold, keys, sorted=descriptor.sorted)


def _ledger_key(expression: str) -> str:
    """``[fp/48h/1h/0h/2h]tpub...`` as the app writes it: hardened steps with ' (only in the origin)."""
    origin, key = expression.split("]", 1)
    return origin.replace("h", "'") + "]" + key


class Registrations:
    """Stored HMACs: one file per (device fingerprint, policy id), in the agent's directory."""

    def __init__(self, agent_root: Path) -> None:
        self.dir = agent_root / "ledger"

    def hmac(self, fingerprint: str, policy: WalletPolicy) -> bytes | None:
        record = self._load(self._path(fingerprint, policy))
        return bytes.fromhex(record["hmac"]) if record else None

    def names_with_same_keys(self, fingerprint: str, policy: WalletPolicy) -> list[str]:
        """Names under which this device registered the same template and keys."""
        names = []
        for path in sorted(self.dir.glob(f"{fingerprint}-*.json")) if self.dir.exists() else []:
            record = self._load(path)
            if record["template"] == policy.descriptor_template and record["keys"] == policy.keys_info \
                    and record["name"] != policy.name:
                names.append(record["name"])
        return names

    def put(self, fingerprint: str, policy: WalletPolicy, hmac: bytes) -> None:
        record = {"fingerprint": fingerprint, "policy_id": policy.id.hex(), "name": policy.name,
                  "template": policy.descriptor_template, "keys": policy.keys_info, "hmac": hmac.hex(),
                  "registered_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        files.write_json(self._path(fingerprint, policy), record)

    def _path(self, fingerprint: str, policy: WalletPolicy) -> Path:
        return self.dir / f"{fingerprint}-{policy.id.hex()}.json"

    @staticmethod
    def _load(path: Path) -> dict | None:
        if not path.exists():
            return None
        record = files.read_json(path)
        try:
            bytes.fromhex(record["hmac"])
            return record
        except (ValueError, KeyError, TypeError) as err:
            raise StorageError("agent_dir_error", f"{path} is not a stored Ledger registration ({err})") from None


def ensure_registered(client, registrations: Registrations, fingerprint: str, policy: WalletPolicy, *,
                      rename: bool = False, worker: Worker | None = None) -> bytes:
    """The stored HMAC, or a new registration (approved on the device) when there is none.

    A policy this device holds under another name is re-registered only with ``rename``.
    """
    stored = registrations.hmac(fingerprint, policy)
    if stored is not None:
        return stored
    others = registrations.names_with_same_keys(fingerprint, policy)
    if others and not rename:
        raise Conflict("ledger_policy_renamed", f"this Ledger has the wallet registered as {others[0]!r}, not "
                       f"{policy.name!r}; registering it again under the new name needs your approval on the "
                       "device (pass the rename option to do it)")
    wallet_id, hmac = (worker or Worker()).run("registering the wallet", lambda: client.register_wallet(policy))
    if wallet_id != policy.id:
        raise InvalidInput("ledger_registration_mismatch", "the Ledger registered another policy than the one "
                           "sent; nothing was stored")
    registrations.put(fingerprint, policy, hmac)
    return hmac


def signer_for(device, wallet: PinnedWallet, agent_root: Path, *, rename: bool = False) -> "LedgerSigner":
    """A LedgerSigner for an opened HWI Ledger (``devices.Device``), registering the wallet
    first if this device has no stored HMAC for it (the user approves on the device)."""
    from .signing import cosigner_position

    cosigner_position(wallet.descriptor, device.fingerprint)  # before the device is asked anything
    client = device.client.client  # HWI's LedgerClient wraps the ledger_bitcoin client
    policy = policy_for(wallet)
    hmac = ensure_registered(client, Registrations(agent_root), device.fingerprint, policy, rename=rename,
                             worker=device.worker)
    return LedgerSigner(client, device.fingerprint, policy, hmac, device.worker)


class LedgerSigner:
    """Signs through ``ledger_bitcoin`` with the stored HMAC; signing.py checks everything."""

    def __init__(self, client, fingerprint: str, policy: WalletPolicy, hmac: bytes,
                 worker: Worker | None = None) -> None:
        self.client, self.fingerprint, self.policy, self.hmac = client, fingerprint, policy, hmac
        self.worker = worker or Worker()

    def sign(self, psbt_base64: str) -> str:
        psbt = HwiPSBT()
        psbt.deserialize(psbt_base64)
        sigs = self.worker.run("signing", lambda: self._sign(psbt))
        for index, pubkey, sig in sigs:
            if not 0 <= index < len(psbt.inputs):
                raise InvalidInput("device_changed_psbt", f"the Ledger signed input {index}, which does not exist")
            psbt.inputs[index].partial_sigs[pubkey] = sig
        return psbt.serialize()

    def display_address(self, descriptor, branch: int, index: int) -> str:
        """Show an address of the registered policy, with its HMAC (HWI would register it again)."""
        if policy_of(descriptor, self.policy.name).id != self.policy.id:
            raise InvalidInput("descriptor_mismatch", "the address asked for is not of this Ledger policy's wallet")
        return self.worker.run("showing an address", lambda: self._call(
            lambda: self.client.get_wallet_address(self.policy, self.hmac, branch, index, True)))

    def _sign(self, psbt: HwiPSBT) -> list:
        return self._call(lambda: self.client.sign_psbt(psbt, self.policy, self.hmac))

    @staticmethod
    def _call(call):
        try:
            return call()
        except (IncorrectDataError, SecurityStatusNotSatisfiedError):
            raise Conflict("ledger_registration_refused", "the Ledger refused this wallet's stored registration "
                           "(was it reset, or is another seed or passphrase active?)") from None
