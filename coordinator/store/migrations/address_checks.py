"""Addresses verified on members' devices (issues 12 and 13; docs/agent.md, "Showing an
address when asked"): migrations m055-m059. Never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database

from . import MIGRATIONS


@MIGRATIONS()
def m055_address_checks(db: Database) -> None:
    """One row per check asked of a member's agents: the slot and the server's derivation;
    the answer (verified, mismatch or refused; the device, the address it showed, why)
    is filled in once."""
    db.execute("""
        CREATE TABLE address_checks (
            id TEXT PRIMARY KEY,
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            branch INTEGER NOT NULL CHECK (branch IN (0, 1)),
            idx INTEGER NOT NULL CHECK (idx >= 0),
            address TEXT NOT NULL,
            asked_at INTEGER NOT NULL,
            outcome TEXT CHECK (outcome IN ('verified', 'mismatch', 'refused')),
            fingerprint TEXT,
            device TEXT,
            shown TEXT,
            reason TEXT,
            answered_at INTEGER
        )""")
    db.execute("CREATE INDEX address_checks_by_wallet ON address_checks (wallet_id, answered_at)")
