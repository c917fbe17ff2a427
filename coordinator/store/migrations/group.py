"""Group migrations, m013-m014 (issue 10: server invites, proposal comments).

Never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database

from . import MIGRATIONS


@MIGRATIONS()
def m013_server_invites(db: Database) -> None:
    """An invite may be to the server alone (no wallet and no role): a fresh
    server's admin brings in the people who will own a draft's slots. Nothing
    references ``invites``, so it is rebuilt in place with both columns
    nullable, and always both or neither set."""
    db.execute("""
        CREATE TABLE invites_m013 (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            wallet_id INTEGER REFERENCES wallets(id) ON DELETE CASCADE,
            role TEXT CHECK (role IN ('admin', 'keyholder', 'viewer')),
            created_by INTEGER NOT NULL REFERENCES users(id),
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            used_at INTEGER,
            used_by INTEGER REFERENCES users(id),
            CHECK ((wallet_id IS NULL) = (role IS NULL))
        )""")
    db.execute("INSERT INTO invites_m013 SELECT id, token_hash, wallet_id, role, created_by, created_at, "
               "expires_at, used_at, used_by FROM invites")
    db.execute("DROP TABLE invites")
    db.execute("ALTER TABLE invites_m013 RENAME TO invites")


@MIGRATIONS()
def m014_proposal_comments(db: Database) -> None:
    """Comments on a proposal (issue 10 section 4). Like a memo, the text stays
    out of the audit chain, which keeps its hash, so it may be erased (NULL)."""
    db.execute("""
        CREATE TABLE proposal_comments (
            id INTEGER PRIMARY KEY,
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            proposal_id INTEGER NOT NULL REFERENCES proposals(id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users(id),
            text TEXT,
            text_hash TEXT NOT NULL,
            created_at INTEGER NOT NULL
        )""")
    db.execute("CREATE INDEX proposal_comments_by_proposal ON proposal_comments (proposal_id, id)")
