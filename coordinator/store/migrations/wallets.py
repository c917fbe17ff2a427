"""Wallet and chain migrations, m001-m004 (the command-line era).

Never edit one that has shipped; append new ones in a new module."""

from __future__ import annotations

import hashlib

from sqlite_utils import Database

from . import MIGRATIONS


@MIGRATIONS()
def m001_wallets(db: Database) -> None:
    db.execute("""
        CREATE TABLE wallets (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            network TEXT NOT NULL,
            descriptor TEXT NOT NULL,
            policy_id TEXT NOT NULL,
            script_type TEXT NOT NULL,
            threshold INTEGER NOT NULL,
            n INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (network, policy_id)
        )""")
    db.execute("""
        CREATE TABLE cosigners (
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            fingerprint TEXT NOT NULL,
            path TEXT NOT NULL,
            xpub TEXT NOT NULL,
            label TEXT NOT NULL DEFAULT '',
            device TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (wallet_id, position)
        )""")
    db.execute("""
        CREATE TABLE addresses (
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            branch INTEGER NOT NULL CHECK (branch IN (0, 1)),
            idx INTEGER NOT NULL CHECK (idx >= 0 AND idx < 2147483648),
            address TEXT NOT NULL,
            script_pubkey TEXT NOT NULL,
            issued_at TEXT,
            used INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (wallet_id, branch, idx)
        )""")
    db.execute("CREATE INDEX addresses_by_script ON addresses (script_pubkey)")


@MIGRATIONS()
def m002_chain(db: Database) -> None:
    """What chain sync knows per wallet, and the crash-safe broadcast log."""
    db.execute("""
        CREATE TABLE wallet_txs (
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            txid TEXT NOT NULL,
            net INTEGER NOT NULL,
            fee INTEGER NOT NULL,
            height INTEGER,
            block_hash TEXT,
            block_time INTEGER,
            raw TEXT,
            first_seen TEXT NOT NULL,
            PRIMARY KEY (wallet_id, txid)
        )""")
    db.execute("""
        CREATE TABLE wallet_utxos (
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            txid TEXT NOT NULL,
            vout INTEGER NOT NULL,
            value INTEGER NOT NULL,
            branch INTEGER NOT NULL CHECK (branch IN (0, 1)),
            idx INTEGER NOT NULL,
            height INTEGER,
            coinbase INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (wallet_id, txid, vout)
        )""")
    db.execute("""
        CREATE TABLE sync_state (
            wallet_id INTEGER PRIMARY KEY REFERENCES wallets(id) ON DELETE CASCADE,
            tip_height INTEGER NOT NULL,
            tip_hash TEXT NOT NULL,
            confirmed INTEGER NOT NULL,
            unconfirmed INTEGER NOT NULL,
            immature INTEGER NOT NULL,
            synced_at TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE broadcasts (
            txid TEXT PRIMARY KEY,
            raw TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('broadcasting', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX broadcasts_by_state ON broadcasts (state)")


@MIGRATIONS()
def m003_broadcasts_by_wtxid(db: Database) -> None:
    """Key broadcasts by wtxid: a corrected witness has the same txid (BIP-141)
    but is a different transaction to send, so each raw form gets its own row."""
    db.execute("ALTER TABLE broadcasts RENAME TO broadcasts_m002")
    db.execute("""
        CREATE TABLE broadcasts (
            wtxid TEXT PRIMARY KEY,
            txid TEXT NOT NULL,
            raw TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('broadcasting', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")
    old = db.execute("SELECT txid, raw, state, attempts, last_error, created_at, updated_at"
                     " FROM broadcasts_m002").fetchall()
    db.conn.executemany(
        "INSERT INTO broadcasts (wtxid, txid, raw, state, attempts, last_error, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(_wtxid(bytes.fromhex(row[1])), *row) for row in old])
    db.execute("DROP TABLE broadcasts_m002")  # its index goes with it
    db.execute("CREATE INDEX broadcasts_by_state ON broadcasts (state)")
    db.execute("CREATE INDEX broadcasts_by_txid ON broadcasts (txid)")


@MIGRATIONS()
def m004_wallet_birth_height(db: Database) -> None:
    """Where a rescan of the wallet may start, when its file says (BIP-393 ``bh``,
    Specter's ``blockheight``); NULL when unknown."""
    db.execute("ALTER TABLE wallets ADD COLUMN birth_height INTEGER CHECK (birth_height >= 0)")


def _wtxid(raw: bytes) -> str:
    """BIP-141 wtxid: double SHA-256 of the whole serialization, display order.
    A private copy: a shipped migration must not change with later code."""
    return hashlib.sha256(hashlib.sha256(raw).digest()).digest()[::-1].hex()
