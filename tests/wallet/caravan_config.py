"""Caravan's own rules for a wallet configuration file, ported to Python so
the Caravan export can be checked against what Caravan does with it.

Ported from caravan-bitcoin/caravan at b25532a3690a601f212e7140081a9d1bec78a2bd
(MIT), rule for rule, with Caravan's messages:

- ``validate`` is ``CreateWallet.validateConfig`` and ``validateExtendedPublicKeys``
  in apps/coordinator/src/components/Wallet/index.jsx, which Caravan runs on an
  uploaded config before ``importDetails``;
- ``_bip32_path`` / ``_bip32_index`` are ``validateBIP32Path`` / ``validateBIP32Index``
  in packages/caravan-bitcoin/src/paths.ts;
- ``_xpub`` is ``validateExtendedPublicKey`` / ``validateExtendedPublicKeyForNetwork``
  in packages/caravan-bitcoin/src/keys.ts;
- ``imported`` is ``importDetails`` (same index.jsx): a key without ``method``
  becomes method "unknown", one without ``xfp`` root fingerprint "unknown";
- ``download`` is ``getWalletDetailsText`` / ``extendedPublicKeyImporterBIP32Path``
  in apps/coordinator/src/selectors/wallet.ts: what Caravan writes when the
  group downloads its config again;
- ``derives`` is ``networkData`` in packages/caravan-bitcoin/src/networks.ts,
  which throws for signet.

Only the upload/download path is ported; it is the part that decides whether
a path survives a trip through Caravan.
"""

from __future__ import annotations

import re

from embit import base58

_PATH = re.compile(r"^(m/)?(\d+'?/)*\d+'?$")
_INDEX = re.compile(r"^\d+'?$")
_METHODS = {"jade", "bitbox", "trezor", "coldcard", "ledger", "hermit", "xpub", "text", "sparrow", "bcur2", None}
_PUBLIC_CLIENTS = {"public", "mempool", "blockstream"}
UNKNOWN_PATH = "Unknown (make sure you have written this down previously!)"


def _missing(config: dict, properties: list[str], key: str) -> str:
    obj = config[key] if key else config
    for prop in properties:
        if prop not in obj:
            return f'Configuration missing property "{key + "." if key else ""}{prop}"'
    return ""


def _bip32_index(text: str, mode: str | None = None) -> str:
    if text in (None, ""):
        return "BIP32 index cannot be blank."
    if not _INDEX.match(text):
        return "BIP32 index is invalid."
    hardened = text.endswith("'")
    number_text = text[:-1] if hardened else text
    number = int(number_text)
    if str(number) != number_text:
        return "Invalid BIP32 index."
    if number > (2**31 - 1 if hardened else 2**32 - 1):
        return "BIP32 index is too high."
    if mode == "hardened" and not hardened and number <= 2**31 - 1:
        return "BIP32 index must be hardened."
    if mode == "unhardened" and (hardened or number > 2**31 - 1):
        return "BIP32 index cannot be hardened."
    return ""


def _bip32_path(text: str) -> str:
    if text in (None, ""):
        return "BIP32 path cannot be blank."
    if not isinstance(text, str) or not _PATH.match(text):
        return "BIP32 path is invalid."
    for segment in text.lower().split("/")[1:]:
        error = _bip32_index(segment)
        if error:
            return error
    return ""


def _xpub(text: str, network: str) -> str:
    if text in (None, ""):
        return "Extended public key cannot be blank."
    if len(text) < 4:
        return f"Invalid extended public key. Value {text} is too short"
    prefix = text[:4]
    needs_tpub = network in ("testnet", "regtest")
    if (network == "mainnet" and prefix != "xpub") or (needs_tpub and prefix != "tpub"):
        return "Extended public key must begin with 'xpub'" + (" or 'tpub'." if needs_tpub else ".")
    if len(text) < 111:
        return "Extended public key is too short."
    try:
        if len(base58.decode_check(text)) != 78:
            return "Invalid extended public key."
    except Exception:  # Caravan: ExtendedPublicKey.fromBase58 throws
        return "Invalid extended public key."
    return ""


def _keys(xpubs: list[dict], network: str) -> str:
    network = "testnet" if network == "regtest" else network
    seen: list[str] = []
    for index, key in enumerate(xpubs, start=1):
        if key.get("xpub") in seen:
            return "Duplicate xpub found."
        seen.append(key.get("xpub"))
        if not isinstance(key.get("name"), str):
            return f"Extended public key {index} name must be a string"
        if key.get("method") not in ("text", None):
            error = _bip32_path(key.get("bip32Path"))
            if error:
                return f"Extended public key {index} error: {error}"
        error = _xpub(key.get("xpub"), network)
        if error:
            return error
        if key.get("method") not in _METHODS:
            return f"Invalid method for extended public key {index}"
    return ""


def validate(config: dict) -> str:
    """Caravan's verdict on an uploaded config: "" when it accepts it."""
    error = _missing(config, ["name", "addressType", "network", "quorum", "extendedPublicKeys"], "")
    if error:
        return error
    if "startingAddressIndex" in config:
        # Caravan passes mode "unhardened " (trailing space), so only the plain index rules apply.
        error = _bip32_index(str(config["startingAddressIndex"]), "unhardened ")
        if error:
            return error.replace("BIP32", "Starting Address")
    if config.get("client"):
        public = config["client"].get("type") in _PUBLIC_CLIENTS
        error = _missing(config, ["type"] if public else ["type", "url", "username"], "client")
        if error:
            return error
    error = _missing(config, ["requiredSigners", "totalSigners"], "quorum")
    return error or _keys(config["extendedPublicKeys"], config["network"])


def imported(config: dict) -> list[dict]:
    """Caravan's key importers after ``importDetails``."""
    return [{"name": key["name"], "method": key.get("method") or "unknown", "bip32Path": key.get("bip32Path"),
             "extendedPublicKey": key["xpub"], "rootXfp": key.get("xfp") or "unknown"}
            for key in config["extendedPublicKeys"]]


def download(importers: list[dict]) -> list[dict]:
    """The keys as Caravan writes them when the config is downloaded again."""
    out = []
    for importer in importers:
        key = {"name": importer["name"],
               "bip32Path": UNKNOWN_PATH if importer["method"] == "text" else importer["bip32Path"],
               "xpub": importer["extendedPublicKey"],
               "xfp": "00000000" if importer["rootXfp"] == "Unknown" else importer["rootXfp"]}
        if importer["method"] != "unknown":
            key["method"] = importer["method"]
        out.append(key)
    return out


def derives(network: str) -> bool:
    """Whether Caravan can derive addresses on ``network`` (networkData)."""
    return network in ("mainnet", "testnet", "regtest")
