"""``huddle agent confirm-setup``, ``approve`` and ``roster-change``: what a keyholder
confirms at their own agent, after reading it at their own terminal (docs/agent.md,
"The roster ceremony"). Each shows what the agent recomputed itself, asks y/N, and
only then signs with the agent key. Added to ``huddle agent`` by agent_cmd.py.
"""

from __future__ import annotations

import click

yes_option = click.option("--yes", is_flag=True, help="Do not ask at the terminal (scripts that already showed it).")


def _ask(question: str, yes: bool) -> None:
    from ..errors import Conflict

    if not yes and not click.confirm(question, default=False):
        raise Conflict("device_declined", "nothing was signed: declined at the terminal")


def _context():
    from ..hw import agent_key, pairing
    from ..hw.pinned import PinStore, agent_dir

    return pairing.load(agent_dir()), agent_key.load_or_create(agent_dir()), PinStore()


@click.command("confirm-setup")
@click.argument("draft_id", type=click.IntRange(min=1))
@click.option("--emulators", is_flag=True, help="Also look for HWI's device emulators.")
@yes_option
def confirm_setup(draft_id: int, emulators: bool, yes: bool) -> None:
    """Confirm your slot of the wallet being set up in DRAFT_ID, and pin its roster.

    Shows the roster's safety code (read it aloud on the call and compare) and has
    your device show the wallet's first address; then signs the confirmation with
    the agent key.
    """
    from ..hw import devices as hw_devices
    from ..hw import roster as ceremony
    from ..hw.injection import factory

    link, key, store = _context()
    setup = ceremony.fetch_setup(link, draft_id, key)
    roster = setup.parsed
    click.echo(f"Wallet being set up (draft {draft_id}): {setup.descriptor.threshold}-of-{setup.descriptor.n} "
               f"{setup.descriptor.script_type} on {roster.network}, {len(roster.members)} member(s), approval "
               f"threshold {roster.threshold}")
    click.echo(f"Safety code: {setup.safety_code}")
    device = hw_devices.select(factory(roster.network, emulators), setup.fingerprint)
    try:
        shown = _show_first(device, ceremony.as_wallet(f"draft-{draft_id}", roster), store)
    finally:
        device.close()
    click.echo(f"First receive address, as your device {device.fingerprint} shows it: {shown}")
    _ask("Did every keyholder read the same safety code, and does your device show this address?", yes)
    wallet, draft = ceremony.confirm_setup(link, setup, key, store, shown)
    click.echo(f"Confirmed slot {setup.slot}; roster pinned as {wallet.name!r} (policy "
               f"{wallet.descriptor.policy_id}, draft {draft.get('state', '?')})")


def _show_first(device, wallet, store) -> str:
    from ..hw import addresses

    shower = device
    if device.found.type == "ledger":  # registers the policy, HMAC kept (ledger.py)
        from ..hw import ledger

        shower = ledger.signer_for(device, wallet, store.root)
    return addresses.show(wallet, shower, 0)


@click.command("pin-roster")
@click.argument("wallet_id", type=click.IntRange(min=1))
@click.option("--name", help="Pin under this name (default: the wallet's name on the server).")
@yes_option
def pin_roster(wallet_id: int, name: str | None, yes: bool) -> None:
    """Pin the roster of WALLET_ID, set up before this agent existed, after comparing its safety code.

    For a keyholder whose agent came after the setup ceremony, or was installed
    again. Compare the safety code with another keyholder's `huddle agent wallets`
    (read aloud, not through the server) before you answer.
    """
    from ..hw import roster as ceremony

    link, _, store = _context()
    pinned = ceremony.fetch_pinned(link, wallet_id)
    d = pinned.parsed
    click.echo(f"Wallet {wallet_id} ({pinned.name!r}): {len(d.members)} member(s), approval threshold {d.threshold}, "
               f"policy {d.policy_id} on {d.network}")
    click.echo(f"Safety code: {pinned.safety_code}")
    _ask("Does another keyholder's agent show the same safety code for this wallet?", yes)
    wallet, _ = store.pin_roster(name or pinned.name, pinned.roster, wallet_id)
    click.echo(f"Pinned {wallet.name!r} with its roster; huddle agent run now answers its sign requests")


@click.command("approve")
@click.argument("proposal_id", type=click.IntRange(min=1))
@click.option("--wallet", "wallet_name", required=True, help="The pinned wallet's name.")
@yes_option
def approve(proposal_id: int, wallet_name: str, yes: bool) -> None:
    """Approve PROPOSAL_ID with the agent key, after checking it against the pinned wallet.

    Recipients, amounts, fee and memo are rebuilt from the PSBT and the pinned
    descriptor (never taken from the server) and shown before you answer.
    """
    from ..hw import roster as ceremony

    link, key, store = _context()
    wallet = store.get(wallet_name)
    wallet_id = ceremony.server_id(link, wallet, store)
    item = ceremony.fetch_proposal(link, wallet, proposal_id, wallet_id)
    click.echo(f"Proposal {proposal_id} of {wallet.name!r}, as this agent checked it:")
    for line in item.summary.to_lines():
        click.echo(f"  {line}")
    click.echo(f"  Memo: {item.memo!r}")
    click.echo(f"  Fee ceiling for fee bumps: {item.intent.fee_ceiling} sat; expires at "
               f"{_utc(item.intent.expires_at)}")
    _ask("Approve this spend?", yes)
    answer = ceremony.approve(link, wallet_id, item, key)
    click.echo(f"Approved; {len(answer.get('approved_by', []))} of {answer.get('threshold', '?')} approvals "
               "needed are in")


@click.command("roster-change")
@click.argument("change_id", type=click.IntRange(min=1))
@click.option("--wallet", "wallet_name", required=True, help="The pinned wallet's name.")
@yes_option
def roster_change(change_id: int, wallet_name: str, yes: bool) -> None:
    """Confirm roster change CHANGE_ID of a pinned wallet, after reading every difference.

    The differences are computed here, from the roster this agent pinned to the new
    one; the new roster is pinned once M keyholders confirmed it.
    """
    from ..hw import roster as ceremony

    link, key, store = _context()
    wallet = store.get(wallet_name)
    change = ceremony.fetch_change(link, wallet, ceremony.server_id(link, wallet, store), change_id)
    click.echo(f"Roster change {change_id} of {wallet.name!r}:")
    for line in change.lines:
        click.echo(f"  {line}")
    click.echo(f"New safety code: {change.safety_code}")
    _ask("Accept this roster change?", yes)
    answer, applied = ceremony.confirm_change(link, change, key, store)
    state = answer.get("change", {})
    if applied:
        click.echo("Confirmed; the change is applied and the new roster is pinned here")
    else:
        click.echo(f"Confirmed; {len(state.get('confirmed_by', []))} of {state.get('needed', '?')} keyholders have "
                   "confirmed it so far")


def _utc(seconds: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


COMMANDS = (confirm_setup, pin_roster, approve, roster_change)
