"""``huddle audit``: export an audit chain, and verify one on your own machine."""

from __future__ import annotations

import click

from . import context
from .io import emit_json, json_option, read_text


@click.group("audit")
def group() -> None:
    """Export and verify the audit log's hash chains (docs/canonical.md)."""


@group.command("export")
@click.argument("chain")
def export(chain: str) -> None:
    """Print CHAIN (e.g. wallet:1 or server) as JSON, one entry per line."""
    import json

    from ..governance import audit

    _, db = context.database()
    for entry in audit.entries(db, chain):
        click.echo(json.dumps(entry.to_dict(), sort_keys=True))


@group.command("roster")
@click.argument("wallet")
@click.option("--origin", envvar="HUDDLE_ORIGIN", required=True, help="The server's origin (as for huddle serve).")
def roster(wallet: str, origin: str) -> None:
    """Print WALLET's roster (JSON): the version 2 roster its setup ceremony pinned
    (latest roster change applied) if it has one, else the version 1 roster as the
    server has it now (policy id, RP ID and origin, each member's passkey keys)."""
    from urllib.parse import urlsplit

    from ..governance.roster import from_db, pinned
    from ..store import wallets

    _, db = context.database()
    found = wallets.get(db, wallet)
    in_force = pinned(db, found.id)
    if in_force is not None:
        emit_json(in_force.to_dict())
        return
    emit_json(from_db(db, found.id, urlsplit(origin).hostname or "", origin.rstrip("/")).to_dict())


@group.command("verify")
@click.argument("file")
@click.option("--roster", "roster_file", help="A pinned roster (JSON): also verify every approval in the chain.")
@json_option
def verify(file: str, roster_file: str | None, as_json: bool) -> None:
    """Check that an exported chain links and hashes as it claims.

    FILE holds entries as `huddle audit export` writes them ('-' for stdin). A
    broken chain fails with audit_chain_broken and names the first bad entry;
    with --roster, an approval that does not verify fails with
    audit_approval_invalid, and a pinned-roster entry, roster-change confirmation
    or setup confirmation that does not with audit_roster_invalid, naming the entry.
    """
    from ..governance import audit

    entries = [audit.Entry.from_dict(item) for item in _read_lines(read_text(file))]
    head = audit.verify(entries)
    chain = entries[0].chain if entries else ""
    checked = _against_roster(entries, chain, roster_file) if roster_file else {}
    if as_json:
        emit_json({"chain": chain, "entries": len(entries), "head": head.to_string(),
                   "approvals": checked.get("approvals"), **{k: v for k, v in checked.items() if k != "approvals"}})
        return
    said = "".join(f"; {v} {k.replace('_', ' ')}" for k, v in checked.items() if isinstance(v, int)
                   and k != "anchored_at")
    click.echo(f"ok: {len(entries)} entries of {chain or '(empty)'} verify{said}"
               f"{' against the roster' if roster_file else ''}; head {head.to_string()}")


def _against_roster(entries: list, chain: str, roster_file: str) -> dict:
    """Version 1 files check passkey approvals; version 2 files replay the chain (governance/roster_audit.py)."""
    import json

    from ..governance import roster_audit
    from ..governance.roster import Roster, load, verify_approvals

    try:
        pinned = load(json.loads(read_text(roster_file)))
    except ValueError:
        pinned = Roster.from_dict(None)  # raises bad_roster
    if isinstance(pinned, Roster):
        return {"approvals": verify_approvals(entries, pinned)}
    if chain.startswith("setup:"):
        return roster_audit.verify_setup_chain(entries, pinned)
    return roster_audit.verify_wallet_chain(entries, pinned)


def _read_lines(text: str) -> list[object]:
    import json

    from ..errors import InvalidInput

    try:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError as err:
        raise InvalidInput("audit_malformed", f"not an exported audit chain (one JSON entry per line): {err}") \
            from None
