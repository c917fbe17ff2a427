"""Login sessions, kept on the server so that logging out and revoking a user
end them at once (a signed cookie alone could not be taken back).

The cookie holds a random session token; the table keeps its SHA-256 hash and
the session's CSRF token, which the client echoes in ``X-Huddle-CSRF``
(docs/api.md, "CSRF").
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from ..store.db import write
from . import tokens, users

TTL = 14 * 24 * 3600


@dataclass(frozen=True)
class Session:
    user: users.User
    csrf_token: str
    expires_at: int


def start(db: Database, user_id: int, now: int | None = None) -> tuple[str, Session]:
    """A new session: its cookie token (shown once) and the session."""
    at = tokens.now() if now is None else now
    token, csrf = tokens.new_secret(), tokens.new_secret()
    with write(db):
        db.execute("INSERT INTO login_sessions (id_hash, user_id, csrf_token, created_at, expires_at) "
                   "VALUES (?, ?, ?, ?, ?)", [tokens.hash_secret(token), user_id, csrf, at, at + TTL])
    return token, Session(users.get(db, user_id), csrf, at + TTL)


def resolve(db: Database, token: str | None, now: int | None = None) -> Session | None:
    """The live session behind a cookie token, or None."""
    if not token or len(token) > 128:
        return None
    row = db.execute("SELECT user_id, csrf_token, expires_at FROM login_sessions "
                     "WHERE id_hash = ? AND revoked_at IS NULL", [tokens.hash_secret(token)]).fetchone()
    if row is None or (tokens.now() if now is None else now) >= row[2]:
        return None
    user = users.get(db, row[0])
    return None if user.revoked_at is not None else Session(user, row[1], row[2])


def end(db: Database, token: str, now: int | None = None) -> None:
    with write(db):
        db.execute("UPDATE login_sessions SET revoked_at = ? WHERE id_hash = ? AND revoked_at IS NULL",
                   [tokens.now() if now is None else now, tokens.hash_secret(token)])
