"""Accounts migration, m005 (issue 10: the server's users and their access).

Never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database

from . import MIGRATIONS


_ROLE = "role TEXT NOT NULL CHECK (role IN ('admin', 'keyholder', 'viewer'))"


_M005_TABLES = (
    """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            is_admin INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
            created_at INTEGER NOT NULL,
            revoked_at INTEGER
        )""",
    """
        CREATE TABLE setup_tokens (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            token_hash TEXT NOT NULL,
            created_at INTEGER NOT NULL
        )""",
    f"""
        CREATE TABLE memberships (
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            {_ROLE},
            PRIMARY KEY (user_id, wallet_id)
        )""",
    f"""
        CREATE TABLE invites (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            {_ROLE},
            created_by INTEGER NOT NULL REFERENCES users(id),
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            used_at INTEGER,
            used_by INTEGER REFERENCES users(id)
        )""",
    """
        CREATE TABLE passkeys (
            credential_id TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            public_key TEXT NOT NULL,
            sign_count INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL
        )""",
    """
        CREATE TABLE recovery_codes (
            code_hash TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            used_at INTEGER
        )""",
    """
        CREATE TABLE api_tokens (
            id TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            secret_hash TEXT NOT NULL,
            scopes TEXT NOT NULL,
            label TEXT NOT NULL DEFAULT '',
            created_at INTEGER NOT NULL,
            expires_at INTEGER,
            revoked_at INTEGER
        )""",
    """
        CREATE TABLE login_sessions (
            id_hash TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            csrf_token TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            revoked_at INTEGER
        )""",
    """
        CREATE TABLE webauthn_challenges (
            challenge TEXT PRIMARY KEY,
            purpose TEXT NOT NULL,
            subject TEXT NOT NULL,
            expires_at INTEGER NOT NULL
        )""",
)


@MIGRATIONS()
def m005_accounts(db: Database) -> None:
    """Users, per-wallet roles, invites, passkeys, recovery codes, API tokens and
    login sessions (issue 10). Secrets are stored only as SHA-256 hashes; times are
    UTC seconds."""
    for sql in _M005_TABLES:
        db.execute(sql)
