"""``huddle backup`` and ``huddle restore``: the database, copied while it is in use
(docs/server.md, "Backups"). The work is in ``coordinator/store/backup.py``."""

from __future__ import annotations

from pathlib import Path

import click

from . import context
from .io import emit_json, json_option


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@json_option
def backup(file: Path, force: bool, as_json: bool) -> None:
    """Copy the database into FILE (mode 0600), safely while the server runs."""
    from ..store import backup as store_backup

    cfg = context.settings()
    written = store_backup.backup(cfg.database, file.expanduser(), force=force)
    if as_json:
        emit_json({"backup": str(written), "database": str(cfg.database)})
        return
    click.echo(f"backed up {cfg.database} to {written}")
    click.echo("keep it off this machine; it holds the wallets' public keys (privacy), not private keys")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def restore(file: Path, as_json: bool) -> None:
    """Check the backup FILE, then make it the database. Stop the server first.

    The current database is kept beside it as <name>.before-restore-<time>.
    """
    from ..store import backup as store_backup

    cfg = context.settings()
    kept = store_backup.restore(cfg.database, file.expanduser())
    if as_json:
        emit_json({"restored": str(file), "database": str(cfg.database), "kept": str(kept) if kept else None})
        return
    click.echo(f"restored {file} into {cfg.database}")
    if kept is not None:
        click.echo(f"the previous database is kept as {kept}")
