"""TEST ONLY: a software "hardware wallet" holding a public test mnemonic.

It implements HWI's ``HardwareWalletClient`` with embit keys from
tests/keys.py, so the agent's code runs exactly as with a USB device, and it
records every call, so a test can assert that the device was *never asked*
to sign a PSBT the agent refused. ``tamper`` lets a test play a lying device
(extra fields, foreign or invalid signatures).

It lives in tests/ on purpose: an installed Huddle cannot load it (see
coordinator/hw/injection.py, which honours HUDDLE_AGENT_TEST_DEVICES only for a
module inside the checkout's tests/ directory).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from embit import script as escript
from embit.psbt import PSBT as EmbitPSBT
from hwilib.common import AddressType, Chain
from hwilib.descriptor import MultisigDescriptor as HwiMultisig
from hwilib.errors import BadArgumentError, UnavailableActionError
from hwilib.hwwclient import HardwareWalletClient
from hwilib.key import ExtendedKey
from hwilib.psbt import PSBT as HwiPSBT

from coordinator import networks
from coordinator.hw.devices import Enumeration, Found
from coordinator.wallet.descriptor import multisig_script

from .. import keys

_NETWORK = {Chain.MAIN: "bitcoin", Chain.TEST: "testnet", Chain.TESTNET4: "testnet4",
            Chain.SIGNET: "signet", Chain.REGTEST: "regtest"}


class SoftwareDevice(HardwareWalletClient):
    """The test seed ``seed`` behind HWI's client interface. Never for real funds."""

    kind = "software"

    def __init__(self, seed: int, chain: Chain = Chain.TEST, tamper: Callable[[EmbitPSBT], None] | None = None,
                 log: Path | None = None) -> None:
        super().__init__(f"software:{seed}", None, False, chain)
        self.seed, self.tamper, self.log = seed, tamper, log
        self.root = keys.root(seed)
        self.fingerprint = self.root.my_fingerprint.hex()
        self.calls: list[str] = []
        self.displayed: list[tuple[str, str]] = []  # (this device's key path, the address) per display

    def _called(self, name: str) -> None:
        self.calls.append(name)
        if self.log is not None:
            with open(self.log, "a", encoding="utf-8") as f:
                f.write(f"{self.fingerprint} {name}\n")

    # -- what the agent uses ------------------------------------------------------

    def get_master_fingerprint(self) -> bytes:
        self._called("get_master_fingerprint")
        return self.root.my_fingerprint

    def get_pubkey_at_path(self, bip32_path: str) -> ExtendedKey:
        self._called("get_pubkey_at_path")
        key = self.root.derive(bip32_path).to_public()
        key.version = networks.params(_NETWORK[self.chain])["xpub"]
        return ExtendedKey.deserialize(key.to_base58())

    def sign_tx(self, psbt: HwiPSBT) -> HwiPSBT:
        self._called("sign_tx")
        ours = EmbitPSBT.from_string(psbt.serialize())
        ours.sign_with(self.root)
        if self.tamper is not None:
            self.tamper(ours)
        signed = HwiPSBT()
        signed.deserialize(ours.to_string())
        return signed

    def display_multisig_address(self, addr_type: AddressType, multisig: HwiMultisig) -> str:
        self._called("display_multisig_address")
        pubkeys = [provider.get_pubkey_bytes(0) for provider in multisig.pubkeys]
        if not any(self._is_mine(provider) for provider in multisig.pubkeys):
            raise BadArgumentError("this device holds none of the multisig's keys")
        ordered = sorted(pubkeys) if multisig.is_sorted else pubkeys
        witness = escript.Script(multisig_script(multisig.thresh, ordered))
        spk = escript.p2wsh(witness)
        if addr_type == AddressType.SH_WIT:
            spk = escript.p2sh(spk)
        elif addr_type != AddressType.WIT:
            raise BadArgumentError(f"unsupported address type {addr_type}")
        address = spk.address(networks.params(_NETWORK[self.chain]))
        self._displayed(next(self._path(p) for p in multisig.pubkeys if self._is_mine(p)), address)
        return address

    def _path(self, provider) -> str:
        return provider.origin.get_derivation_path() + (provider.deriv_path or "")

    def _displayed(self, path: str, address: str) -> None:
        """What the screen showed, for a test to check the device was asked for exactly that path
        (also appended to ``<log>.shown`` for a subprocess's test)."""
        self.displayed.append((path, address))
        if self.log is not None:
            with open(f"{self.log}.shown", "a", encoding="utf-8") as f:
                f.write(f"{self.fingerprint} {path} {address}\n")

    def _is_mine(self, provider) -> bool:
        if provider.origin is None or provider.origin.fingerprint != self.root.my_fingerprint:
            return False
        return self.root.derive(self._path(provider)).to_public().sec() == provider.get_pubkey_bytes(0)

    def close(self) -> None:
        self._called("close")

    def can_sign_taproot(self) -> bool:
        return False

    # -- what a software device cannot do ---------------------------------------------

    def _unavailable(self, *args, **kwargs):
        raise UnavailableActionError("the software test device does not do this")

    get_master_xpub = sign_message = display_singlesig_address = _unavailable
    wipe_device = setup_device = restore_device = backup_device = _unavailable
    prompt_pin = send_pin = toggle_passphrase = _unavailable


class LedgerShell:
    """HWI's LedgerClient reduced to what the agent uses of it: ``.client``, the
    ledger_bitcoin client (here the HMAC-enforcing double), and ``close``."""

    kind = "ledger"

    def __init__(self, seed: int, log: Path | None = None) -> None:
        from .ledger_double import LedgerDouble

        self.client = LedgerDouble(seed)
        self.fingerprint, self.path, self.log = self.client.fingerprint, f"ledger:{seed}", log
        for name in ("register_wallet", "sign_psbt", "get_wallet_address"):
            setattr(self.client, name, self._logged(name, getattr(self.client, name)))

    def _logged(self, name, call):
        def logged(*args):
            if self.log is not None:
                with open(self.log, "a", encoding="utf-8") as f:
                    f.write(f"{self.fingerprint} {name}\n")
            return call(*args)
        return logged

    def close(self) -> None:
        pass


class SoftwareFactory:
    """The agent's device factory over software devices (tests only)."""

    def __init__(self, *devices) -> None:  # SoftwareDevice, LedgerShell, coldcard_double.ColdcardShell
        self.devices = devices

    def enumerate(self) -> Enumeration:
        return Enumeration(tuple(Found(d.kind, f"{d.kind}_test_only", d.path, d.fingerprint) for d in self.devices))

    def open(self, found: Found):
        return next(d for d in self.devices if d.path == found.path)


# Lying devices a test can ask for by name (HUDDLE_AGENT_TEST_TAMPER) in a subprocess.
def _extra_field(psbt: EmbitPSBT) -> None:
    psbt.inputs[0].unknown[b"\xfc\x05huddl"] = b"planted"


def _invalid_signature(psbt: EmbitPSBT) -> None:
    for scope in psbt.inputs:
        for pub, sig in scope.partial_sigs.items():
            scope.partial_sigs[pub] = sig[:-9] + bytes([sig[-9] ^ 1]) + sig[-8:]


TAMPERS = {"extra_field": _extra_field, "invalid_signature": _invalid_signature}


def from_env() -> SoftwareFactory:
    """The factory a ``huddle agent`` subprocess builds in tests, from its environment:
    HUDDLE_AGENT_TEST_SEEDS ("0,1"), HUDDLE_AGENT_TEST_CHAIN, HUDDLE_AGENT_TEST_LOG
    (calls are appended there), HUDDLE_AGENT_TEST_TAMPER (a name in TAMPERS) and
    HUDDLE_AGENT_TEST_LEDGERS and HUDDLE_AGENT_TEST_COLDCARDS (seeds that appear as
    Ledgers or Coldcards, "2")."""
    from .coldcard_double import ColdcardShell

    seeds = [int(s) for s in os.environ.get("HUDDLE_AGENT_TEST_SEEDS", "0").split(",") if s]
    chain = Chain.argparse(os.environ.get("HUDDLE_AGENT_TEST_CHAIN", "test"))
    log = os.environ.get("HUDDLE_AGENT_TEST_LOG")
    tamper = TAMPERS.get(os.environ.get("HUDDLE_AGENT_TEST_TAMPER", ""))
    ledgers = [int(s) for s in os.environ.get("HUDDLE_AGENT_TEST_LEDGERS", "").split(",") if s]
    log_path = Path(log) if log else None
    coldcards = [int(s) for s in os.environ.get("HUDDLE_AGENT_TEST_COLDCARDS", "").split(",") if s]
    return SoftwareFactory(*(SoftwareDevice(s, chain, tamper, log_path) for s in seeds),
                           *(LedgerShell(s, log_path) for s in ledgers), *(ColdcardShell(s) for s in coldcards))
