"""DEMO ONLY: a software "hardware wallet" for ``huddle demo``, on regtest only.

Its keys are public BIP-39 test mnemonics (coordinator/demo/people.py): anyone
can spend what they hold, so **DEMO: keys are not secret**. The agent uses it
only when ``HUDDLE_AGENT_DEMO_DEVICE`` names a demo member (``huddle demo`` sets
it for the agents it starts), and injection.py refuses it on any network but
regtest; it refuses other chains itself too. It speaks HWI's client interface,
so every line of the agent (pairing, confirm-setup, pinned roster, sign
requests) runs exactly as with a USB device.
"""

from __future__ import annotations

from embit import bip32, bip39
from embit import script as escript
from embit.psbt import PSBT as EmbitPSBT
from hwilib.common import AddressType, Chain
from hwilib.descriptor import MultisigDescriptor as HwiMultisig
from hwilib.errors import BadArgumentError, UnavailableActionError
from hwilib.hwwclient import HardwareWalletClient
from hwilib.key import ExtendedKey
from hwilib.psbt import PSBT as HwiPSBT

from .. import networks
from ..errors import InvalidInput
from ..wallet.descriptor import multisig_script
from .devices import Enumeration, Found

LABEL = "DEMO: keys are not secret"
TYPE = LABEL  # the device kind the agent reports to the ceremony room: the PWA shows it beside the signer


def _people() -> dict[str, str]:
    from ..demo.people import MNEMONICS

    return MNEMONICS


class DemoDevice(HardwareWalletClient):
    """A demo member's public test mnemonic behind HWI's client interface (regtest only)."""

    def __init__(self, member: str) -> None:
        super().__init__(f"demo:{member.lower()}", None, False, Chain.REGTEST)
        self.member = member
        self.root = bip32.HDKey.from_seed(bip39.mnemonic_to_seed(_people()[member]))
        self.fingerprint = self.root.my_fingerprint.hex()

    def get_master_fingerprint(self) -> bytes:
        return self.root.my_fingerprint

    def get_pubkey_at_path(self, bip32_path: str) -> ExtendedKey:
        key = self.root.derive(bip32_path).to_public()
        key.version = networks.params("regtest")["xpub"]
        return ExtendedKey.deserialize(key.to_base58())

    def sign_tx(self, psbt: HwiPSBT) -> HwiPSBT:
        ours = EmbitPSBT.from_string(psbt.serialize())
        ours.sign_with(self.root)
        signed = HwiPSBT()
        signed.deserialize(ours.to_string())
        return signed

    def display_multisig_address(self, addr_type: AddressType, multisig: HwiMultisig) -> str:
        if not any(self._is_mine(provider) for provider in multisig.pubkeys):
            raise BadArgumentError("this demo device holds none of the multisig's keys")
        pubkeys = [provider.get_pubkey_bytes(0) for provider in multisig.pubkeys]
        witness = escript.Script(multisig_script(multisig.thresh, sorted(pubkeys) if multisig.is_sorted else pubkeys))
        spk = escript.p2wsh(witness)
        if addr_type == AddressType.SH_WIT:
            spk = escript.p2sh(spk)
        elif addr_type != AddressType.WIT:
            raise BadArgumentError(f"unsupported address type {addr_type}")
        return spk.address(networks.params("regtest"))

    def _is_mine(self, provider) -> bool:
        if provider.origin is None or provider.origin.fingerprint != self.root.my_fingerprint:
            return False
        path = provider.origin.get_derivation_path() + (provider.deriv_path or "")
        return self.root.derive(path).to_public().sec() == provider.get_pubkey_bytes(0)

    def close(self) -> None:
        pass

    def can_sign_taproot(self) -> bool:
        return False

    def _unavailable(self, *args, **kwargs):
        raise UnavailableActionError("the demo device does not do this")

    get_master_xpub = sign_message = display_singlesig_address = _unavailable
    wipe_device = setup_device = restore_device = backup_device = _unavailable
    prompt_pin = send_pin = toggle_passphrase = _unavailable


class DemoFactory:
    """The agent's device factory in ``huddle demo``: one demo device, nothing from USB."""

    def __init__(self, member: str, network: str) -> None:
        if network != "regtest":
            raise InvalidInput("bad_config", f"the demo device ({LABEL}) works on regtest only, not {network!r}")
        if member not in _people():
            raise InvalidInput("bad_config", f"no demo member {member!r}; one of {', '.join(_people())}")
        self.device = DemoDevice(member)

    def enumerate(self) -> Enumeration:
        return Enumeration((Found(TYPE, LABEL, self.device.path, self.device.fingerprint),))

    def open(self, found: Found) -> DemoDevice:
        return self.device
