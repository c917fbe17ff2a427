"""Users: a name, whether they administer the server, and whether they are revoked."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlite_utils import Database

from ..errors import Conflict, InvalidInput, NotFound
from ..store.db import write
from . import tokens

MAX_NAME = 64


@dataclass(frozen=True)
class User:
    id: int
    name: str
    is_admin: bool
    created_at: int
    revoked_at: int | None

    @classmethod
    def from_row(cls, row: dict) -> "User":
        return cls(row["id"], row["name"], bool(row["is_admin"]), row["created_at"], row["revoked_at"])

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "is_admin": self.is_admin}


def check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidInput("bad_user_name", f"a user name is 1 to {MAX_NAME} characters")
    if any(unicodedata.category(c)[0] == "C" for c in name):
        raise InvalidInput("bad_user_name", "a user name may not hold control or format characters")
    return name.strip()


def create(db: Database, name: str, is_admin: bool = False, now: int | None = None) -> User:
    name = check_name(name)
    with write(db):
        if db.execute("SELECT 1 FROM users WHERE name = ?", [name]).fetchone():
            raise Conflict("user_exists", f"a user named {name!r} already exists")
        cursor = db.execute("INSERT INTO users (name, is_admin, created_at) VALUES (?, ?, ?)",
                            [name, int(is_admin), tokens.now() if now is None else now])
    return get(db, cursor.lastrowid)


def get(db: Database, user_id: int) -> User:
    rows = list(db.query("SELECT * FROM users WHERE id = ?", [user_id]))
    if not rows:
        raise NotFound("user_not_found", f"no user {user_id}")
    return User.from_row(rows[0])


def list_all(db: Database) -> list[User]:
    return [User.from_row(r) for r in db.query("SELECT * FROM users ORDER BY id")]


def revoke(db: Database, user_id: int, now: int | None = None) -> None:
    """Cut a user off: their sessions and API tokens stop working at once."""
    at = tokens.now() if now is None else now
    with write(db):
        get(db, user_id)
        db.execute("UPDATE users SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [at, user_id])
        db.execute("UPDATE login_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                   [at, user_id])
        db.execute("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", [at, user_id])
