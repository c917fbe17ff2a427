"""Coldcard's multisig setup file, also read by Passport, Keystone and Jade,
and written by Sparrow, Specter and Nunchuk.

    # comment
    Name: Team Vault
    Policy: 2 of 3
    Format: P2WSH                      (P2SH-P2WSH, P2WSH-P2SH; none means P2SH)
    Sorted: False                      (Jade only: multi(), key order matters)
    Derivation: m/48'/0'/0'/2'         (applies to the key lines after it)
    0F056943: xpub6...                 (master fingerprint: extended key)

Parsing follows the firmware's ``MultisigWallet.from_file`` with two
differences: unknown fields are errors here, not silently skipped, because a
typo ("Polcy:") would otherwise change the wallet; and Jade's ``Sorted:
False`` is read as multi(), where Coldcard ignores it and registers a
different (sorted) wallet. Writing follows its
``render_export`` layout.
"""

from __future__ import annotations

import re

from ...errors import InvalidInput, Unsupported
from ..descriptor import MultisigDescriptor
from ..keys import Cosigner, parse_path
from .base import (
    SCRIPT_TYPE_NAMES,
    WalletFile,
    apostrophe_path,
    default_name,
    located,
    malformed,
    require_sorted,
    script_type_named,
)

MAX_NAME = 20  # the firmware rejects longer names ("name must be ascii, 1..20 long")
_POLICY = re.compile(r"^(\d{1,2})(?:\s*(?:of|/|,)\s*|\s+)(\d{1,2})$", re.IGNORECASE)
_XFP = re.compile(r"^[0-9a-fA-F]{8}$")
# BlueWallet writes a cosigner's own path as a comment before its key line
# (class/wallets/multisig-hd-wallet.ts); read as a comment, the key would get
# the file's Derivation instead, possibly a different account at the same depth.
_OWN_DERIVATION = re.compile(r"^\s*#\s*derivation:\s*(\S+)\s*$", re.IGNORECASE)


class _Reader:
    """The fields of one file, collected line by line."""

    def __init__(self) -> None:
        self.name: str | None = None
        self.policy: tuple[int, int] | None = None
        self.script_type: str | None = None
        self.derivation: str | None = None
        self.sorted: bool | None = None
        self.next_derivation: str | None = None  # BlueWallet's per-key "# derivation:" comment
        self.cosigners: list[Cosigner] = []

    def line(self, label: str, value: str) -> None:
        key = label.lower()
        if key == "name":
            self.name = self._once(self.name, label, value)
        elif key == "policy":
            self.policy = self._once(self.policy, label, _policy(value))
        elif key == "format":
            self.script_type = self._once(self.script_type, label, _format(value))
        elif key == "sorted":  # Jade writes "Sorted: False" for multi() (Coldcard ignores it)
            self.sorted = self._once(self.sorted, label, _sorted(value))
        elif key == "blindingkey":
            raise Unsupported("unsupported_descriptor", "a BlindingKey line means a Liquid wallet (Jade); "
                              "Huddle holds bitcoin wallets only")
        elif key == "derivation":
            parse_path(value)  # raises malformed_origin on a bad path
            self.derivation = value
        elif _XFP.match(label):
            if not value:
                raise malformed(f"key line {label!r} has no extended key after the colon; "
                                "write 'FINGERPRINT: xpub...' on one line")
            self.cosigners.append(self._key(label, value))
        else:
            raise malformed(f"unknown field {label!r}")

    @staticmethod
    def _once(current, label: str, value):
        if current is not None:
            raise malformed(f"a second {label!r} line")
        return value

    def _key(self, xfp: str, xpub: str) -> Cosigner:
        if self.next_derivation is not None:
            path, self.next_derivation = self.next_derivation, None
            return Cosigner.create(xpub, xfp, path)
        if self.derivation is None:
            raise InvalidInput(
                "missing_origin",
                f"key {xfp} comes before any 'Derivation:' line, so its path is unknown",
            )
        return Cosigner.create(xpub, xfp, self.derivation)


def _policy(value: str) -> tuple[int, int]:
    match = _POLICY.match(value)
    if not match:
        raise malformed(f"policy {value!r} is not of the form 'M of N'")
    return int(match.group(1)), int(match.group(2))


def _sorted(value: str) -> bool:
    """Jade's flag: ``False`` is multi() (key order matters), ``True`` sortedmulti()."""
    if value.lower() not in ("true", "false"):
        raise malformed(f"'Sorted: {value[:10]}' must be True or False")
    return value.lower() == "true"


def _format(value: str) -> str:
    return script_type_named(value, "Format")


def _strip_comment(line: str) -> str:
    """Coldcard's rule: ``#`` starts a comment unless a digit follows it ("Team #2")."""
    at = line.find("#")
    while at != -1:
        if not line[at + 1:at + 2].isdigit():
            return line[:at]
        at = line.find("#", at + 1)
    return line


def parse(text: str) -> WalletFile:
    reader = _Reader()
    for number, raw in enumerate(text.splitlines(), start=1):
        own = _OWN_DERIVATION.match(raw)
        if own:  # BlueWallet: "# derivation: m/..." for the next key only
            with located(f"line {number}"):
                parse_path(own.group(1))
            reader.next_derivation = own.group(1)
            continue
        line = _strip_comment(raw).strip()
        if not line:
            continue
        label, colon, value = line.partition(":")
        with located(f"line {number}"):
            if not colon:
                raise malformed(f"expected 'Field: value', got {line[:40]!r}")
            reader.line(label.strip(), value.strip())
    return WalletFile(reader.name or "", _descriptor(reader), None)


def _descriptor(reader: _Reader) -> MultisigDescriptor:
    if not reader.cosigners:
        raise malformed("the file has no key lines ('FINGERPRINT: xpub')")
    if reader.policy is None:
        raise malformed("the file has no 'Policy: M of N' line")
    if reader.script_type is None:
        raise Unsupported(
            "unsupported_descriptor",
            "the file has no 'Format:' line, which Coldcard reads as legacy P2SH (unsupported);"
            " add 'Format: P2WSH' or 'Format: P2SH-P2WSH' if that is what the wallet is",
        )
    m, n = reader.policy
    if n != len(reader.cosigners):
        raise malformed(f"'Policy: {m} of {n}' but the file lists {len(reader.cosigners)} keys")
    return MultisigDescriptor(reader.script_type, m, tuple(reader.cosigners), sorted=reader.sorted is not False)


def check_name(name: str) -> None:
    """Names Coldcard accepts unchanged: 1-20 printable ASCII characters.

    ``#`` is refused too (Coldcard may cut the name there as a comment), and
    so are leading or trailing spaces (Coldcard strips them). Truncating
    instead would register a different name on the device than in Huddle.
    """
    problem = None
    if len(name) > MAX_NAME:
        problem = f"is {len(name)} characters; Coldcard allows at most {MAX_NAME}"
    elif any(not " " <= ch <= "~" for ch in name):
        problem = "has characters other than printable ASCII, which Coldcard rejects"
    elif "#" in name:
        problem = "contains '#', which Coldcard may read as the start of a comment"
    elif name != name.strip():
        problem = "starts or ends with a space, which Coldcard would strip"
    if problem:
        raise InvalidInput(
            "bad_wallet_name",
            f"wallet name {name!r} {problem}; rename the wallet before exporting it for Coldcard",
        )


def serialize(wallet: WalletFile, network: str) -> str:
    """The file in the layout Coldcard itself exports (network is not written)."""
    desc = wallet.descriptor
    require_sorted(desc, "Coldcard")
    _check_unique_fingerprints(desc)
    name = wallet.name or default_name(desc)
    check_name(name)
    out = [
        "# Coldcard Multisig setup file (exported from Huddle)",
        "#",
        f"Name: {name}",
        f"Policy: {desc.threshold} of {desc.n}",
        f"Format: {SCRIPT_TYPE_NAMES[desc.script_type]}",
    ]
    last = None
    for cosigner in desc.cosigners:
        path = apostrophe_path(cosigner)
        if path != last:
            out += ["", f"Derivation: {path}", ""]
            last = path
        out.append(f"{cosigner.fingerprint.upper()}: {cosigner.xpub}")
    return "\n".join(out) + "\n"


def _check_unique_fingerprints(desc: MultisigDescriptor) -> None:
    seen = set()
    for cosigner in desc.cosigners:
        if cosigner.fingerprint in seen:
            raise Unsupported(
                "unsupported_descriptor",
                f"two cosigners share the fingerprint {cosigner.fingerprint.upper()}; "
                "Coldcard cannot hold such a wallet",
            )
        seen.add(cosigner.fingerprint)
