"""Plain-text and JSON views of wallets and descriptors, for the CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # the CLI loads the core only when a command runs
    from ..wallet.addresses import Address
    from ..wallet.descriptor import MultisigDescriptor

SCRIPT_NAMES = {"wsh": "P2WSH", "sh-wsh": "P2SH-P2WSH"}
BRANCH_NAMES = {0: "receive", 1: "change"}


def descriptor_dict(desc: MultisigDescriptor) -> dict:
    return {
        "descriptor": desc.to_string(),
        "checksum": desc.to_string().rsplit("#", 1)[1],
        "threshold": desc.threshold,
        "n": desc.n,
        "script_type": SCRIPT_NAMES[desc.script_type],
        "sorted": desc.sorted,
        "keys": "tpub (test networks)" if desc.is_test else "xpub (bitcoin)",
        "policy_id": desc.policy_id,
        "cosigners": [
            {"fingerprint": c.fingerprint, "path": c.origin.path_string, "xpub": c.xpub,
             "label": c.label, "device": c.device}
            for c in desc.cosigners
        ],
    }


def print_descriptor(desc: MultisigDescriptor) -> None:
    info = descriptor_dict(desc)
    click.echo(f"Descriptor: {info['descriptor']}")
    click.echo(f"Policy:     {desc.threshold} of {desc.n}, {info['script_type']}, "
               f"{'sortedmulti' if desc.sorted else 'multi (key order matters)'}")
    click.echo(f"Keys:       {info['keys']}")
    click.echo("Cosigners:")
    for i, c in enumerate(desc.cosigners, 1):
        extra = " ".join(x for x in (c.label, f"({c.device})" if c.device else "") if x)
        click.echo(f"  {i:>2}. {c.fingerprint}  {c.origin.path_string:<18} {c.xpub}  {extra}".rstrip())


def print_addresses(addresses: list[Address], network: str) -> None:
    for a in addresses:
        flags = ",".join(f for f, on in (("issued", a.issued), ("used", a.used)) if on)
        click.echo(f"  {BRANCH_NAMES[a.branch]} {a.index:>5}  {a.address}  {flags}".rstrip())
