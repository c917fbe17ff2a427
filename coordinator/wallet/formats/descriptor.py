"""Plain descriptor text.

Reads one multipath descriptor (``/<0;1>/*``), one receive descriptor
(``/0/*``, change implied at ``/1/*``), two lines, a receive and a change
descriptor (Bitcoin Core's listdescriptors, Coldcard), or three, a multipath,
a receive and a change descriptor (Sparrow's "Output Descriptor" export). All
the lines must describe one wallet. A descriptor may span several lines, as in
Coldcard's "pretty" export; ``#`` comment lines and blank lines are ignored.
BIP-393 annotations (``?bh=800000``) are read: the birth height is kept as a
sync hint, the rest ignored. Writes one multipath line with its BIP-380
checksum.
"""

from __future__ import annotations

from ...errors import InvalidInput
from ..descriptor import CHANGE, RECEIVE, MultisigDescriptor, parse_annotated
from .base import WalletFile, birth_height, located, malformed

_NAMES = {None: "multipath (/<0;1>/*)", RECEIVE: "receive (/0/*)", CHANGE: "change (/1/*)"}


def descriptors(text: str) -> list[tuple[int, str]]:
    """(first line number, descriptor text) for each descriptor in the file.

    A line that leaves a parenthesis open continues on the next one, so an
    indented multi-line descriptor reads as one (Coldcard's pretty export).
    """
    out: list[tuple[int, str]] = []
    open_at, parts, depth = 0, [], 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not parts:
            open_at = number
        parts.append(line)
        depth += line.count("(") - line.count(")")
        if depth <= 0:
            out.append((open_at, "".join(parts)))
            parts, depth = [], 0
    if parts:
        out.append((open_at, "".join(parts)))
    return out


def parse(text: str) -> WalletFile:
    found = descriptors(text)
    if not found:
        raise malformed("the file holds no descriptor")
    if len(found) > 3:
        raise malformed(
            f"line {found[3][0]}: expected one descriptor, a receive and a change descriptor, "
            f"or a multipath, a receive and a change descriptor, but the file has {len(found)}"
        )
    parsed = []
    for number, line in found:
        with located(f"line {number}"):
            desc, branch, annotations = parse_annotated(line)
        parsed.append((number, desc, branch, birth_height(annotations)))
    heights = [height for *_, height in parsed if height is not None]
    birth = min(heights) if heights else None  # the earliest is the safe place to start
    if len(parsed) == 1:
        return WalletFile("", _single(*parsed[0][:3]), None, birth)
    return WalletFile("", _agreeing(parsed), None, birth)


def _single(number: int, desc: MultisigDescriptor, branch: int | None) -> MultisigDescriptor:
    if branch == CHANGE:
        raise InvalidInput(
            "bad_derivation",
            f"line {number}: this is a change descriptor (/1/*) alone; add the receive "
            "one (/0/*) or use the multipath form (/<0;1>/*)",
        )
    return desc


def _agreeing(parsed: list[tuple]) -> MultisigDescriptor:
    """The one wallet that two (receive, change) or three (multipath, receive,
    change) descriptor lines describe; lines that disagree are refused."""
    branches = [branch for _, _, branch, _ in parsed]
    wanted = [RECEIVE, CHANGE] if len(parsed) == 2 else [None, RECEIVE, CHANGE]
    if sorted(branches, key=str) != sorted(wanted, key=str):
        kinds = ", ".join(_NAMES[b] for b in branches)
        raise malformed(
            f"line {parsed[-1][0]}: {len(parsed)} descriptors must be "
            f"{' and '.join(_NAMES[b] for b in wanted)} descriptors of one wallet, not {kinds}"
        )
    first_number, first, first_branch, _ = parsed[0]
    for number, desc, branch, _ in parsed[1:]:
        if desc != first:
            raise InvalidInput(
                "descriptors_disagree",
                f"line {number}: the {_NAMES[branch]} descriptor is not the same wallet as the "
                f"{_NAMES[first_branch]} one on line {first_number} (they differ in more than "
                "the branch); the file describes two wallets",
            )
    return first


def serialize(wallet: WalletFile, network: str) -> str:
    """One line: the multipath descriptor with checksum."""
    return wallet.descriptor.to_string() + "\n"
