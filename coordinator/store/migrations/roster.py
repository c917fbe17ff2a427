"""Agent keys, safety codes and the pinned roster (issue 10/12, DESIGN.md): migrations m025-m029.

Never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database

from . import MIGRATIONS


@MIGRATIONS()
def m025_agent_keys(db: Database) -> None:
    """Each user's agent public key (BIP-340 x-only hex), registered by an
    agent-scoped token. One active key per user; a replaced key keeps its row,
    because pinned rosters and old signatures still name it."""
    db.execute("""
        CREATE TABLE agent_keys (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            public_key TEXT NOT NULL,
            token_id TEXT,
            created_at INTEGER NOT NULL,
            replaced_at INTEGER
        )""")
    db.execute("CREATE UNIQUE INDEX agent_keys_one_active ON agent_keys (user_id) WHERE replaced_at IS NULL")


@MIGRATIONS()
def m026_pinned_rosters(db: Database) -> None:
    """Every roster a wallet has pinned, in order: version 1 at activation,
    one more per applied roster change. The body is the canonical (JCS) text
    whose SHA-256 is ``hash``; the latest version is the one in force."""
    db.execute("""
        CREATE TABLE pinned_rosters (
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            version INTEGER NOT NULL CHECK (version >= 1),
            hash TEXT NOT NULL,
            body TEXT NOT NULL,
            pinned_at INTEGER NOT NULL,
            PRIMARY KEY (wallet_id, version)
        )""")
    db.execute("""
        CREATE TABLE setup_agent_confirmations (
            draft_id INTEGER NOT NULL REFERENCES wallet_drafts(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            user_id INTEGER NOT NULL REFERENCES users(id),
            agent_key TEXT NOT NULL,
            roster_hash TEXT NOT NULL,
            signature TEXT NOT NULL,
            PRIMARY KEY (draft_id, position)
        )""")


@MIGRATIONS()
def m027_agent_approvals(db: Database) -> None:
    """Agent approvals: a BIP-340 signature by the member's pinned agent key
    over the intent digest. Like passkey approvals they belong to the family,
    so a fee bump within the intent keeps them."""
    db.execute("""
        CREATE TABLE agent_approvals (
            id INTEGER PRIMARY KEY,
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            proposal_id INTEGER NOT NULL REFERENCES proposals(id) ON DELETE CASCADE,
            family_id TEXT NOT NULL,
            user_id INTEGER NOT NULL REFERENCES users(id),
            agent_key TEXT NOT NULL,
            signature TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (family_id, user_id)
        )""")


@MIGRATIONS()
def m028_roster_changes(db: Database) -> None:
    """A proposed new roster for a wallet, and its keyholders' agent-key
    confirmations; it applies once M of them have confirmed (DESIGN.md)."""
    db.execute("""
        CREATE TABLE roster_changes (
            id INTEGER PRIMARY KEY,
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            base_version INTEGER NOT NULL,
            base_hash TEXT NOT NULL,
            body TEXT NOT NULL,
            hash TEXT NOT NULL,
            summary TEXT NOT NULL,
            proposed_by INTEGER NOT NULL REFERENCES users(id),
            proposed_at INTEGER NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'superseded')),
            applied_at INTEGER
        )""")
    db.execute("CREATE UNIQUE INDEX roster_changes_one_pending ON roster_changes (wallet_id) "
               "WHERE state = 'pending'")
    db.execute("""
        CREATE TABLE roster_change_confirmations (
            change_id INTEGER NOT NULL REFERENCES roster_changes(id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users(id),
            agent_key TEXT NOT NULL,
            signature TEXT NOT NULL,
            confirmed_at INTEGER NOT NULL,
            PRIMARY KEY (change_id, user_id)
        )""")
