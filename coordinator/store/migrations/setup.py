"""Wallet-setup ceremony migration, m011 (issue 10, docs/setup-ceremony.md).

Never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database

from . import MIGRATIONS


@MIGRATIONS()
def m011_wallet_drafts(db: Database) -> None:
    """A wallet being set up: its shape, then one slot per cosigner owned by a
    user, filled with their key and confirmed with the first address their
    device showed. It becomes a ``wallets`` row only once every slot confirmed."""
    db.execute("""
        CREATE TABLE wallet_drafts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            network TEXT NOT NULL,
            script_type TEXT NOT NULL CHECK (script_type IN ('wsh', 'sh-wsh')),
            threshold INTEGER NOT NULL CHECK (threshold >= 1),
            n INTEGER NOT NULL CHECK (n >= 2 AND n <= 15 AND threshold <= n),
            created_by INTEGER NOT NULL REFERENCES users(id),
            created_at INTEGER NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('collecting', 'confirming', 'active', 'cancelled')),
            descriptor TEXT,
            first_address TEXT,
            wallet_id INTEGER REFERENCES wallets(id)
        )""")
    db.execute("""
        CREATE TABLE draft_slots (
            draft_id INTEGER NOT NULL REFERENCES wallet_drafts(id) ON DELETE CASCADE,
            position INTEGER NOT NULL CHECK (position >= 0),
            user_id INTEGER NOT NULL REFERENCES users(id),
            key TEXT,
            filled_at INTEGER,
            confirmed_address TEXT,
            confirmed_at INTEGER,
            PRIMARY KEY (draft_id, position)
        )""")
    db.execute("CREATE INDEX draft_slots_by_user ON draft_slots (user_id)")
