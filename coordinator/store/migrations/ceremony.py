"""Live signing ceremonies: signatures, ceremony state, presence, leases (issue 11, docs/ceremony.md): migrations m030-m039.

Never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database

from . import MIGRATIONS


@MIGRATIONS()
def m030_ceremonies(db: Database) -> None:
    """One signing ceremony per proposal: its state (docs/ceremony.md) and, once
    finalized, the transaction it broadcast and the block that confirmed it."""
    db.execute("""
        CREATE TABLE ceremonies (
            proposal_id INTEGER PRIMARY KEY REFERENCES proposals(id) ON DELETE CASCADE,
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            state TEXT NOT NULL CHECK (state IN ('collecting', 'ready', 'broadcasting', 'broadcast', 'confirmed',
                                                 'cancelled', 'expired', 'failed', 'replaced')),
            txid TEXT,
            height INTEGER,
            reason TEXT,
            updated_at INTEGER NOT NULL
        )""")
    db.execute("CREATE INDEX ceremonies_by_state ON ceremonies (state, wallet_id)")


@MIGRATIONS()
def m031_signatures(db: Database) -> None:
    """Signatures, append-only: one row per (proposal, input, key), each verified by the
    PSBT engine's merge before it is stored; the PSBT is combined from them on read."""
    db.execute("""
        CREATE TABLE signatures (
            id INTEGER PRIMARY KEY,
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            proposal_id INTEGER NOT NULL REFERENCES proposals(id) ON DELETE CASCADE,
            input INTEGER NOT NULL CHECK (input >= 0),
            pubkey TEXT NOT NULL,
            signature TEXT NOT NULL,
            user_id INTEGER REFERENCES users(id),
            channel TEXT NOT NULL CHECK (channel IN ('upload', 'agent', 'qr')),
            created_at INTEGER NOT NULL,
            UNIQUE (proposal_id, input, pubkey)
        )""")
    db.execute("""
        CREATE TRIGGER signatures_no_update BEFORE UPDATE ON signatures
        BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END""")


@MIGRATIONS()
def m032_ceremony_settings(db: Database) -> None:
    """Per-wallet ceremony settings: broadcast as soon as the threshold is reached, or
    only when a member confirms (the default)."""
    db.execute("""
        CREATE TABLE ceremony_settings (
            wallet_id INTEGER PRIMARY KEY REFERENCES wallets(id) ON DELETE CASCADE,
            auto_broadcast INTEGER NOT NULL DEFAULT 0 CHECK (auto_broadcast IN (0, 1))
        )""")


@MIGRATIONS()
def m033_watcher_lease(db: Database) -> None:
    """Leases: a named job (the chain watcher) runs in one process at a time; the
    holder renews before ``expires_at`` or another process takes over."""
    db.execute("""
        CREATE TABLE watcher_leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            expires_at REAL NOT NULL
        )""")


@MIGRATIONS()
def m034_sign_requests_and_heads(db: Database) -> None:
    """Sign requests sent to a member's agents (contracts: ``sign_request``), and the
    latest audit head each member's agent signed per wallet, relayed as ``signed_heads``."""
    db.execute("""
        CREATE TABLE sign_requests (
            id TEXT PRIMARY KEY,
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            proposal_id INTEGER NOT NULL REFERENCES proposals(id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users(id),
            asked_by INTEGER NOT NULL REFERENCES users(id),
            created_at INTEGER NOT NULL
        )""")
    db.execute("""
        CREATE TABLE agent_heads (
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users(id),
            seq INTEGER NOT NULL CHECK (seq >= 0),
            hash TEXT NOT NULL,
            signature TEXT NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (wallet_id, user_id)
        )""")
