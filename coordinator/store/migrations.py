"""Versioned schema migrations (sqlite-utils ``Migrations``).

Append new migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

import hashlib

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from ..errors import StorageError

MIGRATIONS = Migrations("huddle")


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


@MIGRATIONS()
def m006_audit_log(db: Database) -> None:
    """The append-only audit log: one hash chain per chain key (issue 10,
    DESIGN.md). Triggers refuse edits and deletes, so only someone who drops
    them can rewrite history, and ``huddle audit verify`` catches that."""
    db.execute("""
        CREATE TABLE audit_log (
            chain TEXT NOT NULL,
            seq INTEGER NOT NULL CHECK (seq >= 1),
            prev_hash TEXT NOT NULL,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            type TEXT NOT NULL,
            body TEXT NOT NULL,
            hash TEXT NOT NULL,
            PRIMARY KEY (chain, seq)
        )""")
    for action in ("UPDATE", "DELETE"):
        db.execute(f"""
            CREATE TRIGGER audit_log_no_{action.lower()} BEFORE {action} ON audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""")


@MIGRATIONS()
def m007_outbox(db: Database) -> None:
    """Real-time events, written in the same transaction as the change they
    announce (DESIGN.md, "Real-time events"): ``seq`` is per room and comes from
    this table, so every process agrees on it and a crash loses nothing committed."""
    db.execute("""
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            room TEXT NOT NULL,
            seq INTEGER NOT NULL CHECK (seq >= 1),
            type TEXT NOT NULL,
            at INTEGER NOT NULL,
            audit_head TEXT NOT NULL,
            data TEXT NOT NULL,
            UNIQUE (room, seq)
        )""")


@MIGRATIONS()
def m008_coin_locks(db: Database) -> None:
    """An outpoint belongs to at most one active proposal family (issue 10): the
    primary key is the lock, so two proposals racing for a coin cannot both win."""
    db.execute("""
        CREATE TABLE coin_locks (
            txid TEXT NOT NULL,
            vout INTEGER NOT NULL CHECK (vout >= 0),
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            family_id TEXT NOT NULL,
            locked_at INTEGER NOT NULL,
            PRIMARY KEY (txid, vout)
        )""")
    db.execute("CREATE INDEX coin_locks_by_family ON coin_locks (family_id)")


@MIGRATIONS()
def m009_proposals(db: Database) -> None:
    """Spend proposals (issue 10). A family is a proposal and its fee-bump
    replacements; at most one of them is open. The memo may be erased (NULL):
    the intent commits to its hash, so the audit chain does not break."""
    db.execute("""
        CREATE TABLE proposals (
            id INTEGER PRIMARY KEY,
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            family_id TEXT NOT NULL,
            replaces INTEGER REFERENCES proposals(id),
            proposer INTEGER NOT NULL REFERENCES users(id),
            state TEXT NOT NULL CHECK (state IN ('open', 'cancelled', 'expired', 'replaced', 'broadcast')),
            memo TEXT,
            intent TEXT NOT NULL,
            psbt TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        )""")
    db.execute("CREATE INDEX proposals_by_wallet ON proposals (wallet_id, state)")
    db.execute("CREATE UNIQUE INDEX proposals_one_open_per_family ON proposals (family_id) WHERE state = 'open'")


@MIGRATIONS()
def m010_approvals(db: Database) -> None:
    """Passkey approvals (issue 10): the assertion itself, so anyone holding the
    member's pinned public key can re-verify it. They belong to a proposal's
    family, whose intent they sign; one per member and passkey."""
    db.execute("""
        CREATE TABLE approvals (
            id INTEGER PRIMARY KEY,
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            proposal_id INTEGER NOT NULL REFERENCES proposals(id) ON DELETE CASCADE,
            family_id TEXT NOT NULL,
            user_id INTEGER NOT NULL REFERENCES users(id),
            credential_id TEXT NOT NULL,
            authenticator_data TEXT NOT NULL,
            client_data_json TEXT NOT NULL,
            signature TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (family_id, user_id, credential_id)
        )""")


def _wtxid(raw: bytes) -> str:
    """BIP-141 wtxid: double SHA-256 of the whole serialization, display order.
    A private copy: a shipped migration must not change with later code."""
    return hashlib.sha256(hashlib.sha256(raw).digest()).digest()[::-1].hex()


def check_not_newer(db: Database) -> None:
    """Refuse a database written by a newer Huddle: its schema is unknown to us."""
    known = {m.name for m in MIGRATIONS.pending(Database(memory=True))}  # all we ship
    unknown = [m.name for m in MIGRATIONS.applied(db) if m.name not in known]
    if unknown:
        raise StorageError(
            "database_error",
            f"the database was migrated by a newer Huddle ({unknown[-1]}); upgrade Huddle",
        )
