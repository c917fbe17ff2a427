"""Commands that talk to the chain: ``huddle wallet sync``, ``huddle tx
broadcast`` and ``huddle sandbox serve`` (the regtest stand-in for a node)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import click

from ..errors import InvalidInput
from . import context
from .io import emit_json, json_option, read_payload

MAX_TX_BYTES = 4_000_000  # a block's worth of weight; anything larger is not a transaction


@click.command("sync")
@click.argument("name")
@json_option
def sync(name: str, as_json: bool) -> None:
    """Sync wallet NAME from the chain backend (HUDDLE_CHAIN): balance, coins, history."""
    from ..chain.sync import sync_wallet
    from ..psbt.summary import format_btc
    from ..store import wallets

    cfg, db = context.database()
    result = sync_wallet(db, wallets.get(db, name), context.backend(cfg))
    b = result.balance
    if as_json:
        emit_json({"tip_height": result.tip_height, "confirmed": b.confirmed, "unconfirmed": b.unconfirmed,
                   "immature": b.immature, "utxos": len(result.utxos), "transactions": len(result.history),
                   "events": [e.to_dict() for e in result.events]})
        return
    click.echo(f"Synced {name!r} to block {result.tip_height}.")
    click.echo(f"Confirmed {format_btc(b.confirmed)}, unconfirmed {format_btc(b.unconfirmed)}"
               f" in {len(result.utxos)} coin(s); {len(result.history)} transaction(s).")
    for conflict in result.conflicts:
        click.echo(f"Warning: {conflict.to_dict()}", err=True)


@click.group("tx")
def tx_group() -> None:
    """Final transactions."""


@tx_group.command("broadcast")
@click.argument("file")
@json_option
def tx_broadcast(file: str, as_json: bool) -> None:
    """Broadcast the raw transaction in FILE (hex or binary; '-' reads stdin).

    The transaction is saved as 'broadcasting' before it is sent, so a crash or
    an outage never loses it; running the command again never sends it twice.
    """
    from ..chain.broadcast import broadcast, resume_pending

    cfg, db = context.database()
    data = read_payload(file, 2 * MAX_TX_BYTES)
    raw = _raw_tx(data)
    backend = context.backend(cfg)
    resume_pending(db, backend)
    result = broadcast(db, backend, raw)
    if as_json:
        emit_json({"txid": result.txid, "wtxid": result.wtxid, "state": result.state,
                   "already_known": result.already_known})
        return
    if result.state == "sent":
        click.echo(result.txid)
    else:
        click.echo(f"{result.txid}: outcome unknown ({result.error}); run the command again later", err=True)
        raise SystemExit(7)


def _raw_tx(data: bytes) -> bytes:
    """Hex text or binary; whether it is a transaction, broadcast() checks."""
    text = data.strip()
    if not re.fullmatch(rb"[0-9a-fA-F]+", text):
        return bytes(data)
    if len(text) % 2:
        raise InvalidInput("bad_input", "the transaction hex has an odd number of digits")
    return bytes.fromhex(text.decode("ascii"))


@click.group("sandbox")
def sandbox_group() -> None:
    """The built-in regtest chain (for trying Huddle; never real money)."""


@sandbox_group.command("serve")
@click.option("--port", default=0, type=click.IntRange(0, 65535), help="TCP port on 127.0.0.1 (0: any free one).")
@click.option("--chain-file", type=click.Path(dir_okay=False), help="Keep the chain in this file across restarts.")
def sandbox_serve(port: int, chain_file: str | None) -> None:
    """Serve a regtest chain with an Esplora API on 127.0.0.1 until Ctrl-C."""
    from ..chain.sandbox.chain import Chain
    from ..chain.sandbox.server import serve

    chain = Chain(path=Path(chain_file).expanduser()) if chain_file else Chain()
    with serve(chain, port=port) as sandbox:
        click.echo("REGTEST SANDBOX: coins here are worthless test coins.")
        click.echo(f"Esplora API at {sandbox.url}")
        click.echo(f"Use it with: HUDDLE_NETWORK=regtest HUDDLE_CHAIN=esplora:{sandbox.url}")
        click.echo("Dev endpoints: POST /sandbox/mine, /sandbox/faucet (see docs/sandbox.md). Ctrl-C stops.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            click.echo("stopped")
