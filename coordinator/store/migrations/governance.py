"""Governance migrations, m006-m010 (issue 10: audit log, outbox, coin locks,
proposals, approvals).

Never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database

from . import MIGRATIONS


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
