"""``huddle demo``: the whole of Huddle on loopback, with demo signers; ``--cli``: the
command-line walkthrough of a 2-of-3 spend."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("demo")
@click.option("--cli", "walkthrough", is_flag=True,
              help="Instead: walk through a 2-of-3 spend at the command line, then exit.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535),
              help="The server's port on loopback (open http://localhost:PORT).")
@click.option("--sandbox-port", default=0, show_default=True, type=click.IntRange(0, 65535),
              help="The regtest sandbox's port on loopback (0: any free port; its URL is printed).")
@click.option("--block-interval", default=10.0, show_default=True, type=click.FloatRange(0, 3600),
              help="Seconds between sandbox blocks (0: mine only on demand).")
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path),
              help="Keep the demo's data in this new directory instead of removing it on exit.")
@click.option("--agent", "agent", envvar="HUDDLE_DEMO_AGENT", type=click.Path(dir_okay=False, path_type=Path),
              help="The huddle command of a separate install with the signer agent's libraries "
                   "(requirements/agent.lock), as on a keyholder's machine. Default: this install.")
def command(walkthrough: bool, port: int, sandbox_port: int, block_interval: float, keep: Path | None,
            agent: Path | None) -> None:
    """Start the regtest sandbox, the server and three members' demo signers, and print the URL.

    A 2-of-3 wallet is set up through the real setup ceremony by three members'
    agents (DEMO: keys are not secret), funded from the sandbox, with a pending
    proposal. Ctrl-C stops everything and removes the throwaway data directory.
    """
    if walkthrough:
        return _walkthrough()
    from ..demo import live

    live.run(live.Options(port, sandbox_port, block_interval, keep, agent), lambda line: click.echo(line))


def _walkthrough() -> None:
    from .. import demo

    click.secho("Huddle demo: regtest sandbox, throwaway data dir, public test keys", bold=True)
    for number, (title, lines) in enumerate(demo.run(), 1):
        click.echo(f"\n{number}. {title}")
        for line in lines:
            click.echo(f"   {line}")
    click.echo("\nNext: `huddle sandbox serve` for a chain that stays up, then "
               "`huddle wallet import YOUR_FILE`; see README.md.")
