"""Multisig output descriptors: ``wsh(sortedmulti(...))`` and
``sh(wsh(sortedmulti(...)))`` with ``[fingerprint/path]`` origins and
``<0;1>/*`` multipath keys (BIP-380/383/389).

We parse the narrow grammar we support ourselves: embit would accept more,
ignore the checksum, and fail with bare asserts on odd input. Anything else
(taproot, miniscript, single-sig) is refused as *unsupported*.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from embit.script import Script, p2sh, p2wsh

from .. import networks
from ..errors import InvalidInput, Unsupported
from . import checksum
from .keys import HARDENED, Cosigner, KeyOrigin, is_private
from .keys import short as _short

MAX_COSIGNERS = 15  # BIP-67/P2SH-P2WSH policy limit most devices enforce
SCRIPT_TYPES = ("wsh", "sh-wsh")
RECEIVE, CHANGE = 0, 1

_KEY = re.compile(r"^\[(?P<origin>[^\]]*)\](?P<xpub>[1-9A-HJ-NP-Za-km-z]+)(?P<suffix>(/[^/]*)*)$")
# Heads we recognise but do not handle yet; each gets an "unsupported" error.
_UNSUPPORTED_HEADS = {
    "tr": "taproot descriptors",
    "rawtr": "taproot descriptors",
    "wpkh": "single-sig descriptors",
    "pkh": "single-sig descriptors",
    "pk": "single-sig descriptors",
    "combo": "single-sig descriptors",
    "addr": "address descriptors",
    "raw": "raw script descriptors",
    "multi": "bare multisig",
    "sortedmulti": "bare multisig",
    "multi_a": "taproot multisig",
    "sortedmulti_a": "taproot multisig",
    "sh": "legacy P2SH descriptors",
}
SUFFIX_BRANCHES = {"/<0;1>/*": None, "/**": None, "/0/*": RECEIVE, "/1/*": CHANGE}
# BIP-393 annotations: ``SCRIPT?key=value&key=value#CHECKSUM``.
_ANNOTATION = re.compile(r"^([a-z]+)=(0|[1-9][0-9]{0,15})$")


@dataclass(frozen=True)
class MultisigDescriptor:
    """An m-of-n multisig policy over cosigners' extended keys."""

    script_type: str  # "wsh" or "sh-wsh"
    threshold: int
    cosigners: tuple[Cosigner, ...]
    sorted: bool = True

    def __post_init__(self) -> None:
        n = len(self.cosigners)
        if self.script_type not in SCRIPT_TYPES:
            raise Unsupported("unsupported_descriptor", f"script type {self.script_type!r} is unsupported")
        if self.threshold < 1:
            raise InvalidInput("threshold_zero", "the threshold m must be at least 1")
        if n > MAX_COSIGNERS:
            raise InvalidInput(
                "too_many_cosigners", f"{n} cosigners; at most {MAX_COSIGNERS} are allowed"
            )
        if self.threshold > n:
            raise InvalidInput(
                "threshold_above_n", f"threshold {self.threshold} is more than the {n} cosigners"
            )
        if n < 2:
            raise Unsupported(
                "unsupported_descriptor", "single-key wallets are unsupported; use 2 or more cosigners"
            )
        if len({c.is_test for c in self.cosigners}) > 1:
            raise InvalidInput("wrong_network", "the cosigners mix mainnet (xpub) and test (tpub) keys")
        _check_duplicates(self.cosigners)

    # -- text ---------------------------------------------------------------

    @classmethod
    def from_string(cls, text: str) -> "MultisigDescriptor":
        """Parse descriptor text. A ``#checksum`` must be right when present.

        A receive-only descriptor (``/0/*``) implies change at ``/1/*``, as
        every BIP-48 wallet does.
        """
        desc, branch = parse(text)
        if branch == CHANGE:
            raise InvalidInput(
                "bad_derivation",
                "this is a change descriptor (/1/*); give the receive one (/0/*) "
                "or the multipath form (/<0;1>/*)",
            )
        return desc

    def to_string(self, branch: int | None = None, checksummed: bool = True) -> str:
        """Multipath text by default; ``branch`` 0 or 1 for one branch."""
        suffix = "/<0;1>/*" if branch is None else f"/{branch}/*"
        keys = ",".join(c.key_expression() + suffix for c in self.cosigners)
        body = f"{'sortedmulti' if self.sorted else 'multi'}({self.threshold},{keys})"
        body = f"wsh({body})" if self.script_type == "wsh" else f"sh(wsh({body}))"
        return checksum.add(body) if checksummed else body

    # -- facts ----------------------------------------------------------------

    @property
    def n(self) -> int:
        return len(self.cosigners)

    @property
    def is_test(self) -> bool:
        return self.cosigners[0].is_test

    @property
    def policy_id(self) -> str:
        """Same id for the same wallet however its keys are ordered or labelled."""
        ids = [c.identity for c in self.cosigners]
        if self.sorted:
            ids.sort()
        h = hashlib.sha256(f"{self.script_type}|{self.threshold}|{int(self.sorted)}".encode())
        for pub, chain in ids:
            h.update(pub + chain)
        return h.hexdigest()[:16]

    def check_network(self, network: str) -> None:
        if self.is_test != networks.is_test(network):
            raise InvalidInput(
                "wrong_network",
                f"this wallet's keys are {'tpub (test networks)' if self.is_test else 'xpub (bitcoin)'}"
                f" but the network is {network}",
            )

    # -- derivation -----------------------------------------------------------

    def witness_script(self, branch: int, index: int) -> Script:
        _check_index(branch, index)
        keys = [c.child_pubkey(branch, index) for c in self.cosigners]
        return Script(multisig_script(self.threshold, sorted(keys) if self.sorted else keys))  # BIP-67

    def script_pubkey(self, branch: int, index: int) -> Script:
        ws = p2wsh(self.witness_script(branch, index))
        return ws if self.script_type == "wsh" else p2sh(ws)

    def address(self, branch: int, index: int, network: str) -> str:
        self.check_network(network)
        return self.script_pubkey(branch, index).address(networks.params(network))


def multisig_script(threshold: int, pubkeys: list[bytes]) -> bytes:
    """OP_m <33-byte key>... OP_n OP_CHECKMULTISIG, keys in the order given."""
    return (bytes([0x50 + threshold]) + b"".join(b"\x21" + k for k in pubkeys)
            + bytes([0x50 + len(pubkeys), 0xAE]))


def parse(text: str, suffixes=None) -> tuple[MultisigDescriptor, int | None]:
    """Parse one descriptor; also return its branch (None for multipath).

    ``suffixes`` maps a key's derivation suffix to what the caller calls its
    branch (a format where keys may end differently passes its own); BIP-393
    annotations are checked and dropped (see ``parse_annotated``).
    """
    desc, branch, _ = parse_annotated(text, suffixes)
    return desc, branch


def parse_annotated(text: str, suffixes=None) -> tuple[MultisigDescriptor, object, dict[str, int]]:
    """``parse`` that also returns the BIP-393 annotations (``{"bh": 800000}``)."""
    _refuse_private_keys(text)
    body, _ = checksum.split(text.strip())  # the checksum covers the annotations
    body, annotations = split_annotations(body)
    if body.count("(") != body.count(")") or re.search(r"\s", body):
        raise InvalidInput("malformed_descriptor", "unbalanced parentheses or spaces in the descriptor")
    script_type, inner = _unwrap(body)
    sorted_, args = _multi_args(inner)
    threshold = _threshold(args[0])
    parsed = [_key(arg, suffixes or SUFFIX_BRANCHES) for arg in args[1:]]
    branches = {branch for _, branch in parsed}
    if len(branches) != 1:
        raise InvalidInput("bad_derivation", "all keys must use the same derivation suffix")
    cosigners = tuple(c for c, _ in parsed)
    return MultisigDescriptor(script_type, threshold, cosigners, sorted_), branches.pop(), annotations


def split_annotations(body: str) -> tuple[str, dict[str, int]]:
    """BIP-393: ``SCRIPT?bh=800000&gl=30`` -> (SCRIPT, {"bh": 800000, "gl": 30}).

    Unknown keys are kept in the dict for the caller to ignore, as the BIP
    says; a pair that breaks the BIP's grammar is refused.
    """
    script, sep, rest = body.partition("?")
    if not sep:
        return body, {}
    out: dict[str, int] = {}
    for pair in rest.split("&"):
        match = _ANNOTATION.match(pair)
        if not match or match.group(1) in out:
            raise InvalidInput(
                "malformed_descriptor",
                f"annotation {pair[:30]!r} is not a BIP-393 key=value pair (lowercase key, "
                "whole number without leading zeros, each key once)",
            )
        out[match.group(1)] = int(match.group(2))
    return script, out


def _refuse_private_keys(text: str) -> None:
    # Before any message can echo part of the text: never repeat a secret.
    for token in re.findall(r"[1-9A-HJ-NP-Za-km-z]{50,}", text):
        if is_private(token):
            raise InvalidInput(
                "private_key",
                "the descriptor holds a private key; never paste it anywhere. "
                "Huddle only takes public keys",
            )


def _unwrap(body: str) -> tuple[str, str]:
    if body.startswith("sh(wpkh("):  # nested segwit single-sig, not legacy P2SH
        raise Unsupported("unsupported_descriptor", "single-sig descriptors (sh(wpkh(...))) are unsupported; "
                          "Huddle supports wsh(sortedmulti(...)) and sh(wsh(sortedmulti(...)))")
    if body.startswith("sh(wsh(") and body.endswith("))"):
        return "sh-wsh", body[len("sh(wsh("):-2]
    if body.startswith("wsh(") and body.endswith(")"):
        return "wsh", body[len("wsh("):-1]
    head = body.split("(", 1)[0]
    if head in _UNSUPPORTED_HEADS and "(" in body:
        raise Unsupported(
            "unsupported_descriptor",
            f"{_UNSUPPORTED_HEADS[head]} ({head}(...)) are unsupported; Huddle supports "
            "wsh(sortedmulti(...)) and sh(wsh(sortedmulti(...)))",
        )
    raise InvalidInput("malformed_descriptor", f"not a descriptor Huddle can read: {_short(body)}")


def _multi_args(inner: str) -> tuple[bool, list[str]]:
    for name, sorted_ in (("sortedmulti(", True), ("multi(", False)):
        if inner.startswith(name) and inner.endswith(")"):
            args = inner[len(name):-1].split(",")
            if len(args) < 2 or "(" in inner[len(name):] or ")" in inner[len(name):-1] or "" in args:
                raise InvalidInput("malformed_descriptor", f"bad multisig arguments in {_short(inner)}")
            return sorted_, args
    if inner.startswith(("sortedmulti(", "multi(")):
        raise InvalidInput("malformed_descriptor", f"bad multisig expression {_short(inner)}")
    if inner.startswith(("multi_a(", "sortedmulti_a(")):
        raise Unsupported("unsupported_descriptor", "taproot multisig (multi_a) is unsupported")
    head = inner.split("(", 1)[0]
    if re.fullmatch(r"[a-z_:]+", head or "-") and "(" in inner:
        raise Unsupported(
            "unsupported_descriptor",
            f"miniscript policies ({head}(...)) are unsupported; use sortedmulti",
        )
    raise InvalidInput("malformed_descriptor", f"expected sortedmulti(...) inside, got {_short(inner)}")


def _threshold(text: str) -> int:
    if not text.isdigit() or len(text) > 2:
        raise InvalidInput("malformed_descriptor", f"threshold {text!r} is not a small whole number")
    if int(text) == 0:
        raise InvalidInput("threshold_zero", "the threshold m must be at least 1")
    return int(text)


def _key(text: str, suffixes: dict) -> tuple[Cosigner, object]:
    if re.fullmatch(r"(\[[^\]]*\])?([0-9a-fA-F]{66}|[0-9a-fA-F]{130})", text):
        raise Unsupported("unsupported_descriptor", "plain public keys are unsupported; use xpubs")
    if not text.startswith("["):
        raise InvalidInput(
            "missing_origin",
            f"key {_short(text)} has no [fingerprint/path] origin; signers need it to sign",
        )
    match = _KEY.match(text)
    if not match:
        raise InvalidInput("malformed_descriptor", f"cannot read key expression {_short(text)}")
    branch = _branch(match.group("suffix").replace("'", "h"), suffixes)
    origin = KeyOrigin.from_string(match.group("origin"))
    return Cosigner.from_parts(origin, match.group("xpub")), branch


def _branch(suffix: str, suffixes) -> object:
    if callable(suffixes):
        return suffixes(suffix)
    if suffix not in suffixes:
        raise InvalidInput(
            "bad_derivation",
            f"key derivation {suffix or '(none)'!r} is unsupported; use /<0;1>/* "
            "(receive /0/*, change /1/*)",
        )
    return suffixes[suffix]


def _check_duplicates(cosigners: tuple[Cosigner, ...]) -> None:
    # Same key in another dress (ypub vs xpub, other origin) is still the same
    # key: compare pubkey and chain code, never the string.
    seen: dict[tuple[bytes, bytes], int] = {}
    for i, cosigner in enumerate(cosigners):
        first = seen.setdefault(cosigner.identity, i)
        if first != i:
            raise InvalidInput(
                "duplicate_cosigner",
                f"cosigners {first + 1} and {i + 1} are the same key "
                f"({cosigner.fingerprint}); each cosigner needs its own key",
            )


def _check_index(branch: int, index: int) -> None:
    if branch not in (RECEIVE, CHANGE):
        raise InvalidInput("bad_index", f"branch must be 0 (receive) or 1 (change), not {branch}")
    if not 0 <= index < HARDENED:
        raise InvalidInput("bad_index", f"address index {index} is outside 0..2^31-1")
