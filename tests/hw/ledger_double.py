"""TEST ONLY: a stand-in for the ``ledger_bitcoin`` client that enforces the app's HMAC rules.

Like the Ledger Bitcoin app, it returns ``(policy id, HMAC-SHA256(device secret, policy id))``
when a policy is registered, and signs for a policy only with that exact HMAC. It
counts registrations, so a test can show the agent registers once, and it signs with
the embit keys of a tests/keys.py mnemonic.
"""

from __future__ import annotations

import hashlib
import hmac

from embit.psbt import PSBT as EmbitPSBT
from hwilib.devices.ledger_bitcoin import WalletPolicy
from hwilib.devices.ledger_bitcoin.exception.errors import IncorrectDataError
from hwilib.psbt import PSBT as HwiPSBT

from coordinator.wallet import descriptor

from .. import keys


class LedgerDouble:
    def __init__(self, seed: int, secret: bytes = b"this ledger's secret", network: str = "testnet") -> None:
        self.root = keys.root(seed)
        self.fingerprint = self.root.my_fingerprint.hex()
        self.secret = secret
        self.registered: list[str] = []  # policy names, in the order the user approved them
        self.signed: list[bytes | None] = []  # the HMAC passed at each signing
        self.shown: list[tuple[int, int]] = []  # (change, index) of each address shown
        self.network = network

    def _hmac(self, policy: WalletPolicy) -> bytes:
        return hmac.new(self.secret, policy.id, hashlib.sha256).digest()

    def get_master_fingerprint(self) -> bytes:
        return self.root.my_fingerprint

    def register_wallet(self, policy: WalletPolicy) -> tuple[bytes, bytes]:
        if not any(key.startswith(f"[{self.fingerprint}/") for key in policy.keys_info):
            raise IncorrectDataError("none of the policy's keys is this device's")
        self.registered.append(policy.name)
        return policy.id, self._hmac(policy)

    def get_wallet_address(self, policy: WalletPolicy, wallet_hmac: bytes | None, change: int, index: int,
                           display: bool) -> str:
        self.shown.append((change, index))
        self._check(policy, wallet_hmac)
        text = policy.get_descriptor(bool(change)).replace("'", "h")
        desc, _ = descriptor.parse(text)
        return desc.address(change, index, self.network)

    def _check(self, policy: WalletPolicy, wallet_hmac: bytes | None) -> None:
        if wallet_hmac is None or not hmac.compare_digest(wallet_hmac, self._hmac(policy)):
            raise IncorrectDataError("the wallet policy's HMAC is wrong")

    def sign_psbt(self, psbt: HwiPSBT, policy: WalletPolicy, wallet_hmac: bytes | None) -> list:
        self.signed.append(wallet_hmac)
        self._check(policy, wallet_hmac)
        ours = EmbitPSBT.from_string(psbt.serialize())
        before = [dict(scope.partial_sigs) for scope in ours.inputs]
        ours.sign_with(self.root)
        return [(i, pub.sec(), sig) for i, scope in enumerate(ours.inputs)
                for pub, sig in scope.partial_sigs.items() if pub not in before[i]]
