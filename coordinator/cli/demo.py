"""``huddle demo``: a first look at Huddle with nothing to set up.

Until the signing server lands (a later issue), the demo walks through the
wallet core on regtest in a throwaway data directory: import a 2-of-3 wallet
file, check it, hand out addresses and export it for devices.
"""

from __future__ import annotations

import tempfile
from importlib import resources

import click

from .. import config
from ..store import open_database, wallets
from ..wallet import addresses
from .render import print_descriptor


@click.command("demo")
def command() -> None:
    """Walk through a 2-of-3 wallet on regtest, in a temporary data dir."""
    example = resources.files("coordinator.examples").joinpath("demo-2of3.txt").read_text("utf-8")
    with tempfile.TemporaryDirectory(prefix="huddle-demo-") as data_dir:
        cfg = config.load({"HUDDLE_DATA": data_dir, "HUDDLE_NETWORK": "regtest"})
        db = open_database(cfg.database)
        click.secho("Huddle demo (regtest, throwaway data dir; public test keys)", bold=True)
        click.echo("\n1. Import a Coldcard multisig setup file:\n")
        click.echo("   " + example.replace("\n", "\n   ").rstrip())
        wallet = wallets.import_text(db, example, cfg.network)
        click.echo("\n2. What Huddle understood (check it against every device):\n")
        print_descriptor(wallet.descriptor)
        click.echo("\n3. Hand out fresh receive addresses (recorded, never handed out twice):\n")
        for _ in range(3):
            a = addresses.issue(db, wallet)
            click.echo(f"   receive/{a.index}  {a.address}")
        for step, fmt in ((4, "descriptor"), (5, "bsms")):
            click.echo(f"\n{step}. Export for other tools ({fmt}):\n")
            click.echo("   " + wallets.export_text(wallet, fmt).rstrip().replace("\n", "\n   "))
        db.close()
    click.echo("\nNext: `huddle wallet import YOUR_FILE` with HUDDLE_NETWORK set; see README.md.")
