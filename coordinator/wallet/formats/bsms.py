"""BIP-129 (Bitcoin Secure Multisig Setup) descriptor record, version 1.0.

    BSMS 1.0
    wsh(sortedmulti(2,[8188029f/48'/0'/0'/2']xpub.../**,...))#checksum
    /0/*,/1/*
    bc1q...                         (the first receive address)

Only the unencrypted descriptor record (round 2) is read; key records and
encrypted ``.dat`` files are not. The descriptor must be a template with
``/**`` (or ``/<0;1>/*``) and the path restrictions must be ``/0/*,/1/*``:
receive and change, the only layout Huddle's wallets use. The first address
is always re-derived and compared, so a record whose keys were swapped is
caught before anyone sends money to it.
"""

from __future__ import annotations

from ...errors import InvalidInput, Unsupported
from .. import checksum
from ..descriptor import RECEIVE, MultisigDescriptor
from ..descriptor import parse as parse_descriptor
from ..keys import short
from .base import WalletFile, located, malformed

VERSION = "BSMS 1.0"
PATHS = "/0/*,/1/*"


def parse(text: str) -> WalletFile:
    lines = [line.strip() for line in text.strip().splitlines()]
    if len(lines) != 4:
        raise malformed(
            f"a BSMS descriptor record has 4 lines (version, descriptor, path restrictions, "
            f"first address); this one has {len(lines)}"
        )
    version, desc_text, paths, address = lines
    if version != VERSION:
        raise malformed(f"line 1: {version[:20]!r} is not a version Huddle reads; expected {VERSION!r}")
    desc = _descriptor(desc_text)
    if paths.replace(" ", "") != PATHS:
        raise Unsupported(
            "unsupported_descriptor",
            f"line 3: path restrictions {paths[:40]!r} are unsupported; Huddle wallets use "
            f"{PATHS} (receive and change)",
        )
    return WalletFile("", desc, _verify_address(desc, address))


def _descriptor(text: str) -> MultisigDescriptor:
    with located("line 2"):
        desc, branch = parse_descriptor(text)
    if branch is not None:
        raise malformed(
            "line 2: the descriptor must be a template ending each key in /** "
            f"(or /<0;1>/*), not /{branch}/*"
        )
    return desc


def _address_network(address: str) -> tuple[str, str | None]:
    """(network to derive with, network the address names or None if ambiguous).

    tb1, 2, m and n addresses are shared by testnet, testnet4 and signet
    (2, m and n by regtest too), so they name no single network.
    """
    low = address.lower()
    if low.startswith("bcrt1"):
        return "regtest", "regtest"
    if low.startswith("bc1") or address[:1] in ("1", "3"):
        return "bitcoin", "bitcoin"
    if low.startswith("tb1") or address[:1] in ("2", "m", "n"):
        return "testnet", None
    raise malformed(f"line 4: {short(address)!r} is not a bitcoin address")


def _verify_address(desc: MultisigDescriptor, address: str) -> str | None:
    derive_with, named = _address_network(address)
    with located("line 4"):
        derived = desc.address(RECEIVE, 0, derive_with)
    bech32 = derived.lower().startswith(("bc1", "tb1", "bcrt1"))
    same = derived == address.lower() if bech32 else derived == address
    if not same:
        raise InvalidInput(
            "address_mismatch",
            f"line 4: the record's first address {short(address)} is not the wallet's "
            f"first receive address {short(derived)}; do not use this file",
        )
    return named


def serialize(wallet: WalletFile, network: str) -> str:
    """The record for ``network``; the name is not part of BSMS."""
    desc = wallet.descriptor
    template = desc.to_string(checksummed=False).replace("/<0;1>/*", "/**")
    lines = [VERSION, checksum.add(template), PATHS, desc.address(RECEIVE, 0, network)]
    return "\n".join(lines) + "\n"
