"""Per-user API tokens for the signer agent: stored hashed, scoped, revocable.

A token reads ``hdl_<id>_<secret>``: the 16-hex-digit id finds the row, the
43-character secret is checked against its SHA-256 hash in constant time. The
``hdl_`` prefix lets secret scanners spot a leaked token.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlite_utils import Database

from ..errors import AccessDenied, InvalidInput, NotFound, Unauthenticated
from ..store.db import write
from . import tokens, users

SCOPES = ("read", "agent")  # read: GET requests only; agent: the signer agent's calls, reads included
_FORMAT = re.compile(r"hdl_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class ApiToken:
    id: str
    user_id: int
    scopes: tuple[str, ...]
    label: str
    created_at: int
    expires_at: int | None
    revoked_at: int | None

    @classmethod
    def from_row(cls, row: dict) -> "ApiToken":
        return cls(row["id"], row["user_id"], tuple(row["scopes"].split()), row["label"], row["created_at"],
                   row["expires_at"], row["revoked_at"])

    def to_dict(self) -> dict:
        return {"id": self.id, "scopes": list(self.scopes), "label": self.label, "created_at": self.created_at,
                "expires_at": self.expires_at, "revoked": self.revoked_at is not None}


def create(db: Database, user_id: int, scopes: list[str], label: str = "", ttl: int | None = None,
           now: int | None = None) -> tuple[ApiToken, str]:
    """A new token and its text (shown once)."""
    if not scopes or any(s not in SCOPES for s in scopes):
        raise InvalidInput("bad_scope", f"token scopes are some of {', '.join(SCOPES)}")
    if not isinstance(label, str) or len(label) > 64:
        raise InvalidInput("bad_input", "a token label is at most 64 characters")
    at = tokens.now() if now is None else now
    token_id, secret = secrets.token_hex(8), tokens.new_secret()
    with write(db):
        db.execute("INSERT INTO api_tokens (id, user_id, secret_hash, scopes, label, created_at, expires_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)", [token_id, user_id, tokens.hash_secret(secret),
                                                    " ".join(sorted(set(scopes))), label, at,
                                                    None if ttl is None else at + ttl])
    return _get(db, token_id), f"hdl_{token_id}_{secret}"


def authenticate(db: Database, text: str, scope: str, now: int | None = None) -> tuple[users.User, ApiToken]:
    """The user behind a token that is live and has ``scope``."""
    match = _FORMAT.fullmatch(text or "")
    rows = list(db.query("SELECT * FROM api_tokens WHERE id = ?", [match.group(1)])) if match else []
    if not rows or not tokens.same(rows[0]["secret_hash"], tokens.hash_secret(match.group(2))):
        raise Unauthenticated("bad_token", "the API token is wrong, expired or revoked")
    token = ApiToken.from_row(rows[0])
    at = tokens.now() if now is None else now
    user = users.get(db, token.user_id)
    if token.revoked_at is not None or user.revoked_at is not None or (
            token.expires_at is not None and at >= token.expires_at):
        raise Unauthenticated("bad_token", "the API token is wrong, expired or revoked")
    if scope not in token.scopes and not (scope == "read" and "agent" in token.scopes):
        raise AccessDenied("forbidden", f"this API token lacks the {scope!r} scope")
    return user, token


def revoke(db: Database, user_id: int, token_id: str, now: int | None = None) -> None:
    with write(db):
        cursor = db.execute("UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? AND user_id = ?",
                            [tokens.now() if now is None else now, token_id, user_id])
        if cursor.rowcount != 1:
            raise NotFound("token_not_found", "you have no API token with this id")


def list_for(db: Database, user_id: int) -> list[ApiToken]:
    return [ApiToken.from_row(r) for r in db.query(
        "SELECT * FROM api_tokens WHERE user_id = ? ORDER BY created_at, id", [user_id])]


def _get(db: Database, token_id: str) -> ApiToken:
    return ApiToken.from_row(next(db.query("SELECT * FROM api_tokens WHERE id = ?", [token_id])))
