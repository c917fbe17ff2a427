"""Extended public keys, key origins and cosigners.

Keys arrive in every SLIP-132 dress (xpub, ypub, Zpub, tpub, Vpub, ...).
We keep only xpub/tpub: PSBT_GLOBAL_XPUB and descriptors require them, and
devices reject SLIP-132 there (Sparrow, Specter and HWI all normalise).
"""

from __future__ import annotations

import functools
import hmac
import re
from dataclasses import dataclass

from embit import base58
from embit.bip32 import HDKey
from embit.networks import NETWORKS
from embit.util import secp256k1

from ..errors import InvalidInput

HARDENED = 0x80000000
# version bytes -> (is_test, public?) for every SLIP-132 prefix embit knows.
_VERSIONS: dict[bytes, tuple[bool, bool]] = {}
for _net, _is_test in (("main", False), ("test", True)):
    for _kind in ("xpub", "ypub", "zpub", "Ypub", "Zpub"):
        _VERSIONS[NETWORKS[_net][_kind]] = (_is_test, True)
    for _kind in ("xprv", "yprv", "zprv", "Yprv", "Zprv"):
        _VERSIONS[NETWORKS[_net][_kind]] = (_is_test, False)

# BIP-44-style purposes whose second step is the coin type.
_PURPOSES_WITH_COIN = {44, 48, 49, 84, 86, 87}
_FPR = re.compile(r"^[0-9a-fA-F]{8}$")
_STEP = re.compile(r"^(\d+)(['h]?)$")  # BIP-380: ' or h, not H


def parse_path(text: str) -> tuple[int, ...]:
    """``m/48'/1'/0'/2'`` or ``48h/1h/0h/2h`` -> child numbers."""
    text = text.strip()
    if text in ("", "m"):
        return ()
    parts = text.split("/")
    if parts[0] == "m":
        parts = parts[1:]
    out = []
    for part in parts:
        match = _STEP.match(part)
        if not match or int(match.group(1)) >= HARDENED:
            raise InvalidInput("malformed_origin", f"bad derivation step {part!r} in {text!r}")
        out.append(int(match.group(1)) + (HARDENED if match.group(2) else 0))
    return tuple(out)


def parse_fingerprint(text: str) -> bytes:
    text = text.strip()
    if not _FPR.match(text):
        raise InvalidInput(
            "malformed_origin", f"key fingerprint {text!r} is not 8 hex digits"
        )
    return bytes.fromhex(text)


def path_to_string(path: tuple[int, ...], prefix: str = "m") -> str:
    steps = [f"{i - HARDENED}h" if i >= HARDENED else str(i) for i in path]
    return "/".join([prefix, *steps]) if prefix else "/".join(steps)


@dataclass(frozen=True)
class KeyOrigin:
    """``[fingerprint/path]``: which seed and path a key came from."""

    fingerprint: bytes
    path: tuple[int, ...]

    @classmethod
    def from_string(cls, text: str) -> "KeyOrigin":
        """``0f056943/48'/1'/0'/2'`` (no brackets)."""
        fpr, _, path = text.partition("/")
        return cls(parse_fingerprint(fpr), parse_path(path))

    @classmethod
    def from_option(cls, text: str) -> "KeyOrigin":
        """``FPR:PATH`` as typed after ``--origin`` (``0f056943:m/48'/0'/0'/2'``)."""
        fpr, sep, path = text.strip().partition(":")
        if not sep:
            raise InvalidInput("malformed_origin", f"origin {text[:40]!r} is not FINGERPRINT:PATH, "
                               "e.g. 0f056943:m/48'/0'/0'/2'")
        return cls(parse_fingerprint(fpr), parse_path(path))

    def to_string(self) -> str:
        return path_to_string(self.path, self.fingerprint.hex())

    @property
    def path_string(self) -> str:
        return path_to_string(self.path)

    def coin_is_test(self) -> bool | None:
        """What the path's coin type says about the network, if it says anything."""
        if len(self.path) >= 2 and self.path[0] - HARDENED in _PURPOSES_WITH_COIN:
            coin = self.path[1]
            if coin == HARDENED:
                return False
            if coin == HARDENED + 1:
                return True
        return None


def parse_xpub(text: str) -> tuple[HDKey, bool]:
    """Any SLIP-132 public key -> (key with xpub/tpub version, is_test)."""
    text = text.strip()
    try:
        raw = base58.decode_check(text)
    except Exception:  # embit raises ValueError or AssertionError
        raise InvalidInput(
            "malformed_key", f"{describe(text)} is not a valid extended key (bad base58 checksum)"
        ) from None
    if len(raw) != 78:
        raise InvalidInput("malformed_key", f"{describe(text)} is {len(raw)} bytes, not 78")
    kind = _VERSIONS.get(raw[:4])
    if kind is None:
        raise InvalidInput("malformed_key", f"{describe(text)} has unknown version bytes")
    is_test, public = kind
    if not public:
        raise InvalidInput(
            "private_key",
            "that is a private key; never paste it anywhere. Huddle only takes public keys",
        )
    try:
        key = HDKey.parse(NETWORKS["test" if is_test else "main"]["xpub"] + raw[4:])
    except Exception:  # invalid point, bad depth/fingerprint combination
        raise InvalidInput(
            "malformed_key", f"{describe(text)} does not hold a valid public key"
        ) from None
    return key, is_test


@functools.lru_cache(maxsize=4096)
def _branch_key(xpub: str, branch: int) -> tuple[bytes, object, bytes]:
    """(compressed key, libsecp256k1 point, chain code) of ``xpub/branch``."""
    key = HDKey.from_string(xpub).derive([branch])
    return key.key.sec(), key.key._point, key.chain_code


@functools.lru_cache(maxsize=16384)  # ~3 MB; merges and syncs derive the same keys again
def _child_pubkey(xpub: str, branch: int, index: int) -> bytes:
    """BIP-32 CKDpub: one HMAC-SHA512 and one point addition. embit's
    ``HDKey.derive`` builds a whole key object per child, about 5x slower,
    and sync derives thousands (tests compare the two)."""
    sec, point, chain_code = _branch_key(xpub, branch)
    digest = hmac.new(chain_code, sec + index.to_bytes(4, "big"), "sha512").digest()
    try:
        child = secp256k1.ec_pubkey_add(point, digest[:32])  # copies the point
    except ValueError:  # I_L >= n or the point at infinity (odds ~2^-127): BIP-32 skips the index
        raise InvalidInput("bad_index", f"index {index} derives no valid key; BIP-32 says skip it") from None
    return secp256k1.ec_pubkey_serialize(child)


@dataclass(frozen=True)
class Cosigner:
    """One member's key: where it came from, the xpub, and who holds it."""

    origin: KeyOrigin
    xpub: str  # always xpub or tpub
    label: str = ""
    device: str = ""  # device kind ("coldcard", "ledger", ...), "" if unknown

    @classmethod
    def create(
        cls, xpub: str, fingerprint: str, path: str, label: str = "", device: str = ""
    ) -> "Cosigner":
        """From the separate fields that wallet files carry."""
        origin = KeyOrigin(parse_fingerprint(fingerprint), parse_path(path))
        return cls.from_parts(origin, xpub, label, device)

    @classmethod
    def from_parts(cls, origin: KeyOrigin, xpub: str, label: str = "", device: str = "") -> "Cosigner":
        key, is_test = parse_xpub(xpub)
        _check_origin(origin, key, is_test)
        return cls(origin, key.to_base58(), label.strip(), device.strip().lower())

    @property
    def fingerprint(self) -> str:
        return self.origin.fingerprint.hex()

    @property
    def is_test(self) -> bool:
        return self.xpub.startswith("tpub")

    @property
    def identity(self) -> tuple[bytes, bytes]:
        """(pubkey, chain code): what makes two keys the same key."""
        key = HDKey.from_string(self.xpub)
        return key.key.sec(), key.chain_code

    def child_pubkey(self, branch: int, index: int) -> bytes:
        return _child_pubkey(self.xpub, branch, index)

    def key_expression(self) -> str:
        return f"[{self.origin.to_string()}]{self.xpub}"


def _check_origin(origin: KeyOrigin, key: HDKey, is_test: bool) -> None:
    coin_test = origin.coin_is_test()
    if coin_test is not None and coin_test != is_test:
        raise InvalidInput(
            "wrong_network",
            f"key {short(key.to_base58())} is for {'test networks' if is_test else 'bitcoin'}"
            f" but its path {origin.path_string} is for "
            f"{'test networks' if coin_test else 'bitcoin'}",
        )
    # An origin that disagrees with the key means it was pasted from elsewhere;
    # the device would then fail to sign, or sign for a different key.
    if len(origin.path) != key.depth:
        raise InvalidInput(
            "origin_mismatch",
            f"key {short(key.to_base58())} sits at depth {key.depth} but its origin "
            f"path {origin.path_string} has {len(origin.path)} steps",
        )
    if origin.path and origin.path[-1] != key.child_number:
        raise InvalidInput(
            "origin_mismatch",
            f"key {short(key.to_base58())} is child {_step(key.child_number)} of its parent "
            f"but its origin path {origin.path_string} ends in {_step(origin.path[-1])}",
        )
    if not origin.path and key.my_fingerprint != origin.fingerprint:
        raise InvalidInput(
            "origin_mismatch",
            f"master key {short(key.to_base58())} has fingerprint {key.my_fingerprint.hex()},"
            f" not {origin.fingerprint.hex()}",
        )
    if len(origin.path) == 1 and key.fingerprint != origin.fingerprint:
        raise InvalidInput(
            "origin_mismatch",
            f"key {short(key.to_base58())}'s parent is not the fingerprint {origin.fingerprint.hex()}",
        )


def describe(text: str) -> str:
    """Name a key that failed to parse without echoing it: it may be a
    mistyped private key, and error messages end up in logs."""
    return f"key {text[:4]!r}… ({len(text)} characters)"


def is_private(text: str) -> bool:
    """True for an extended private key (any SLIP-132 dress) or a WIF key."""
    try:
        raw = base58.decode_check(text)
    except Exception:  # not base58check at all
        return False
    if len(raw) == 78:
        return _VERSIONS.get(raw[:4], (None, True))[1] is False
    return len(raw) in (33, 34) and raw[0] in (0x80, 0xEF)  # WIF, BIP-380 allows it


def short(text: str) -> str:
    """Long keys and descriptors, cut for one-line messages."""
    return text if len(text) <= 40 else f"{text[:30]}…{text[-6:]}"


def _step(child: int) -> str:
    return f"{child - HARDENED}h" if child >= HARDENED else str(child)
