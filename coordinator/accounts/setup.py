"""The first run: a one-time setup link makes the first admin.

While no admin exists, ``issue_token`` makes a fresh setup token (replacing an
unused one: only its hash is kept, so a restart cannot print the old one) for
``huddle serve`` to print. ``complete`` spends it; after that there is none.
"""

from __future__ import annotations

from sqlite_utils import Database

from ..errors import Gone, Unauthenticated
from ..governance import audit
from ..store.db import write
from . import tokens, users


def needs_setup(db: Database) -> bool:
    return db.execute("SELECT 1 FROM users WHERE is_admin = 1 LIMIT 1").fetchone() is None


def issue_token(db: Database, now: int | None = None) -> str | None:
    """A new setup token while the server has no admin; None once it has one."""
    with write(db):
        if not needs_setup(db):
            return None
        token = tokens.new_secret()
        db.execute("INSERT INTO setup_tokens (id, token_hash, created_at) VALUES (1, ?, ?) "
                   "ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash, "
                   "created_at = excluded.created_at",
                   [tokens.hash_secret(token), tokens.now() if now is None else now])
    return token


def check_token(db: Database, token: object) -> None:
    if not needs_setup(db):
        raise Gone("setup_done", "the server already has its admin; sign in instead")
    row = db.execute("SELECT token_hash FROM setup_tokens WHERE id = 1").fetchone()
    if row is None or not isinstance(token, str) or not tokens.same(row[0], tokens.hash_secret(token)):
        raise Unauthenticated("bad_setup_token", "the setup link is wrong; use the one `huddle serve` printed")


def complete(db: Database, token: str, name: str, now: int | None = None) -> users.User:
    """Spend the setup token and create the admin, in one transaction."""
    with write(db):
        check_token(db, token)
        admin = users.create(db, name, is_admin=True, now=now)
        db.execute("DELETE FROM setup_tokens WHERE id = 1")
        audit.append(db, audit.SERVER_CHAIN, "admin_created", {"user": admin.id, "name": admin.name},
                     actor=f"user:{admin.id}", at=now)
    return admin
