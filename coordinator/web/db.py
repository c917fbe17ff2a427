"""SQLite connections for requests and socket events: a small pool per app.

The app migrates the database once at start (``store.open_database``). A request
or a socket event takes a connection from its app's pool (``get_db``) and gives
it back at teardown, so at most ``CONNECTIONS`` are open at once and each keeps
its parsed schema between requests (docs/scaling.md):

- A connection costs about 185 KB once it has parsed our schema. When 500
  sockets closed at once, each disconnect handler held its own connection while
  it queued for the write lock, and the server's peak RSS rose by some 30 MB;
  opening and freeing one per request also scattered the heap.
- Writers of this process queue on the lock per database file (``store.write``),
  as every other writer does: without it SQLite's unfair busy handler let a
  waiting request time out with ``database_busy`` under a burst.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from flask import current_app, g
from sqlite_utils import Database

from ..errors import StorageError
from ..store.db import BUSY_TIMEOUT_MS, QUEUE_TIMEOUT_S, write_lock

CONNECTIONS = 8  # SQLite has one writer and we have 2 cores: more only wait, holding memory
POOL = "huddle_db_pool"  # app.extensions key
_POOLS_GUARD = threading.Lock()


class Pool:
    """At most ``size`` connections to one database file, the idle ones kept open."""

    def __init__(self, path: Path, size: int = CONNECTIONS) -> None:
        self.path, self.idle, self.guard = path, [], threading.Lock()
        self.slots = threading.BoundedSemaphore(size)

    def take(self) -> Database:
        if not self.slots.acquire(timeout=QUEUE_TIMEOUT_S):
            raise StorageError("database_busy", "the server stayed busy with other requests; try again")
        with self.guard:
            db = self.idle.pop() if self.idle else None
        try:
            return db if db is not None else self._open()
        except BaseException:
            self.slots.release()
            raise

    def give(self, db: Database) -> None:
        try:
            if db.conn.in_transaction:  # a request never leaves one open (store.write); be sure
                db.conn.execute("ROLLBACK")
            with self.guard:
                self.idle.append(db)
        except sqlite3.Error:
            db.close()
        finally:
            self.slots.release()

    def _open(self) -> Database:
        conn = sqlite3.connect(str(self.path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                               check_same_thread=False)  # taken and given back by different threads
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        db = Database(conn)
        db.huddle_write_lock = write_lock(self.path)
        return db


def _pool() -> Pool:
    pool = current_app.extensions.get(POOL)
    if pool is None:
        with _POOLS_GUARD:
            pool = current_app.extensions.setdefault(POOL, Pool(current_app.config["HUDDLE"].database))
    return pool


def get_db() -> Database:
    if "db" not in g:
        g.db = _pool().take()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        _pool().give(db)
