"""A keyholder's multisig xpub from an air-gapped device's QR or file export.

Read (docs/qr.md, "Keys from QR-only devices"):

- UR ``crypto-account`` (BCR-2020-015; SeedSigner, Keystone, Passport, Jade)
  and its successor ``account-descriptor`` (BCR-2023-019): the device's keys
  for several script types; we take the one for the wallet's script type;
- UR ``crypto-hdkey`` (BCR-2020-007) and ``hdkey`` (the same map under the
  2023 tags 40303/40304/40305): one key with its origin;
- UR ``crypto-output`` / ``output-descriptor`` holding one cosigner key;
- Coldcard's multisig xpub export (``ccxp-XXXXXXXX.json``, Settings >
  Multisig Wallets > Export XPUB) and generic JSON export (``bip48_1``,
  ``bip48_2``), as a file or as BBQr (Coldcard Q, file type J), and the
  ``{"xfp", "xpub", "path"}`` file of Cobo/Keystone;
- plain ``[fingerprint/path]xpub`` text.

The result is a ``Cosigner`` at m/48'/coin'/account'/script' for the wallet's
network and script type, or a refusal with a specific code.
"""

from __future__ import annotations

import json
import re

from embit.bip32 import HDKey
from embit.ec import PublicKey
from embit.networks import NETWORKS

from .. import networks
from ..errors import HuddleError, InvalidInput
from ..wallet.keys import HARDENED, Cosigner, KeyOrigin, path_to_string
from . import account_errors  # noqa: F401  (registers the codes)
from .bbqr import BBQrJoiner, BBQrPart
from .errors import BadPart
from .keycbor import Tagged, loads
from .ur import URDecoder, URPart

MAX_EXPORT_LEN = 64 * 1024  # an account export is a few kB; more is not a key export
MAX_PARTS = 500
KEY_UR_TYPES = frozenset({"crypto-account", "account-descriptor", "crypto-hdkey", "hdkey",
                          "crypto-output", "output-descriptor"})
BIP48_SCRIPT = {"wsh": 2, "sh-wsh": 1}
# Script-expression tags: BCR-2020-010 and (for sh/wsh) their 2023 successors.
_SCRIPT_TAGS = {400: "sh", 401: "wsh", 402: "pk", 403: "pkh", 404: "wpkh", 405: "combo", 406: "multi",
                407: "sortedmulti", 409: "tr", 410: "cosigner"}
_HDKEY_TAGS = frozenset({303, 40303})
_CRYPTO_OUTPUT, _OUTPUT_DESCRIPTOR = 308, 40308  # BCR-2020-010 (tag chain), BCR-2023-010 (text)
_SINGLE_SIG_PURPOSES = {44: "BIP-44 (pkh)", 49: "BIP-49 (sh-wpkh)", 84: "BIP-84 (wpkh)", 86: "BIP-86 (tr)"}
_KEY_TEXT = re.compile(r"\[(?P<origin>[^\]]*)\](?P<xpub>[1-9A-HJ-NP-Za-km-z]+)")


def _unreadable(why: str) -> BadPart:
    return BadPart("key_export_unreadable", why)


class _KeyURDecoder(URDecoder):
    """The PSBT decoder's reassembly, for the key UR types."""

    def _check_type(self, ur_type: str) -> None:
        if ur_type not in KEY_UR_TYPES:
            raise _unreadable(f"ur:{ur_type} is not a key export (Huddle reads "
                              f"{', '.join(sorted(KEY_UR_TYPES))})")
        if self.ur_type is not None and ur_type != self.ur_type:
            raise BadPart("qr_mixed_transfer", f"a ur:{ur_type} frame in a ur:{self.ur_type} transfer")


def read_export(payload: str | list[str], network: str, script_type: str) -> Cosigner:
    """The keyholder's key for a ``script_type`` multisig wallet on ``network``
    from scanned frames (one string or several) or an uploaded file's text."""
    parts = [payload] if isinstance(payload, str) else list(payload)
    parts = [p.strip() for p in parts if isinstance(p, str) and p.strip()]
    if not parts or len(parts) > MAX_PARTS or sum(map(len, parts)) > MAX_EXPORT_LEN:
        raise _unreadable(f"give the scanned QR parts (1 to {MAX_PARTS}) or the exported file's text")
    first = parts[0]
    if first[:3].lower() == "ur:":
        ur_type, cbor = _join_ur(parts)
        return _from_cbor(ur_type, cbor, network, script_type)
    if first[:2].upper() == "B$":
        return _from_text(_join_bbqr(parts), network, script_type)
    return _from_text("\n".join(parts), network, script_type)


def _join_ur(parts: list[str]) -> tuple[str, bytes]:
    decoder = _KeyURDecoder(MAX_EXPORT_LEN, MAX_PARTS)
    for frame in dict.fromkeys(parts):
        decoder.receive(URPart.from_string(frame))
        if decoder.result is not None:
            return decoder.ur_type, decoder.result
    raise BadPart("qr_incomplete", "the scanned UR parts do not yet make the whole export; keep scanning")


def _join_bbqr(parts: list[str]) -> str:
    joiner = BBQrJoiner(MAX_EXPORT_LEN)
    for frame in dict.fromkeys(parts):
        part = BBQrPart.from_string(frame)
        joiner.receive(part)
        if joiner.result is not None:
            file_type, data = joiner.result
            if file_type not in ("J", "U"):
                raise _unreadable(f"the BBQr holds a {file_type} file, not a key export (J or U)")
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                raise _unreadable("the BBQr file is not UTF-8 text") from None
    raise BadPart("qr_incomplete", "the scanned BBQr parts do not yet make the whole file; keep scanning")


# ---- CBOR (UR) exports -------------------------------------------------------

def _from_cbor(ur_type: str, cbor: bytes, network: str, script_type: str) -> Cosigner:
    item = loads(cbor)
    if ur_type in ("crypto-hdkey", "hdkey"):
        hdkey = item.value if isinstance(item, Tagged) and item.tag in _HDKEY_TAGS else item
        return _checked(_hdkey(hdkey, None), None, network, script_type)
    if ur_type in ("crypto-output", "output-descriptor"):
        candidates = [_output(item, None)]
    else:
        if not isinstance(item, dict) or not isinstance(item.get(2), list):
            raise _unreadable(f"a ur:{ur_type} is a map of the master fingerprint (1) and output descriptors (2)")
        master = _fingerprint(item.get(1))
        candidates = [_output(o, master) for o in item[2][:64]]
    return _pick(candidates, network, script_type)


def _output(item: object, master: bytes | None) -> tuple[tuple[str, ...], object]:
    """(script chain such as ("sh", "wsh"), Cosigner or the reason it is not one)."""
    if isinstance(item, Tagged) and item.tag == _CRYPTO_OUTPUT:
        item = item.value
    if isinstance(item, Tagged) and item.tag == _OUTPUT_DESCRIPTOR:  # text source and keys
        body = item.value if isinstance(item.value, dict) else {}
        source, keys = body.get(1), body.get(2)
        if not isinstance(source, str) or not isinstance(keys, list) or len(keys) != 1:
            return (), "an output descriptor that is not one cosigner key"
        chain = tuple(re.findall(r"([a-z_]+)\(", source))
        key = keys[0].value if isinstance(keys[0], Tagged) and keys[0].tag in _HDKEY_TAGS else None
        return _strip_cosigner(chain), _try_hdkey(key, master)
    chain: list[str] = []
    while isinstance(item, Tagged) and item.tag in _SCRIPT_TAGS:
        chain.append(_SCRIPT_TAGS[item.tag])
        item = item.value
    key = item.value if isinstance(item, Tagged) and item.tag in _HDKEY_TAGS else None
    return _strip_cosigner(tuple(chain)), _try_hdkey(key, master)


def _strip_cosigner(chain: tuple[str, ...]) -> tuple[str, ...]:
    return chain[:-1] if chain[-1:] == ("cosigner",) else chain


def _try_hdkey(key: object, master: bytes | None) -> object:
    if key is None:
        return "not an HD key"
    try:
        return _hdkey(key, master)
    except HuddleError as err:
        return err


def _fingerprint(value: object) -> bytes | None:
    """A 32-bit fingerprint; 0 means "unknown" (hummingbird's zero-fingerprint vector)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**32:
        return value.to_bytes(4, "big")
    return None


def _hdkey(item: object, master: bytes | None) -> Cosigner:
    """An hdkey map (BCR-2020-007): 2 private, 3 key, 4 chain code, 5 use-info,
    6 origin {1 path components, 2 source fingerprint, 3 depth}, 8 parent fingerprint."""
    if not isinstance(item, dict):
        raise _unreadable("an hdkey is a CBOR map")
    if item.get(2) is True or item.get(1) is True:
        raise InvalidInput("private_key", "that QR holds a private key; never show it to anyone. "
                           "Export the public key (xpub) for multisig instead")
    key, chain_code = item.get(3), item.get(4)
    if not (isinstance(key, bytes) and len(key) == 33 and isinstance(chain_code, bytes) and len(chain_code) == 32):
        raise _unreadable("an hdkey without its 33-byte public key and 32-byte chain code")
    origin = item.get(6)
    origin = origin.value if isinstance(origin, Tagged) else origin
    if not isinstance(origin, dict):
        raise InvalidInput("key_export_no_origin", "the key has no origin: export it from the device's "
                           "multisig menu, which includes the fingerprint and path")
    path = _components(origin.get(1))
    fingerprint = _fingerprint(origin.get(2)) or master
    if fingerprint is None or not path:
        raise InvalidInput("key_export_no_origin", "the key's origin lacks the master fingerprint or the "
                           "derivation path; the device needs both to sign")
    is_test = _use_info_is_test(item.get(5))
    version = NETWORKS["test" if is_test else "main"]["xpub"]
    parent = _fingerprint(item.get(8)) or (fingerprint if len(path) == 1 else b"\x00" * 4)
    try:
        hd = HDKey(PublicKey.parse(key), chain_code, version=version, depth=len(path),
                   fingerprint=parent, child_number=path[-1])
    except Exception:  # embit: not a point on the curve
        raise _unreadable("the hdkey's key data is not a valid public key") from None
    return Cosigner.from_parts(KeyOrigin(fingerprint, path), hd.to_base58())


def _components(value: object) -> tuple[int, ...]:
    """Origin path components: pairs of (index, hardened); no wildcards or ranges."""
    if not isinstance(value, list) or len(value) % 2 or len(value) > 2 * 16:
        return ()
    steps = []
    for index, hardened in zip(value[::2], value[1::2]):
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < HARDENED \
                or not isinstance(hardened, bool):
            raise _unreadable("an origin path step that is not a plain index")
        steps.append(index + (HARDENED if hardened else 0))
    return tuple(steps)


def _use_info_is_test(value: object) -> bool:
    info = value.value if isinstance(value, Tagged) else value
    if info is None:
        return False  # BCR-2020-007: the default is bitcoin mainnet
    if not isinstance(info, dict):
        raise _unreadable("the key's use-info is not a map")
    # The coin type (1) is not checked: Cobo's real exports say 1 for bitcoin
    # (BlueWallet's "cobo URv2" vector); the BIP-48 path check pins the coin anyway.
    return info.get(2, 0) == 1


def _pick(candidates: list, network: str, script_type: str) -> Cosigner:
    want = ("sh", "wsh") if script_type == "sh-wsh" else ("wsh",)
    for chain, found in candidates:
        if chain == want:
            if isinstance(found, HuddleError):
                raise found
            if isinstance(found, str):
                raise _unreadable(f"the {script_type} entry is {found}")
            return _checked(found, want, network, script_type)
    seen = ", ".join("-".join(chain) or "?" for chain, _ in candidates) or "nothing"
    raise InvalidInput("key_export_wrong_script", f"the export holds keys for {seen}, none for a {script_type} "
                       f"multisig wallet; on the device choose the multisig export for {script_type}",
                       found=seen)


# ---- text and JSON exports ---------------------------------------------------

def _from_text(text: str, network: str, script_type: str) -> Cosigner:
    stripped = text.lstrip("\ufeff").strip()
    if stripped.startswith("{"):
        return _from_json(stripped, network, script_type)
    match = _KEY_TEXT.fullmatch(stripped)
    if match is None:
        if re.fullmatch(r"[1-9A-HJ-NP-Za-km-z]{100,120}", stripped):
            raise InvalidInput("key_export_no_origin", "a bare xpub without [fingerprint/path]; export the "
                               "key from the device's multisig menu, which includes its origin")
        raise _unreadable("not a key export (expected a UR, BBQr, Coldcard JSON or [fingerprint/path]xpub)")
    cosigner = Cosigner.from_parts(KeyOrigin.from_string(match["origin"]), match["xpub"])
    return _checked(cosigner, None, network, script_type)


def _from_json(text: str, network: str, script_type: str) -> Cosigner:
    """Coldcard's multisig xpub export (ccxp), its generic export, or the
    {"xfp", "xpub", "path"} file of Cobo/Keystone."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        raise _unreadable("the file is not valid JSON") from None
    if not isinstance(data, dict):
        raise _unreadable("a Coldcard export is a JSON object")
    xfp = data.get("xfp")
    if isinstance(data.get("path"), str) and isinstance(data.get("xpub"), str) and isinstance(xfp, str):
        # Cobo/Keystone's multisig xpub file, {"xfp", "xpub", "path"} (BlueWallet writes it too)
        return _checked(Cosigner.create(data["xpub"], xfp, data["path"]), None, network, script_type)
    names = {"wsh": ("p2wsh", "bip48_2"), "sh-wsh": ("p2sh_p2wsh", "p2wsh_p2sh", "bip48_1")}
    for name in names[script_type]:
        entry = data.get(name)
        if isinstance(entry, dict):  # generic export: {"deriv", "xpub", "xfp"}; that xfp is the
            # account key's own fingerprint, not the master's (Sparrow's cc-singlesig-keystore-1.json)
            xfp_here, deriv, xpub = xfp, entry.get("deriv"), entry.get("xpub")
        else:  # ccxp: "p2wsh": "Vpub...", "p2wsh_deriv": "m/48'/1'/0'/2'"
            xfp_here, deriv, xpub = xfp, data.get(f"{name}_deriv"), entry
        if entry is not None and not isinstance(xpub, str):
            raise _unreadable(f"the Coldcard export's {name!r} entry is not an xpub")
        if isinstance(xpub, str):
            if not isinstance(xfp_here, str) or not isinstance(deriv, str):
                raise InvalidInput("key_export_no_origin", "the Coldcard export lacks the fingerprint (xfp) "
                                   "or the derivation (deriv) of its key")
            cosigner = Cosigner.create(xpub, xfp_here, deriv)
            return _checked(cosigner, None, network, script_type)
    found = sorted(k for k in data if not k.endswith("_deriv") and k not in ("xfp", "xpub", "account", "chain"))[:12]
    if not found:
        raise _unreadable("not a Coldcard xpub export (no xfp and keys)")
    raise InvalidInput("key_export_wrong_script", f"the Coldcard export holds {', '.join(found)}, none for a "
                       f"{script_type} multisig wallet", found=", ".join(found))


# ---- the checks every key passes ---------------------------------------------

def _checked(cosigner: Cosigner, chain: tuple[str, ...] | None, network: str, script_type: str) -> Cosigner:
    if cosigner.is_test != networks.is_test(network):
        raise InvalidInput("wrong_network", f"this key is for {'test networks' if cosigner.is_test else 'bitcoin'}"
                           f" but the wallet is on {network}")
    path, step = cosigner.origin.path, BIP48_SCRIPT[script_type]
    purpose = path[0] - HARDENED if path and path[0] >= HARDENED else None
    if purpose in _SINGLE_SIG_PURPOSES:
        raise InvalidInput("key_export_wrong_script", f"{path_to_string(path)} is a {_SINGLE_SIG_PURPOSES[purpose]} "
                           "single-sig account; on the device choose the multisig (BIP-48) export")
    if purpose == 48 and len(path) == 4 and path[3] != HARDENED + step:
        raise InvalidInput("key_export_wrong_script", f"{path_to_string(path)} is the BIP-48 key for another "
                           f"script type; this wallet is {script_type} (script step {step}h)")
    coin = HARDENED + (1 if networks.is_test(network) else 0)
    want = (HARDENED + 48, coin, None, HARDENED + step)
    if len(path) != 4 or any(w is not None and p != w for p, w in zip(path, want)) or path[2] < HARDENED:
        raise InvalidInput("key_export_wrong_path", f"{path_to_string(path)} is not m/48h/{coin - HARDENED}h/"
                           f"<account>h/{step}h, the BIP-48 path for {script_type} on {network}")
    return cosigner
