"""Wallet files other tools write and read: plain descriptors, Coldcard's
multisig setup file, BIP-129 BSMS records, Caravan's JSON, and Specter's
(and Sparrow's) JSON export.

Each format module has ``parse(text) -> WalletFile`` and
``serialize(wallet, network) -> str``. ``load`` and ``dump`` pick the module;
``detect`` guesses the format from the text. See docs/wallet-formats.md.
"""

from __future__ import annotations

import re
from types import ModuleType

from ... import networks
from ...errors import InvalidInput
from . import bsms, caravan, coldcard, descriptor, specter
from ..keys import KeyOrigin
from .base import WalletFile, load_json

__all__ = ["FORMATS", "WalletFile", "detect", "dump", "load"]

FORMATS = ("descriptor", "coldcard", "bsms", "caravan", "specter")  # specter = Sparrow/Specter JSON
_MODULES: dict[str, ModuleType] = {
    "descriptor": descriptor, "coldcard": coldcard, "bsms": bsms,
    "caravan": caravan, "specter": specter,
}
_COLDCARD_LINE = re.compile(r"^(name|policy|format|derivation|[0-9a-fA-F]{8})\s*:", re.IGNORECASE)
_DESCRIPTOR_LINE = re.compile(r"^[a-z_]+\(")
_ENCRYPTED_BSMS = re.compile(r"^[0-9a-fA-F\s]{64,}$")


def detect(text: str) -> str:
    """The format of a wallet file, or ``unknown_format``."""
    stripped = text.lstrip("\ufeff").strip()
    if stripped.startswith("{"):
        return _detect_json(stripped)
    if stripped.startswith("BSMS"):
        return "bsms"
    first = next((line.strip() for line in stripped.splitlines()
                  if line.strip() and not line.strip().startswith("#")), "")
    if _COLDCARD_LINE.match(first):
        return "coldcard"
    if _DESCRIPTOR_LINE.match(first):
        return "descriptor"
    if _ENCRYPTED_BSMS.match(stripped):
        raise InvalidInput(
            "unknown_format",
            "this looks like an encrypted BSMS record (.dat); decrypt it with the signer's "
            "token first, or export an unencrypted one",
        )
    raise InvalidInput(
        "unknown_format",
        "not a wallet file Huddle reads; expected a descriptor, a Coldcard multisig file, "
        "a BSMS record, or Caravan or Specter/Sparrow JSON",
    )


def _detect_json(text: str) -> str:
    data = load_json(text)
    if "extendedPublicKeys" in data:
        return "caravan"
    if "descriptor" in data:
        return "specter"
    raise InvalidInput(
        "unknown_format",
        "a JSON file that is neither a Caravan config (extendedPublicKeys) nor a "
        "Specter/Sparrow export (descriptor)",
    )


def _module(fmt: str) -> ModuleType:
    if fmt not in _MODULES:
        raise InvalidInput("unknown_format", f"unknown wallet file format {fmt!r}; use one of {', '.join(FORMATS)}")
    return _MODULES[fmt]


def load(text: str, fmt: str | None = None, origins: tuple[KeyOrigin, ...] = ()) -> WalletFile:
    """Parse a wallet file; ``fmt`` None means detect it.

    ``origins`` (``--origin``) complete keys whose origin the file lacks;
    only Caravan files have such keys (a key typed into Caravan as text).
    """
    text = text.lstrip("\ufeff")
    fmt = fmt or detect(text)
    if origins and fmt != "caravan":
        raise InvalidInput(
            "origin_not_needed",
            f"--origin completes keys of Caravan files; every key in a {fmt} file carries its origin",
        )
    return caravan.parse(text, tuple(origins)) if origins else _module(fmt).parse(text)


def dump(wallet: WalletFile, fmt: str, network: str) -> str:
    """The wallet as a ``fmt`` file for ``network`` (its keys must fit the network)."""
    module = _module(fmt)
    network = networks.check(network)
    wallet.descriptor.check_network(network)
    return module.serialize(wallet, network)
