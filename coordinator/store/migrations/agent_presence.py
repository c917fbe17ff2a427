"""Which signer agents are connected, to any server process (issue 11 Build 6, issue 12;
docs/scaling.md, "Several processes on one host"): migrations m065-m069.

Never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database

from . import MIGRATIONS


@MIGRATIONS()
def m065_agent_connections(db: Database) -> None:
    """A server process (``host:pid:start``) and when it last said it was alive; each
    agent socket it holds. A process that stops renewing ``seen_at`` (killed) stops
    counting after the TTL, and the next process to renew deletes its rows."""
    db.execute("""
        CREATE TABLE agent_processes (
            process TEXT PRIMARY KEY,
            seen_at REAL NOT NULL
        )""")
    db.execute("""
        CREATE TABLE agent_connections (
            process TEXT NOT NULL REFERENCES agent_processes(process) ON DELETE CASCADE,
            sid TEXT NOT NULL,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            token_id TEXT NOT NULL,
            wallet_ids TEXT NOT NULL,
            connected_at INTEGER NOT NULL,
            PRIMARY KEY (process, sid)
        )""")
    db.execute("CREATE INDEX agent_connections_by_user ON agent_connections (user_id)")
