"""``huddle agent``: the signer agent on a keyholder's own machine (docs/agent.md).

It pins wallets, lists devices, shows addresses on a device and signs PSBT
files offline, always checking against the wallet it pinned. HWI and the
device code are imported inside each command, so ``huddle --help`` never
loads them (tests/cli/test_startup.py).
"""

from __future__ import annotations

import click

from .io import emit_json, json_option, read_payload, read_text, write_text

device_option = click.option("--device", "device_fpr", metavar="FINGERPRINT",
                             help="The device's master fingerprint (8 hex digits); needed when several are connected.")
emulators_option = click.option("--emulators", is_flag=True, help="Also look for HWI's device emulators.")


@click.group("agent")
def group() -> None:
    """The signer agent: your hardware wallet, checked by your own machine.

    Wallets are pinned in the agent's own directory (HUDDLE_AGENT_DIR, or the
    platform's user config dir); every PSBT is checked against the pinned
    descriptor before any device sees it.
    """


@group.command("pin")
@click.argument("wallet_file")
@click.option("--name", help="Pin under this name (default: the name in the file).")
@click.option("--network", help="The wallet's network, when the file does not say.")
def pin(wallet_file: str, name: str | None, network: str | None) -> None:
    """Pin the wallet in WALLET_FILE (a descriptor, Coldcard, BSMS, Caravan or Sparrow/Specter file)."""
    from ..errors import InvalidInput
    from ..hw.pinned import PinStore
    from ..wallet import formats

    loaded = formats.load(read_text(wallet_file))
    network = _pin_network(loaded, network)
    if not (name or loaded.name):
        raise InvalidInput("usage", "the file names no wallet; pass --name")
    wallet, new = PinStore().pin(name or loaded.name, network, loaded.descriptor)
    d = wallet.descriptor
    click.echo(f"{'Pinned' if new else 'Already pinned'} {wallet.name!r}: {d.threshold}-of-{d.n} {d.script_type} "
               f"on {wallet.network}, policy {d.policy_id}")
    click.echo(f"First receive address: {d.address(0, 0, wallet.network)} "
               f"(check it on each device: huddle agent show-address {_quoted(wallet.name)} --index 0)")


@group.command("wallets")
@json_option
def wallets(as_json: bool) -> None:
    """List the pinned wallets."""
    from ..hw.pinned import PinStore

    pinned = PinStore().all()
    if as_json:
        emit_json([w.to_dict() for w in pinned])
        return
    for w in pinned:
        d = w.descriptor
        roster = f"  roster pinned, safety code: {w.safety_code}" if w.roster is not None else ""
        click.echo(f"{w.name}  {d.threshold}-of-{d.n} {d.script_type}  {w.network}  policy {d.policy_id}{roster}")
    if not pinned:
        click.echo("No wallet is pinned yet: huddle agent pin WALLET-FILE", err=True)


@group.command("devices")
@click.option("--network", default="bitcoin", show_default=True, help="The network HWI opens devices for.")
@emulators_option
@json_option
def devices(network: str, emulators: bool, as_json: bool) -> None:
    """List connected hardware wallets, and what stops any of them from being used."""
    from ..hw.injection import factory

    listing = factory(network, emulators).enumerate()
    if as_json:
        emit_json({"devices": [{"type": d.type, "model": d.model, "path": d.path, "fingerprint": d.fingerprint,
                                "problem": d.problem.to_dict()["error"] if d.problem else None}
                               for d in listing.devices],
                   "problems": [p.to_dict()["error"] for p in listing.problems]})
        return
    for found in listing.devices:
        click.echo(found.line())
    if not listing.devices:
        click.echo("No device found.")
    for problem in listing.problems:
        click.echo(f"warning: {problem.message} [{problem.code}]", err=True)


@group.command("doctor")
def doctor() -> None:
    """Check this machine: Python version, HWI, libusb and (Linux) udev rules."""
    from ..errors import Unavailable
    from ..hw import doctor as checks

    findings = checks.run()
    for finding in findings:
        click.echo(finding.line())
    missing = [f.name for f in findings if not f.ok]
    if missing:
        raise Unavailable("agent_not_ready", f"missing: {', '.join(missing)} (see above)")


@group.command("sign")
@click.argument("psbt_file")
@click.option("--wallet", "wallet_name", required=True, help="The pinned wallet's name.")
@device_option
@emulators_option
@click.option("-o", "--output", help="Write the signed PSBT (base64) here instead of stdout.")
@click.option("--register-renamed", is_flag=True,
              help="Ledger: register the wallet again under its new name (the device asks you).")
@click.option("--audit", "audit_file", metavar="FILE",
              help="The wallet's audit chain (as `huddle audit export` writes it): refuse unless it extends "
                   "the head this agent saw last.")
def sign(psbt_file: str, wallet_name: str, device_fpr: str | None, emulators: bool, output: str | None,
         register_renamed: bool, audit_file: str | None) -> None:
    """Check PSBT_FILE against the pinned wallet, then sign it with a connected device.

    The checks run before the device is asked; the summary is printed for you
    to compare with the device's screen. Only the device's own, verified
    signatures are added to the PSBT.
    """
    from ..hw import devices as hw_devices
    from ..hw import signing
    from ..hw.injection import factory
    from ..hw.pinned import PinStore
    from ..psbt import codec

    store = PinStore()
    wallet = store.get(wallet_name)
    data = read_payload(psbt_file, codec.MAX_PSBT_BYTES)
    if audit_file:  # history first: a rewritten one refuses everything
        from ..hw.heads import HeadStore, parse_exported

        HeadStore(store).advance(wallet, parse_exported(read_text(audit_file)))
    signing.review(data, wallet)  # refuse before any device is touched
    device = hw_devices.select(factory(wallet.network, emulators), device_fpr)
    try:
        signer = device
        if device.found.type == "ledger":  # registered once, HMAC kept (docs/agent.md)
            from ..hw import ledger

            signer = ledger.signer_for(device, wallet, store.root, rename=register_renamed)
        signed = signing.sign(data, wallet, signer, show=_show)
    finally:
        device.close()
    store.saw_used(wallet, signing.used_indexes(signed))
    click.echo(f"Signed {len(signed.signatures)} input(s) with {device.fingerprint}.", err=True)
    text = codec.to_base64(signed.psbt)
    if output:
        write_text(output, text)
    else:
        click.echo(text)


def _show(summary) -> None:
    click.echo("Check these on the device's screen before you approve:", err=True)
    for line in summary.to_lines():
        click.echo(f"  {line}", err=True)


@group.command("xpub")
@click.option("--network", required=True, help="The wallet's network (bitcoin, testnet, signet, ...).")
@click.option("--script-type", type=click.Choice(["wsh", "sh-wsh"]), default="wsh", show_default=True,
              help="wsh (BIP-48 script 2') or sh-wsh (1').")
@click.option("--account", type=click.IntRange(0, 2**31 - 1), default=0, show_default=True, help="BIP-48 account.")
@device_option
@emulators_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation at the terminal.")
def xpub(network: str, script_type: str, account: int, device_fpr: str | None, emulators: bool, yes: bool) -> None:
    """Export the device's BIP-48 key for a new multisig wallet, with its origin.

    Prints [fingerprint/48h/coin/account/script]xpub, after you confirm.
    """
    from ..errors import Conflict
    from ..hw import devices as hw_devices
    from ..hw import setup
    from ..hw.injection import factory

    path = setup.bip48_path(network, script_type, account)
    device = hw_devices.select(factory(network, emulators), device_fpr)
    try:
        if not yes and not click.confirm(f"Export the key of device {device.fingerprint} at {path} ({script_type} "
                                         f"on {network})? It shows the wallet's coins to whoever gets it, but "
                                         "cannot spend them", err=True):
            raise Conflict("device_declined", "not exported: declined at the terminal")
        cosigner = setup.export_key(device, network, script_type, account)
    finally:
        device.close()
    click.echo(cosigner.key_expression())


@group.command("register")
@click.argument("wallet_name")
@device_option
@emulators_option
@click.option("--register-renamed", is_flag=True,
              help="Ledger: register the wallet again under its new name (the device asks you).")
def register(wallet_name: str, device_fpr: str | None, emulators: bool, register_renamed: bool) -> None:
    """Register a pinned wallet on the device, then show its first address there.

    Ledger: a BIP-388 policy, HMAC stored; Coldcard: the multisig file is enrolled
    (approve it on the device); Jade, BitBox02: registered by showing an address;
    Trezor: nothing to keep, it checks the PSBT's global xpubs.
    """
    from ..hw import devices as hw_devices
    from ..hw import registration
    from ..hw.injection import factory
    from ..hw.pinned import PinStore

    store = PinStore()
    wallet = store.get(wallet_name)
    device = hw_devices.select(factory(wallet.network, emulators), device_fpr)
    try:
        result = registration.register(device, wallet, store.root, rename=register_renamed)
    finally:
        device.close()
    click.echo(result.how)
    if result.first_address:
        click.echo(f"First receive address, as the device shows it: {result.first_address}")


@group.command("show-address")
@click.argument("wallet_name")
@click.option("--index", type=click.IntRange(min=0), required=True, help="The address index.")
@click.option("--change", is_flag=True, help="A change address instead of a receive one.")
@device_option
@emulators_option
def show_address(wallet_name: str, index: int, change: bool, device_fpr: str | None, emulators: bool) -> None:
    """Show a receive (or change) address of a pinned wallet on the device, and check it."""
    from ..hw import addresses
    from ..hw import devices as hw_devices
    from ..hw.injection import factory
    from ..hw.pinned import PinStore

    store = PinStore()
    wallet = store.get(wallet_name)
    branch = 1 if change else 0
    addresses.check_index(wallet, index, branch)  # refuse before any device is touched
    device = hw_devices.select(factory(wallet.network, emulators), device_fpr)
    try:
        shower = device
        if device.found.type == "ledger":  # with the stored HMAC; HWI would register again
            from ..hw import ledger

            shower = ledger.signer_for(device, wallet, store.root)
        shown = addresses.show(wallet, shower, index, branch)
    finally:
        device.close()
    click.echo(f"{shown}  ({'change' if change else 'receive'} {index}; the device {device.fingerprint} "
               "shows the same address)")


def _pin_network(loaded, network: str | None) -> str:
    """--network, else the file's, else bitcoin for xpub keys; a test network must be said."""
    from .. import networks
    from ..errors import InvalidInput

    given = networks.check(network) if network else None
    in_file = networks.check(loaded.network) if loaded.network else None
    if given and in_file and given != in_file:
        raise InvalidInput("wrong_network", f"the file is for {in_file}, not {given}")
    chosen = given or in_file or (None if loaded.descriptor.is_test else "bitcoin")
    if chosen is None:
        raise InvalidInput("usage", "the file does not say which test network it is for; pass --network")
    return chosen


def _quoted(name: str) -> str:
    return f"'{name}'" if " " in name else name


@group.command("unpair")
def unpair() -> None:
    """Forget the server, revoking this agent's token there if it answers."""
    from ..hw import pairing
    from ..hw.pinned import agent_dir

    link, problem = pairing.unpair(agent_dir())
    if problem is None:
        click.echo(f"Unpaired from {link.url} ({link.user_name}); the server revoked token {link.token_id}")
        return
    click.echo(f"Unpaired from {link.url} here, but the server did not revoke token {link.token_id} "
               f"({problem.code}: {problem.message}); revoke it from the web UI's API tokens", err=True)


@group.command("run")
@click.option("--network", default="bitcoin", show_default=True, help="The network HWI opens devices for.")
@emulators_option
def run(network: str, emulators: bool) -> None:
    """Connect out to the paired server and answer its sign requests, one status line per change.

    Every sign request is checked against the wallets, rosters and audit heads
    this agent pinned before any device is asked; Ctrl-C stops it.
    """
    import threading
    import time

    from ..hw import agent_key, connection, pairing
    from ..hw.injection import factory
    from ..hw.pinned import PinStore, agent_dir
    from ..hw.show_requests import ShowResponder
    from ..hw.sign_request import Responder

    link = pairing.load(agent_dir())
    say = lambda line: click.echo(f"{time.strftime('%H:%M:%S')} {line}")  # noqa: E731

    def devices() -> list[str]:
        listing = factory(network, emulators).enumerate()
        return [d.line() for d in listing.devices] + [f"{p.message} [{p.code}]" for p in listing.problems]

    key = agent_key.load_or_create(agent_dir())
    if key.registered_at is None:
        key, problem = agent_key.try_register(agent_dir(), link)
        if problem is not None:
            click.echo(f"warning: the agent key is not registered with the server yet ({problem.message} "
                       f"[{problem.code}]); huddle agent key --register retries", err=True)
    responder = Responder(PinStore(), link.user_id, key, lambda net: factory(net, emulators), say)
    click.echo(f"Connecting to {link.url} as {link.user_name}")
    try:
        connection.run(link, say, threading.Event(), devices, on_request=responder,
                       on_connect=responder.on_connect, handlers={"show_address": ShowResponder(
                           PinStore(), lambda net: factory(net, emulators), say)})
    except KeyboardInterrupt:
        click.echo("Stopped.")


@group.command("key")
@click.option("--register", "again", is_flag=True, help="Register it with the paired server (again).")
def key(again: bool) -> None:
    """Show this agent's public key (BIP-340, hex), made on first need and kept 0600."""
    from ..hw import agent_key, pairing
    from ..hw.pinned import agent_dir

    current = agent_key.load_or_create(agent_dir())
    if again:
        current = agent_key.register(agent_dir(), pairing.load(agent_dir()))
    click.echo(current.public)
    state = f"registered with the server {current.registered_at}" if current.registered_at else \
        "not registered with a server yet (huddle agent key --register)"
    click.echo(f"Made {current.created_at}; {state}; kept in {agent_dir() / agent_key.FILE} (mode 0600)", err=True)


def _add_roster_commands() -> None:
    from .agent_roster_cmd import COMMANDS

    for command in COMMANDS:
        group.add_command(command)


_add_roster_commands()


def _add_pair_command() -> None:
    from .agent_pair_cmd import pair

    group.add_command(pair)


_add_pair_command()
