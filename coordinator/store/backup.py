"""Backups and restores of the database (docs/server.md, "Backups").

Both go through SQLite's online backup API: it copies the pages inside one read
transaction, so a backup taken while the server writes is the database as it was
at one moment (WAL lets the writers carry on meanwhile). Copying the file with
``cp`` could tear a page or miss the WAL.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlite_utils import Database

from ..errors import Conflict, InvalidInput, StorageError
from .db import BUSY_TIMEOUT_MS, open_database
from .migrations import MIGRATIONS, check_not_newer

HEADER = b"SQLite format 3\x00"


def backup(database: Path, target: Path, *, force: bool = False, verify: bool = True) -> Path:
    """Copy ``database`` into ``target`` (mode 0600), which appears whole or not at all."""
    target = Path(target)
    live = Path(database).resolve()
    if target.resolve() in (live, live.with_name(live.name + "-wal"), live.with_name(live.name + "-shm")):
        # Replacing the file under open connections would split them from their WAL: lost writes.
        raise Conflict("backup_exists", f"{target} is the database itself; back up to another file")
    if target.exists() and not force:
        raise Conflict("backup_exists", f"{target} exists; pass --force to overwrite it")
    if not Path(database).exists():
        raise StorageError("database_error", f"there is no database at {database} to back up")
    with _staging(target.parent, ".huddle-backup-") as staging:
        with _connect(database) as source, _connect(staging) as copy:
            _copy(source, copy, database)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
        if verify:
            check(staging)  # what we hand over must restore
        _fsync(staging)
        _publish(staging, target, force)
    return target


def check(path: Path) -> int:
    """Refuse anything but a sound database from this or an older Huddle; return its migration count."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(100)
    except OSError as err:
        raise InvalidInput("bad_input", f"cannot read {path}: {err.strerror}") from None
    if not head.startswith(HEADER):
        raise InvalidInput("bad_backup", f"{path} is not a SQLite database")
    expected = _page_size(head) * int.from_bytes(head[28:32], "big")
    if os.path.getsize(path) < expected:  # the header's page count says more pages were written
        raise InvalidInput("bad_backup", f"{path} is truncated ({os.path.getsize(path)} of {expected} bytes)")
    try:
        with _connect(path, read_only=True) as conn:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise InvalidInput("bad_backup", f"{path} fails SQLite's integrity check: {verdict}")
            db = Database(conn)
            if not db[MIGRATIONS.migrations_table].exists():
                raise InvalidInput("bad_backup", f"{path} is a SQLite database, but not Huddle's")
            try:
                check_not_newer(db)
            except StorageError as err:
                raise InvalidInput("bad_backup", f"{path}: {err.message}") from None
            return len(MIGRATIONS.applied(db))
    except sqlite3.DatabaseError as err:
        raise InvalidInput("bad_backup", f"{path} is damaged: {err}") from None


def restore(database: Path, source: Path, *, now: datetime | None = None) -> Path | None:
    """Replace ``database`` by the backup ``source``; return where the old one was kept
    (None when there was none: a new server restored from its old one's backup)."""
    check(source)
    database = Path(database)
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    kept = database.with_name(f"{database.name}.before-restore-{stamp}")
    if database.exists():  # nothing is lost: the current one stays beside it, even if damaged
        backup(database, kept, verify=False)
    else:
        open_database(database).close()
        kept = None
    with _connect(source, read_only=True) as src, _connect(database) as live:
        # One write transaction on the live file: a reader sees the old or the new database.
        _copy(src, live, source)
    open_database(database).close()  # migrate an older backup to this Huddle's schema
    return kept


def _copy(source: sqlite3.Connection, target: sqlite3.Connection, where: Path) -> None:
    try:
        source.backup(target)  # pages=-1: all in one step, one snapshot; stepping restarts on each write
    except sqlite3.DatabaseError as err:
        message = str(err)
        if "locked" in message or "busy" in message:
            raise StorageError("database_busy", f"{where} stayed locked; try again") from None
        raise StorageError("database_error", f"cannot copy {where}: {message}") from None


@contextlib.contextmanager
def _connect(path: Path, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    uri = f"file:{Path(path).resolve()}?mode={'ro' if read_only else 'rw'}"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.DatabaseError as err:
        raise StorageError("database_error", f"cannot open {path}: {err}") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        yield conn
    finally:
        conn.close()


@contextlib.contextmanager
def _staging(directory: Path, prefix: str) -> Iterator[Path]:
    try:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=directory)  # mode 0600
    except OSError as err:
        # the folder the user named for the backup: their input, not our storage
        raise InvalidInput("bad_input", f"cannot write a backup in {directory}: {err.strerror}") from None
    os.close(fd)
    try:
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def _publish(staging: Path, target: Path, force: bool) -> None:
    try:
        if force:
            os.replace(staging, target)
        else:
            os.link(staging, target)  # fails if the target appeared meanwhile, never overwrites
    except FileExistsError:
        raise Conflict("backup_exists", f"{target} exists; pass --force to overwrite it") from None
    except OSError as err:
        raise InvalidInput("bad_input", f"cannot write {target}: {err.strerror}") from None
    _fsync(target.parent)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _page_size(head: bytes) -> int:
    size = int.from_bytes(head[16:18], "big")
    return 65536 if size == 1 else size  # the header stores 64 KiB as 1
