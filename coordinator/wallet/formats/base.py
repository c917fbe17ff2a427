"""What every wallet-file format shares: the parsed result, and small helpers
for line-based and JSON files that give errors a location ("line 7: ...").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ...errors import InvalidInput, Unsupported
from ..descriptor import MultisigDescriptor
from ..keys import Cosigner


@dataclass(frozen=True)
class WalletFile:
    """A wallet as a file describes it."""

    name: str  # "" when the file has none
    descriptor: MultisigDescriptor
    network: str | None  # what the file says (or implies), None if it says nothing
    birth_height: int | None = None  # where a rescan may start (BIP-393 bh, Specter blockheight)


def birth_height(annotations: dict[str, int]) -> int | None:
    """BIP-393's ``bh``; every other annotation is ignored, as the BIP says."""
    return annotations.get("bh")


def malformed(message: str) -> InvalidInput:
    return InvalidInput("malformed_wallet_file", message)


@contextmanager
def located(where: str) -> Iterator[None]:
    """Prefix any InvalidInput raised inside with where it happened."""
    try:
        yield
    except InvalidInput as exc:
        raise type(exc)(exc.code, f"{where}: {exc.message}", **exc.details) from None


def content_lines(text: str) -> list[tuple[int, str]]:
    """(line number, stripped line) for lines that are neither blank nor ``#`` comments."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            out.append((number, line))
    return out


def load_json(text: str) -> dict:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise malformed(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (ValueError, RecursionError):
        raise malformed("not valid JSON: the text is nested too deeply or holds a huge number") from None
    if not isinstance(data, dict):
        raise malformed("the JSON file must hold an object {...} at the top")
    return data


def field(obj: dict, key: str, kind: type | tuple[type, ...], where: str, required: bool = True):
    """``obj[key]`` checked to be of ``kind``; None when absent and not required."""
    value = obj.get(key)
    if value is None:
        if required:
            raise malformed(f"{where}: the field {key!r} is missing")
        return None
    # bool is an int to Python, never to a wallet file.
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
        raise malformed(f"{where}: the field {key!r} has the wrong type ({type(value).__name__})")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


# The names wallet files give the two script types (Coldcard, Caravan, Sparrow).
_SCRIPT_TYPES = {"P2WSH": "wsh", "P2SH-P2WSH": "sh-wsh", "P2SH_P2WSH": "sh-wsh", "P2WSH-P2SH": "sh-wsh"}
SCRIPT_TYPE_NAMES = {"wsh": "P2WSH", "sh-wsh": "P2SH-P2WSH"}


def script_type_named(value: str, field_name: str) -> str:
    """'P2WSH' -> 'wsh', 'P2SH-P2WSH' -> 'sh-wsh'; legacy P2SH is unsupported."""
    key = value.strip().upper()
    if key == "P2SH":
        raise Unsupported("unsupported_descriptor", f"{field_name} P2SH (legacy multisig) is unsupported; "
                          "Huddle supports P2WSH and P2SH-P2WSH")
    if key not in _SCRIPT_TYPES:
        raise malformed(f"{field_name} {value[:20]!r} is unknown; expected P2WSH or P2SH-P2WSH")
    return _SCRIPT_TYPES[key]


def require_sorted(desc: MultisigDescriptor, fmt: str) -> None:
    """Coldcard and Caravan only know BIP-67 sorted multisig."""
    if not desc.sorted:
        raise Unsupported(
            "unsupported_descriptor",
            f"the {fmt} format only holds sortedmulti wallets; export this multi() wallet "
            "as a descriptor or BSMS file instead",
        )


def default_name(desc: MultisigDescriptor) -> str:
    """The name Coldcard itself gives a wallet file without one."""
    return f"{desc.threshold}-of-{desc.n}"


def relabel(desc: MultisigDescriptor, people: list[tuple[str, str]]) -> MultisigDescriptor:
    """The same wallet with each cosigner's (label, device) replaced, in key order."""
    cosigners = tuple(
        Cosigner.from_parts(c.origin, c.xpub, label=label, device=device)
        for c, (label, device) in zip(desc.cosigners, people, strict=True)
    )
    return MultisigDescriptor(desc.script_type, desc.threshold, cosigners, desc.sorted)


def apostrophe_path(cosigner: Cosigner) -> str:
    """``m/48'/1'/0'/2'``: the notation Coldcard and Caravan write."""
    return cosigner.origin.path_string.replace("h", "'")
