"""One SQLite connection per request. The app migrates the database once at
start (``store.open_database``); a request only opens and sets the pragmas."""

from __future__ import annotations

import sqlite3

from flask import current_app, g
from sqlite_utils import Database

from ..store.db import BUSY_TIMEOUT_MS


def get_db() -> Database:
    if "db" not in g:
        conn = sqlite3.connect(str(current_app.config["HUDDLE"].database), isolation_level=None,
                               timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        g.db = Database(conn)
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()
