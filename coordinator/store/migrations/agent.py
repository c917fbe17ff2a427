"""Signer-agent pairing migration, m015 (issue 12, docs/agent.md "Pairing").

Never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database

from . import MIGRATIONS


@MIGRATIONS()
def m015_agent_pairings(db: Database) -> None:
    """A pairing code, stored as its hash: single-use, expiring, bound to the
    user who made it; once redeemed, the API token it became."""
    db.execute("""
        CREATE TABLE agent_pairings (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            code_hash TEXT NOT NULL UNIQUE,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            used_at INTEGER,
            token_id TEXT REFERENCES api_tokens(id)
        )""")
    db.execute("CREATE INDEX agent_pairings_by_user ON agent_pairings (user_id)")
