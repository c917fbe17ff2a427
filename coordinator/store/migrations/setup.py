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


@MIGRATIONS()
def m012_wallet_ids_never_reused(db: Database) -> None:
    """A wallet's audit chain is named by its id (``wallet:<id>``), and SQLite
    reuses the highest rowid once its row is deleted: a new wallet would inherit
    (and show its members) a removed wallet's history. Removed ids are retired,
    and ``wallets.add`` numbers past them."""
    db.execute("CREATE TABLE retired_wallet_ids (id INTEGER PRIMARY KEY)")
    db.execute("""
        INSERT OR IGNORE INTO retired_wallet_ids (id)
        SELECT DISTINCT CAST(substr(chain, 8) AS INTEGER) FROM audit_log
        WHERE chain LIKE 'wallet:%' AND CAST(substr(chain, 8) AS INTEGER) NOT IN (SELECT id FROM wallets)""")
    db.execute("""
        CREATE TRIGGER wallets_retire_id AFTER DELETE ON wallets
        BEGIN INSERT OR IGNORE INTO retired_wallet_ids (id) VALUES (OLD.id); END""")
