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


@group.command("verify")
@click.argument("file")
@json_option
def verify(file: str, as_json: bool) -> None:
    """Check that an exported chain links and hashes as it claims.

    FILE holds entries as `huddle audit export` writes them ('-' for stdin). A
    broken chain fails with audit_chain_broken and names the first bad entry.
    """
    from ..governance import audit

    entries = [audit.Entry.from_dict(item) for item in _read_lines(read_text(file))]
    head = audit.verify(entries)
    chain = entries[0].chain if entries else ""
    if as_json:
        emit_json({"chain": chain, "entries": len(entries), "head": head.to_string()})
        return
    click.echo(f"ok: {len(entries)} entries of {chain or '(empty)'} verify; head {head.to_string()}")


def _read_lines(text: str) -> list[object]:
    import json

    from ..errors import InvalidInput

    try:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError as err:
        raise InvalidInput("audit_malformed", f"not an exported audit chain (one JSON entry per line): {err}") \
            from None
