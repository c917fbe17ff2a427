"""Opening the database, and the one way to write to it.

WAL lets readers run beside the writer; ``synchronous=FULL`` makes a commit
survive power loss (a lost address allocation means address reuse).
Every write transaction starts with ``BEGIN IMMEDIATE``: it takes the write
lock up front, so two writers queue instead of deadlocking on a lock upgrade.
Writers of one process first take turns on a lock per database file: SQLite's
busy handler polls with sleeps and is unfair, so under a burst of threads one
writer could wait out the busy timeout while others kept winning; a blocking
lock makes them queue (bench/realtime.py saw `database_busy` reach clients).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Iterator

from sqlite_utils import Database

from ..errors import StorageError
from .migrations import MIGRATIONS, check_not_newer

BUSY_TIMEOUT_MS = 10_000
QUEUE_TIMEOUT_S = 60  # a writer waits this long for its turn in this process before database_busy

_WRITE_LOCKS: dict[str, threading.RLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def write_lock(path: Path | str) -> threading.RLock:
    """One lock per database file in this process (re-entrant: a nested write is a savepoint)."""
    key = str(path) if str(path) == ":memory:" else os.path.realpath(path)
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.RLock())


def open_database(path: Path | str) -> Database:
    """Open (creating if needed) and migrate the database at ``path``."""
    _create_private(Path(path))
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                               check_same_thread=False)
        db = Database(conn)
        db.huddle_write_lock = write_lock(path)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _enable_wal(conn)
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        check_not_newer(db)
        with write(db):
            MIGRATIONS.apply(db)
    except sqlite3.DatabaseError as err:
        raise _translate(err, path) from None
    return db


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch a new file to WAL. Two openers that both hold a read lock and both want
    the exclusive lock for the switch get SQLITE_BUSY at once, without the busy
    handler (SQLite refuses to wait on a lock upgrade, which could deadlock): retry."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as err:
            if ("locked" not in str(err) and "busy" not in str(err)) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def _create_private(path: Path) -> None:
    """Create the file 0600 first: it holds the group's xpubs (privacy)."""
    if str(path) == ":memory:" or path.exists():
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as err:
        raise StorageError("database_error", f"cannot create {path}: {err.strerror}") from None


@contextlib.contextmanager
def write(db: Database) -> Iterator[Database]:
    """A write transaction (``BEGIN IMMEDIATE``); nested calls become savepoints."""
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield db
        return
    lock = getattr(db, "huddle_write_lock", None)  # None for a Database not opened here
    if lock is not None and not lock.acquire(timeout=QUEUE_TIMEOUT_S):
        raise StorageError("database_busy", "the database stayed busy with other writers; try again")
    try:
        yield from _transaction(db)
    finally:
        if lock is not None:
            lock.release()


def _transaction(db: Database) -> Iterator[Database]:
    conn = db.conn
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as err:
        raise _translate(err, None) from None
    try:
        yield db
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.DatabaseError as err:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise _translate(err, None) from None


def _translate(err: sqlite3.DatabaseError, path: Path | str | None) -> StorageError:
    where = f" ({path})" if path else ""
    if "locked" in str(err) or "busy" in str(err):
        return StorageError("database_busy", f"the database stayed locked by another writer{where}; try again")
    return StorageError("database_error", f"database error{where}: {err}")
