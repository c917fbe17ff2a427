"""``huddle wallet``: import, export, list and derive addresses."""

from __future__ import annotations

import click

from . import context
from .io import emit_json, json_option, read_text, write_text
from .render import BRANCH_NAMES, descriptor_dict, print_addresses, print_descriptor

EXPORT_FORMATS = ("descriptor", "coldcard", "bsms", "caravan", "specter")
IMPORT_FORMATS = ("descriptor", "coldcard", "bsms", "caravan", "specter")


@click.group("wallet")
def group() -> None:
    """Multisig wallets stored in this Huddle."""


@group.command("import")
@click.argument("file")
@click.option("--name", help="Wallet name (default: the name in the file).")
@click.option("--format", "fmt", type=click.Choice(IMPORT_FORMATS), help="Skip format detection.")
@click.option("--origin", "origins", multiple=True, metavar="FPR:PATH",
              help="Origin of a key the file lacks one for (Caravan's \"Unknown\" path or 00000000 "
                   "fingerprint), e.g. 0f056943:m/48'/0'/0'/2'. Repeat for each such key, in file order.")
@json_option
def import_(file: str, name: str | None, fmt: str | None, origins: tuple[str, ...], as_json: bool) -> None:
    """Import a wallet from FILE (descriptor, Coldcard, BSMS, Caravan, Sparrow/Specter).

    FILE may be - for stdin. The network is HUDDLE_NETWORK's.
    """
    from ..store import wallets
    from ..wallet import addresses
    from ..wallet.descriptor import RECEIVE

    cfg, db = context.database()
    wallet = wallets.import_text(db, read_text(file), cfg.network, name, fmt, origins)
    first = addresses.derive(wallet.descriptor, wallet.network, RECEIVE, 0, 1)[0]
    if as_json:
        emit_json({"name": wallet.name, "network": wallet.network, **descriptor_dict(wallet.descriptor),
                   "birth_height": wallet.birth_height, "first_receive_address": first.address})
        return
    click.echo(f"Imported {wallet.name!r} on {wallet.network}.")
    print_descriptor(wallet.descriptor)
    if wallet.birth_height is not None:
        click.echo(f"Birth height (from the file): {wallet.birth_height}")
    click.echo(f"First receive address: {first.address}")
    click.echo("Check that every signer's device shows this same address before sending coins.")


@group.command("export")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="descriptor", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write to a file.")
@click.option("--as-name", help="Name to write into the file (e.g. a shorter one for Coldcard's 20 characters).")
def export(name: str, fmt: str, output: str | None, as_name: str | None) -> None:
    """Export wallet NAME for another tool or a signing device."""
    from ..store import wallets

    _, db = context.database()
    text = wallets.export_text(wallets.get(db, name), fmt, as_name)
    if output:
        write_text(output, text)
        click.echo(f"Wrote {output}")
    else:
        click.echo(text.rstrip("\n"))


@group.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List stored wallets."""
    from ..store import wallets

    _, db = context.database()
    rows = [{"name": w.name, "network": w.network, "policy": f"{w.descriptor.threshold} of {w.descriptor.n}",
             "script_type": descriptor_dict(w.descriptor)["script_type"], "created_at": w.created_at}
            for w in wallets.list_all(db)]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("No wallets yet. Import one with `huddle wallet import FILE`.")
    for r in rows:
        click.echo(f"{r['name']:<24} {r['policy']:<8} {r['script_type']:<11} {r['network']}")


@group.command("show")
@click.argument("name")
@json_option
def show(name: str, as_json: bool) -> None:
    """Show wallet NAME: descriptor, policy and cosigners."""
    from ..store import wallets

    _, db = context.database()
    wallet = wallets.get(db, name)
    if as_json:
        emit_json({"name": wallet.name, "network": wallet.network, **descriptor_dict(wallet.descriptor),
                   "birth_height": wallet.birth_height})
        return
    click.echo(f"Wallet {wallet.name!r} on {wallet.network}, added {wallet.created_at}")
    print_descriptor(wallet.descriptor)
    if wallet.birth_height is not None:
        click.echo(f"Birth height (from the imported file): {wallet.birth_height}")


@group.command("addresses")
@click.argument("name")
@click.option("--change", is_flag=True, help="Show the change branch instead of receive.")
@click.option("--start", default=0, show_default=True, type=click.IntRange(0, 2**31 - 1))
@click.option("--count", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--issued", is_flag=True, help="Only addresses handed out and not yet used.")
@json_option
def addresses_(name: str, change: bool, start: int, count: int, issued: bool, as_json: bool) -> None:
    """Derive addresses of wallet NAME, with what Huddle knows of each."""
    from ..store import wallets
    from ..wallet import addresses
    from ..wallet.addresses import BRANCHES

    _, db = context.database()
    wallet = wallets.get(db, name)
    branch = BRANCHES["change" if change else "receive"]
    if issued:
        found = addresses.issued_unused(db, wallet, branch)
    else:
        found = addresses.listing(db, wallet, branch, start, min(count, 2**31 - start))
    if as_json:
        emit_json([a.to_dict() for a in found])
        return
    print_addresses(found, wallet.network)


@group.command("coins")
@click.argument("name")
@json_option
def coins(name: str, as_json: bool) -> None:
    """List wallet NAME's unspent coins as of the last sync, oldest first.

    Each coin's TXID:VOUT is what `huddle psbt create --coin` takes.
    """
    from ..errors import Conflict
    from ..governance import coins as wallet_coins
    from ..psbt.summary import format_btc
    from ..store import chain as chain_store
    from ..store import wallets

    _, db = context.database()
    wallet = wallets.get(db, name)
    state = chain_store.sync_state(db, wallet.id)
    if state is None:
        raise Conflict("not_synced", f"wallet {name!r} has not been synced; run `huddle wallet sync {name}`")
    found = coin_rows(chain_store.utxos(db, wallet.id), chain_store.coin_addresses(db, wallet.id),
                      state.tip_height)
    listed = {c.outpoint: c for c in wallet_coins.listing(db, wallet).coins}
    for c in found:  # frozen (BIP-329 spendable false) and locked, as the server's coin list says
        coin = listed[c["outpoint"]]
        c.update(frozen=coin.frozen is not None, frozen_reason=coin.frozen and coin.frozen.reason(),
                 locked_by=coin.locked_by if coin.locked else None)
    total = sum(c["amount"] for c in found)
    if as_json:
        emit_json({"wallet": wallet.name, "tip_height": state.tip_height, "synced_at": state.synced_at,
                   "total": total, "coins": found})
        return
    click.echo(f"{len(found)} coin(s) of {wallet.name!r}, {format_btc(total)} in all, as of block "
               f"{state.tip_height} (synced {state.synced_at}):")
    for c in found:
        note = ("" if c["mature"] else "  immature (coinbase)") + (f"  {c['frozen_reason']}" if c["frozen"] else "") \
            + (f"  locked (proposal {c['locked_by']})" if c["locked_by"] else "")
        click.echo(f"  {c['outpoint']}  {format_btc(c['amount']):>16}  {c['confirmations']:>6} conf  "
                   f"{c['branch']}/{c['index']:<5} {c['address']}{note}")
    click.echo("`psbt create` never chooses a frozen coin or an immature coinbase, and reserves nothing "
               "(locked coins are a proposal's).")


def coin_rows(utxos: list, addresses: dict[tuple[int, int], str], tip_height: int) -> list[dict]:
    return [{"outpoint": u.outpoint, "txid": u.txid, "vout": u.vout, "amount": u.value,
             "confirmations": u.confirmations(tip_height), "height": u.height,
             "branch": BRANCH_NAMES[u.branch], "index": u.index, "address": addresses.get((u.branch, u.index)),
             "coinbase": u.coinbase, "mature": u.is_mature(tip_height)} for u in utxos]


@group.command("receive")
@click.argument("name")
@json_option
def receive(name: str, as_json: bool) -> None:
    """Hand out a fresh receive address of wallet NAME (recorded, gap-limited)."""
    from ..store import wallets
    from ..wallet import addresses

    _, db = context.database()
    address = addresses.issue(db, wallets.get(db, name))
    if as_json:
        emit_json(address.to_dict())
        return
    click.echo(address.address)


@group.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Confirm; the wallet's address records go too.")
def remove(name: str, yes: bool) -> None:
    """Forget wallet NAME (the coins stay safe; re-import the file to restore)."""
    from ..store import wallets

    if not yes:
        raise click.UsageError("removing a wallet needs --yes")
    _, db = context.database()
    wallets.remove(db, name)
    click.echo(f"Removed {name!r}.")
