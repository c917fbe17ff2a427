"""BIP-129 (Bitcoin Secure Multisig Setup) descriptor record, version 1.0.

    BSMS 1.0
    wsh(sortedmulti(2,[8188029f/48'/0'/0'/2']xpub.../**,...))#checksum
    /0/*,/1/*                       (or "No path restrictions", or blank)
    bc1q...                         (the first receive address)

Only the unencrypted descriptor record (round 2) is read; key records and
encrypted ``.dat`` files are not. What the keys may end in depends on line 3
(BIP-129: "If there are no template or restrictions, it must say No path
restrictions"):

- ``/0/*,/1/*``: a template, keys ending ``/**`` (or ``/<0;1>/*``);
- no restrictions (Sparrow, Nunchuk, BIP-129's own example): a template, a
  receive descriptor ``/0/*``, keys ending ``/*`` (Nunchuk's export, whose
  first address is at ``/0/0``), or keys fixed at one address ``/0/5`` or
  ``/1/3`` (the record then names that address).

The first address is always re-derived where the keys say it is, and a
record whose address sits elsewhere (the change branch, or a one-chain
``xpub/0``) is refused with where it does sit, before anyone sends money to it.
"""

from __future__ import annotations

import re

from embit.bip32 import HDKey
from embit.script import Script, address_to_scriptpubkey, p2sh, p2wsh

from ... import networks
from ...errors import InvalidInput, Unsupported
from .. import checksum
from ..descriptor import CHANGE, RECEIVE, MultisigDescriptor, multisig_script, parse_annotated
from ..keys import short
from .base import WalletFile, birth_height, located, malformed

VERSION = "BSMS 1.0"
PATHS = "/0/*,/1/*"
NO_PATHS = "no path restrictions"
_FIXED = re.compile(r"^/(\d{1,10})/(\d{1,10})$")
TEMPLATE, WILDCARD = "template", "wildcard"  # keys /** (or /<0;1>/*), keys /*


def _key_suffix(suffix: str) -> object:
    """What a key's suffix claims: TEMPLATE, WILDCARD, or the (branch, index) it is fixed at."""
    if suffix in ("/**", "/<0;1>/*"):
        return TEMPLATE
    if suffix == "/*":
        return WILDCARD
    if suffix in ("/0/*", "/1/*"):
        return (int(suffix[1]), None)
    fixed = _FIXED.match(suffix)
    if fixed and int(fixed.group(1)) in (0, 1) and int(fixed.group(2)) < 2**31:
        return (int(fixed.group(1)), int(fixed.group(2)))
    raise InvalidInput(
        "bad_derivation",
        f"keys ending {suffix or '(nothing)'!r} are not on a receive (/0/*) or change (/1/*) branch, "
        "the only ones Huddle wallets use",
    )


def parse(text: str) -> WalletFile:
    lines = [line.strip() for line in text.strip().splitlines()]
    if len(lines) not in (3, 4):
        raise malformed(
            f"a BSMS descriptor record has 4 lines (version, descriptor, path restrictions, "
            f"first address); this one has {len(lines)}"
        )
    if lines[0] != VERSION:
        raise malformed(f"line 1: {lines[0][:20]!r} is not a version Huddle reads; expected {VERSION!r}")
    with located("line 2"):
        desc, claim, annotations = parse_annotated(lines[1], _key_suffix)
    at = _first_address_path(claim, lines[2])
    if len(lines) == 3:
        raise malformed("line 4: the record has no first address, so it cannot be checked; "
                        "BIP-129 requires it")
    network = _verify_address(desc, claim, at, lines[3])
    return WalletFile("", desc, network, birth_height(annotations))


def _first_address_path(claim: object, paths: str) -> tuple[int, int]:
    """Where the record's first address must be, given its keys and line 3."""
    restricted = paths.replace(" ", "") == PATHS
    if not restricted and paths.lower() not in (NO_PATHS, ""):
        raise Unsupported(
            "unsupported_descriptor",
            f"line 3: path restrictions {paths[:40]!r} are unsupported; Huddle wallets use "
            f"{PATHS} (receive and change)",
        )
    if restricted and claim != TEMPLATE:
        raise malformed(
            "line 2: with path restrictions /0/*,/1/* the descriptor must be a template ending "
            "each key in /** (or /<0;1>/*)"
        )
    if claim == (CHANGE, None):
        raise InvalidInput("bad_derivation", "line 2: this is a change descriptor (/1/*) alone; "
                           "the record must describe the receive branch too")
    if isinstance(claim, tuple) and claim[1] is not None:
        return claim  # keys fixed at one address: that address
    return (RECEIVE, 0)  # template, /0/*, or Nunchuk's /* whose first address is /0/0


def _address_network(address: str) -> tuple[str, str | None]:
    """(network to derive with, network the address names or None if ambiguous).

    tb1, 2, m and n addresses are shared by testnet, testnet4 and signet
    (2, m and n by regtest too), so they name no single network.
    """
    low = address.lower()
    try:  # bech32 is case-insensitive (BIP-173); embit reads lower case only
        address_to_scriptpubkey(low if low.startswith(("bc1", "tb1", "bcrt1")) else address)
    except Exception:  # embit raises EmbitError, ValueError or others on junk
        raise malformed(f"line 4: {short(address)!r} is not a bitcoin address") from None
    if low.startswith("bcrt1"):
        return "regtest", "regtest"
    if low.startswith("bc1") or address[:1] in ("1", "3"):
        return "bitcoin", "bitcoin"
    if low.startswith("tb1") or address[:1] in ("2", "m", "n"):
        return "testnet", None
    raise malformed(f"line 4: {short(address)!r} is not a bitcoin address")


def address_at(desc: MultisigDescriptor, steps: tuple[int, ...], network: str) -> str:
    """The wallet's address with every key derived further by ``steps``."""
    desc.check_network(network)
    keys = [HDKey.from_string(c.xpub).derive(list(steps)).key.sec() for c in desc.cosigners]
    script = Script(multisig_script(desc.threshold, sorted(keys) if desc.sorted else keys))  # BIP-67
    spk = p2wsh(script) if desc.script_type == "wsh" else p2sh(p2wsh(script))
    return spk.address(networks.params(network))


def _same(a: str, b: str) -> bool:
    bech32 = a.lower().startswith(("bc1", "tb1", "bcrt1"))
    return a.lower() == b.lower() if bech32 else a == b


def _verify_address(desc: MultisigDescriptor, claim: object, at: tuple[int, int], address: str) -> str | None:
    derive_with, named = _address_network(address)
    with located("line 4"):
        derived = address_at(desc, at, derive_with)
    if _same(derived, address):
        return named
    where = f"/{at[0]}/{at[1]}"
    others = {(1 - at[0], at[1]): f"/{1 - at[0]}/{at[1]}", (at[0],): f"/{at[0]} (one chain, no branch)"}
    if claim == WILDCARD:
        others[(0,)] = "/0 of the keys' own /* chain"
    for steps, name in others.items():
        if _same(address_at(desc, steps, derive_with), address):
            raise InvalidInput(
                "address_mismatch",
                f"line 4: the record's first address {short(address)} is the wallet's address at "
                f"{name}, not at {where} where its keys put the first address; the record "
                "contradicts itself, so do not use it",
            )
    raise InvalidInput(
        "address_mismatch",
        f"line 4: the record's first address {short(address)} is not the wallet's "
        f"address at {where} ({short(derived)}); do not use this file",
    )


def serialize(wallet: WalletFile, network: str) -> str:
    """The record for ``network``; the name is not part of BSMS."""
    desc = wallet.descriptor
    template = desc.to_string(checksummed=False).replace("/<0;1>/*", "/**")
    lines = [VERSION, checksum.add(template), PATHS, desc.address(RECEIVE, 0, network)]
    return "\n".join(lines) + "\n"
