"""``huddle descriptor``: check descriptor text before trusting money to it."""

from __future__ import annotations

import click

from . import context
from .io import emit_json, json_option, read_text
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


@group.command("key-from-qr")
@click.argument("source", default="-")
@click.option("--network", help="The wallet's network (default: the configured one, HUDDLE_NETWORK).")
@click.option("--script-type", type=click.Choice(["wsh", "sh-wsh"]), default="wsh", show_default=True)
@json_option
def key_from_qr(source: str, network: str | None, script_type: str, as_json: bool) -> None:
    """A QR-only device's multisig key from what it showed or wrote (docs/qr.md).

    SOURCE (a file, or - for stdin) holds the scanned UR or BBQr parts, one per
    line, or the exported file itself (Coldcard or Keystone xpub JSON). Prints
    [fingerprint/48h/coin'/account'/script']xpub for a setup ceremony slot.
    """
    from .. import networks
    from ..qr.account_export import read_export

    text = read_text(source)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    framed = bool(lines) and (lines[0][:3].lower() == "ur:" or lines[0][:2].upper() == "B$")
    network = networks.check(network or context.settings().network)
    cosigner = read_export(lines if framed else text, network, script_type)
    if as_json:
        emit_json({"key": cosigner.key_expression(), "fingerprint": cosigner.fingerprint,
                   "path": cosigner.origin.path_string, "xpub": cosigner.xpub, "network": network,
                   "script_type": script_type})
        return
    click.echo(cosigner.key_expression())
