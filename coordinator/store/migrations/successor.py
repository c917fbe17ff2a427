"""Successor wallets, sweeps and retired wallets (issue 15, docs/successor.md):
migrations m045-m049.

Never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database  # noqa: F401  (used by the migrations below)

from . import MIGRATIONS  # noqa: F401


@MIGRATIONS()
def m045_successor_drafts(db: Database) -> None:
    """A setup draft started from an active wallet: which wallet it succeeds, who
    started it, and which old slots it keeps (old position -> new position)."""
    db.execute("""
        CREATE TABLE successor_drafts (
            draft_id INTEGER PRIMARY KEY REFERENCES wallet_drafts(id) ON DELETE CASCADE,
            old_wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            started_by INTEGER NOT NULL REFERENCES users(id),
            started_at INTEGER NOT NULL,
            kept TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX successor_drafts_by_wallet ON successor_drafts (old_wallet_id)")


@MIGRATIONS()
def m046_wallet_successions(db: Database) -> None:
    """A retired wallet and its successor; the coins it held when it retired, so that
    a coin arriving later is told apart (and flagged)."""
    db.execute("""
        CREATE TABLE wallet_successions (
            old_wallet_id INTEGER PRIMARY KEY REFERENCES wallets(id) ON DELETE CASCADE,
            new_wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            draft_id INTEGER NOT NULL,
            retired_at INTEGER NOT NULL
        )""")
    db.execute("CREATE INDEX wallet_successions_by_new ON wallet_successions (new_wallet_id)")
    db.execute("""
        CREATE TABLE retirement_coins (
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            txid TEXT NOT NULL,
            vout INTEGER NOT NULL,
            late INTEGER NOT NULL DEFAULT 0,
            value INTEGER NOT NULL,
            seen_at INTEGER NOT NULL,
            PRIMARY KEY (wallet_id, txid, vout)
        )""")


@MIGRATIONS()
def m047_sweeps(db: Database) -> None:
    """A sweep proposal: a batch of the retired wallet's coins to a successor address."""
    db.execute("""
        CREATE TABLE sweeps (
            proposal_id INTEGER PRIMARY KEY REFERENCES proposals(id) ON DELETE CASCADE,
            old_wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            new_wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            address TEXT NOT NULL,
            batch INTEGER NOT NULL,
            batches INTEGER NOT NULL
        )""")
