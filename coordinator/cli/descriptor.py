"""``huddle descriptor``: check descriptor text before trusting money to it."""

from __future__ import annotations

import click

from .io import emit_json, json_option
from .render import descriptor_dict, print_addresses, print_descriptor


@click.group("descriptor")
def group() -> None:
    """Work with output descriptors."""


@group.command("check")
@click.argument("descriptor")
@click.option("--network", help="Network for the addresses (default: bitcoin for xpub, testnet for tpub).")
@click.option("--count", default=5, show_default=True, type=click.IntRange(1, 1000),
              help="How many receive addresses to show.")
@json_option
def check(descriptor: str, network: str | None, count: int, as_json: bool) -> None:
    """Validate DESCRIPTOR (checksum required if present) and show what it is.

    Prints the normalized descriptor with its checksum, M-of-N, the cosigners
    and the first receive addresses. Compare those addresses with each
    signer's device screen.
    """
    from .. import networks
    from ..wallet import addresses
    from ..wallet.descriptor import RECEIVE, MultisigDescriptor

    desc = MultisigDescriptor.from_string(descriptor)
    network = networks.check(network) if network else ("testnet" if desc.is_test else "bitcoin")
    desc.check_network(network)
    first = addresses.derive(desc, network, RECEIVE, 0, count)
    if as_json:
        emit_json({**descriptor_dict(desc), "network": network,
                   "receive_addresses": [a.address for a in first]})
        return
    print_descriptor(desc)
    click.echo(f"First receive addresses ({network}):")
    print_addresses(first, network)
