"""``huddle demo``: a whole group spend on the built-in regtest chain."""

from __future__ import annotations

import click


@click.command("demo")
def command() -> None:
    """Run a 2-of-3 spend end to end on a throwaway regtest chain.

    Imports a wallet file, receives coins from the sandbox faucet, syncs,
    builds and checks the spend, collects two demo signers' signatures,
    finalizes, broadcasts and syncs again. Nothing is left behind.
    """
    from .. import demo

    click.secho("Huddle demo: regtest sandbox, throwaway data dir, public test keys", bold=True)
    for number, (title, lines) in enumerate(demo.run(), 1):
        click.echo(f"\n{number}. {title}")
        for line in lines:
            click.echo(f"   {line}")
    click.echo("\nNext: `huddle sandbox serve` for a chain that stays up, then "
               "`huddle wallet import YOUR_FILE`; see README.md.")
