"""Plain descriptor text.

Reads one multipath descriptor (``/<0;1>/*``), one receive descriptor
(``/0/*``, change implied at ``/1/*``), or two lines, a receive and a change
descriptor that differ only in the branch (Bitcoin Core's listdescriptors,
Coldcard, Sparrow). ``#`` comment lines and blank lines are ignored.
Writes one multipath line with its BIP-380 checksum.
"""

from __future__ import annotations

from ...errors import InvalidInput
from ..descriptor import CHANGE, RECEIVE, MultisigDescriptor
from ..descriptor import parse as parse_descriptor
from .base import WalletFile, content_lines, located, malformed


def parse(text: str) -> WalletFile:
    lines = content_lines(text)
    if not lines:
        raise malformed("the file holds no descriptor")
    if len(lines) > 2:
        raise malformed(
            f"line {lines[2][0]}: expected one descriptor, or a receive and a change "
            f"descriptor, but the file has {len(lines)} lines"
        )
    parsed = []
    for number, line in lines:
        with located(f"line {number}"):
            parsed.append(parse_descriptor(line))
    if len(parsed) == 1:
        return WalletFile("", _single(lines[0][0], *parsed[0]), None)
    return WalletFile("", _pair(lines, parsed), None)


def _single(number: int, desc: MultisigDescriptor, branch: int | None) -> MultisigDescriptor:
    if branch == CHANGE:
        raise InvalidInput(
            "bad_derivation",
            f"line {number}: this is a change descriptor (/1/*) alone; add the receive "
            "one (/0/*) or use the multipath form (/<0;1>/*)",
        )
    return desc


def _pair(
    lines: list[tuple[int, str]], parsed: list[tuple[MultisigDescriptor, int | None]]
) -> MultisigDescriptor:
    (first, first_branch), (second, second_branch) = parsed
    if {first_branch, second_branch} != {RECEIVE, CHANGE}:
        raise malformed(
            f"line {lines[1][0]}: two descriptors must be a receive (/0/*) and a change "
            "(/1/*) descriptor of the same wallet"
        )
    if first != second:
        raise malformed(
            f"line {lines[1][0]}: the receive and change descriptors differ in more than "
            "the /0/* and /1/* branch; they describe different wallets"
        )
    return first


def serialize(wallet: WalletFile, network: str) -> str:
    """One line: the multipath descriptor with checksum."""
    return wallet.descriptor.to_string() + "\n"
