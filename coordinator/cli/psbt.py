"""``huddle psbt``: inspect, combine and finalize PSBTs moved by hand.

Mirrors what Bitcoin Core offers (decodepsbt/analyzepsbt, combinepsbt,
finalizepsbt), with Huddle's checks: signatures are verified before they are
taken, and change is classified against the wallet's own descriptor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..errors import Conflict, InvalidInput
from . import context
from .io import emit_json, json_option, read_payload, write_text

if TYPE_CHECKING:  # commands import the core when they run, so `huddle --help` stays fast
    from ..psbt.status import Status
    from ..wallet.descriptor import MultisigDescriptor

wallet_option = click.option(
    "--wallet", "wallet_spec", required=True,
    help="A stored wallet's name, or descriptor text.")
network_option = click.option("--network", help="Network, when --wallet is descriptor text.")


@click.group("psbt")
def group() -> None:
    """PSBTs: inspect, combine signatures, finalize.

    Files may hold base64, hex or binary; '-' reads stdin.
    """


def _wallet(spec: str, network: str | None) -> tuple[MultisigDescriptor, str, int]:
    """(descriptor, network, highest change index to accept) for --wallet."""
    from .. import networks
    from ..psbt.checks import change_index_limit
    from ..store import wallets
    from ..wallet import addresses
    from ..wallet.descriptor import CHANGE, MultisigDescriptor

    if "(" in spec:
        desc = MultisigDescriptor.from_string(spec)
        net = networks.check(network) if network else ("testnet" if desc.is_test else "bitcoin")
        desc.check_network(net)
        return desc, net, change_index_limit(None)
    _, db = context.database()
    wallet = wallets.get(db, spec)
    if network and networks.check(network) != wallet.network:
        raise click.UsageError(f"wallet {wallet.name!r} is on {wallet.network}, not {network}")
    limit = change_index_limit(addresses.last_used(db, wallet, CHANGE))
    return wallet.descriptor, wallet.network, limit


def _psbt_bytes(source: str) -> bytes:
    from ..psbt import codec

    return read_payload(source, 2 * codec.MAX_PSBT_BYTES + 1024)


def _read_psbt(source: str):
    from ..psbt import codec

    return codec.parse(_psbt_bytes(source))


@group.command("create")
@click.argument("name")
@click.option("--to", "payments", nargs=2, multiple=True, required=True, metavar="ADDRESS AMOUNT",
              help="Pay AMOUNT (100000, 100000sat or 0.001btc; 'max' for everything) to ADDRESS. Repeatable.")
@click.option("--fee-rate", required=True, help="Fee rate in sat/vB, e.g. 2.5.")
@click.option("--coin", "coins", multiple=True, metavar="TXID:VOUT", help="Spend exactly these coins. Repeatable.")
@click.option("-o", "--output", help="Write the PSBT (base64) here instead of stdout.")
@json_option
def create(name: str, payments: tuple[tuple[str, str], ...], fee_rate: str, coins: tuple[str, ...],
           output: str | None, as_json: bool) -> None:
    """Build an unsigned PSBT from wallet NAME's synced coins.

    Run `huddle wallet sync NAME` first. The PSBT carries every field signers
    need and passes the signer checks before it is written.
    """
    send_max = any(amount.strip().lower() == "max" for _, amount in payments)
    if send_max and len(payments) != 1:  # the command line is wrong: say so before reading anything
        raise click.UsageError("'max' needs exactly one --to")
    from ..governance import coins as wallet_coins
    from ..psbt import codec
    from ..psbt.checks import change_index_limit, check
    from ..psbt.model import Recipient
    from ..psbt.spend import plan_spend
    from ..psbt.units import parse_amount, parse_fee_rate
    from ..store import chain as chain_store
    from ..store import wallets
    from ..wallet import addresses
    from ..wallet.descriptor import CHANGE

    cfg, db = context.database()
    wallet = wallets.get(db, name)
    state = chain_store.sync_state(db, wallet.id)
    if state is None:
        raise Conflict("not_synced", f"wallet {name!r} has not been synced; run `huddle wallet sync {name}`")
    recipients = [Recipient(address, 0 if send_max else parse_amount(amount)) for address, amount in payments]
    # Neither a frozen coin nor an immature coinbase, chosen or not (docs/errors-coins.md); no locks here.
    chosen = wallet_coins.check_chosen(db, wallet.id, coins, {}) if coins else None
    spend = plan_spend(wallet.descriptor, wallet.network, wallet_coins.selectable(db, wallet.id, state.tip_height, {}),
                       recipients, parse_fee_rate(fee_rate), addresses.change_index(db, wallet), state.tip_height,
                       coins=chosen, send_max=send_max)
    summary = check(spend.psbt, wallet.descriptor, wallet.network,
                    max_change_index=change_index_limit(addresses.last_used(db, wallet, CHANGE)))
    text = codec.to_base64(spend.psbt)
    if output:
        write_text(output, text)
    if as_json:
        emit_json({"psbt": text, "summary": summary.to_dict()})
        return
    if not output:
        click.echo(text)
    for line in summary.to_lines():
        click.echo(line, err=True)


@group.command("inspect")
@click.argument("file")
@click.option("--wallet", "wallet_spec", help="A stored wallet's name, or descriptor text: verifies "
              "amounts and classifies change.")
@network_option
@click.option("--max-change-index", type=click.IntRange(0, 2**31 - 1),
              help="Highest change index to accept (default: last used change + 20).")
@json_option
def inspect(file: str, wallet_spec: str | None, network: str | None, max_change_index: int | None,
            as_json: bool) -> None:
    """Show what the PSBT in FILE spends, pays and who has signed.

    With --wallet, every check a signer runs is applied first (prevouts,
    change, fee caps, global xpubs); a PSBT that fails one is refused.
    """
    from ..psbt.checks import check
    from ..psbt.status import status

    psbt = _read_psbt(file)
    if wallet_spec is None:
        _inspect_bare(psbt, _bare_network(psbt, network), as_json)
        return
    desc, net, limit = _wallet(wallet_spec, network)
    summary = check(psbt, desc, net, max_change_index=limit if max_change_index is None else max_change_index,
                    tip_height=_synced_tip(wallet_spec))
    sigs = status(psbt, desc)
    if as_json:
        emit_json({"summary": summary.to_dict(), "signatures": _status_dict(sigs, desc)})
        return
    for line in summary.to_lines():
        click.echo(line)
    _print_status(sigs, desc)


def _bare_network(psbt, network: str | None) -> str:
    """--network, else HUDDLE_NETWORK: addresses read bcrt1 on regtest, tb1 on
    testnet. Global xpubs of the other kind (tpub vs xpub) are refused, not
    shown as addresses of the wrong network."""
    from .. import networks

    net = networks.check(network) if network else context.settings().network
    test = networks.is_test(net)
    if any(k.to_base58().startswith("tpub") != test for k in psbt.xpubs):
        found = "xpub keys (bitcoin)" if test else "tpub keys (a test network)"
        raise InvalidInput("wrong_network", f"the PSBT's global xpubs are {found}, but the network is {net}"
                           " (HUDDLE_NETWORK); pass --network NET")
    return net


def _inspect_bare(psbt, network: str, as_json: bool) -> None:
    from ..psbt.summary import format_btc, output_label

    outputs = [{"address": output_label(o.script_pubkey.data, network), "amount": o.value}
               for o in psbt.outputs]
    sig_counts = [len(i.partial_sigs) for i in psbt.inputs]
    if as_json:
        emit_json({"inputs": len(psbt.inputs), "outputs": outputs, "partial_signatures": sig_counts,
                   "verified": False})
        return
    click.echo(f"{len(psbt.inputs)} input(s); partial signatures per input: {sig_counts}")
    for o in outputs:
        click.echo(f"Output {format_btc(o['amount'])} to {o['address']}")
    click.echo("Not verified: pass --wallet to check amounts, change and fee against the wallet.")


def _status_dict(sigs: Status, desc: MultisigDescriptor) -> dict:
    return {
        "threshold": sigs.threshold, "needed": sigs.needed, "complete": sigs.complete,
        "cosigners": [{"fingerprint": c.fingerprint, "label": desc.cosigners[c.position].label,
                       "signed_inputs": list(c.signed_inputs), "done": c.done} for c in sigs.cosigners],
        "inputs": [{"index": i.index, "signed_by": list(i.signed_by), "needed": i.needed,
                    "invalid": list(i.invalid), "foreign": list(i.foreign)} for i in sigs.inputs],
    }


def _print_status(sigs: Status, desc: MultisigDescriptor) -> None:
    for c in sigs.cosigners:
        label = desc.cosigners[c.position].label
        state = "signed" if c.done else f"signed {len(c.signed_inputs)} of {len(sigs.inputs)} inputs"
        click.echo(f"  {c.fingerprint} {label:<16} {state}")
    for line in sigs.problems():
        click.echo(f"  {line}")
    click.echo(sigs.headline())


@group.command("combine")
@click.argument("files", nargs=-1, required=True)
@wallet_option
@network_option
@click.option("-o", "--output", help="Write the combined PSBT (base64) here instead of stdout.")
@json_option
def combine(files: tuple[str, ...], wallet_spec: str, network: str | None, output: str | None,
            as_json: bool) -> None:
    """Combine the signatures in FILES into the first file's PSBT.

    Only verified signatures by the wallet's own keys are taken from the
    other files; nothing else in them can change the first PSBT.
    """
    from ..psbt import codec
    from ..psbt.merge import merge
    from ..psbt.status import status

    desc, _, _ = _wallet(wallet_spec, network)
    combined = _read_psbt(files[0])
    signed_by: dict[str, list[int]] = {}
    dropped: dict[str, list[int]] = {}
    for source in files[1:]:
        result = merge(combined, _psbt_bytes(source), desc)
        combined = result.psbt
        for fingerprint, inputs in result.added.items():
            signed_by.setdefault(fingerprint, []).extend(inputs)
        for who, inputs in result.dropped.items():
            dropped.setdefault(who, []).extend(inputs)
    text = codec.to_base64(combined)
    sigs = status(combined, desc)
    if output:
        write_text(output, text)
    if as_json:
        emit_json({"psbt": text, "added": signed_by, "dropped": dropped,
                   "signatures": _status_dict(sigs, desc)})
        return
    if not output:
        click.echo(text)
    for fingerprint, inputs in signed_by.items():
        click.echo(f"Added signatures by {fingerprint} on {len(inputs)} input(s)", err=True)
    if not signed_by:
        click.echo("No new signatures.", err=True)
    for who, inputs in dropped.items():
        click.echo(f"Dropped signatures by {who} on {len(inputs)} input(s): they do not verify "
                   "or are not this wallet's", err=True)
    for line in sigs.problems():
        click.echo(line, err=True)
    click.echo(sigs.headline(), err=True)


@group.command("finalize")
@click.argument("file")
@wallet_option
@network_option
@json_option
def finalize_(file: str, wallet_spec: str, network: str | None, as_json: bool) -> None:
    """Finalize the PSBT in FILE and print the raw transaction hex.

    Every signature is verified again; an incomplete PSBT is refused.
    """
    from ..psbt.finalize import finalize

    desc, _, _ = _wallet(wallet_spec, network)
    final = finalize(_read_psbt(file), desc, coins=_synced_coins(wallet_spec))
    if as_json:
        emit_json({"txid": final.txid, "hex": final.tx.hex()})
        return
    click.echo(final.tx.hex())


def _synced_tip(spec: str) -> int | None:
    """A stored, synced wallet's tip height: the checks judge a height nLockTime against it."""
    if "(" in spec:
        return None
    from ..store import chain as chain_store
    from ..store import wallets

    _, db = context.database()
    state = chain_store.sync_state(db, wallets.get(db, spec).id)
    return None if state is None else state.tip_height


def _synced_coins(spec: str) -> list:
    """A stored wallet's synced coins: they prove the amount of an input without non_witness_utxo."""
    if "(" in spec:
        return []
    from ..store import chain as chain_store
    from ..store import wallets

    _, db = context.database()
    return chain_store.coins(db, wallets.get(db, spec).id)
