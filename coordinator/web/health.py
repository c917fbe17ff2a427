"""``GET /healthz`` for the reverse proxy, systemd and uptime monitors (docs/server.md).

No sign-in, and it says nothing but "ok": a cheap read of the schema proves the
database file is there and readable. Served at ``/healthz`` and, so that the
OpenAPI document describes it, at ``/api/v1/healthz``.
"""

from __future__ import annotations

import sqlite3

from flask import Blueprint, Flask, current_app, jsonify

from ..errors import StorageError
from .api import PREFIX

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    path = current_app.config["HUDDLE"].database.resolve()
    try:
        # mode=rw: a missing file is an error here, not a new empty database.
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=2)
        try:
            conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        # No path and no SQLite message: anyone may call this.
        raise StorageError("database_error", "the database does not answer") from None
    return jsonify({"status": "ok"})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp, url_prefix=PREFIX)
    app.register_blueprint(bp, name="health_root")
