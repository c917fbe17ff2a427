"""Pairing codes: how a signer agent gets its API token (DESIGN, "The agent's protocol").

A signed-in member makes a code in the web UI and pastes it into
``huddle agent pair``. A code is single-use, expires in minutes, is stored only
as its SHA-256 hash, and is bound to the member who made it: redeeming it gives
an ``agent``-scoped API token of that member (api_tokens), nothing more.

A code is 20 Crockford base32 characters (100 bits) in groups of five, so it
can be typed; a guess is hopeless at the rate limit (web/limits.py) within its
ten minutes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlite_utils import Database

from ..errors import Gone, InvalidInput, NotFound
from ..store.db import write
from . import api_tokens, tokens, users

TTL = 10 * 60
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
LENGTH = 20
MAX_LABEL = 48


@dataclass(frozen=True)
class Pairing:
    id: int
    user_id: int
    created_at: int
    expires_at: int
    used_at: int | None
    token_id: str | None

    @classmethod
    def from_row(cls, row: dict) -> "Pairing":
        return cls(row["id"], row["user_id"], row["created_at"], row["expires_at"], row["used_at"],
                   row["token_id"])

    def to_dict(self) -> dict:
        return {"id": self.id, "created_at": self.created_at, "expires_at": self.expires_at,
                "used": self.used_at is not None, "token_id": self.token_id}


def normalize(code: object) -> str:
    """The code as typed, without separators or case; O, I and L read as 0, 1, 1."""
    if not isinstance(code, str):
        return ""
    text = "".join(code.split()).replace("-", "").upper()
    return text.translate(str.maketrans("OIL", "011"))


def create(db: Database, user_id: int, ttl: int = TTL, now: int | None = None) -> tuple[Pairing, str]:
    """A new code for ``user_id`` (shown once; only its hash is stored)."""
    at = tokens.now() if now is None else now
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    with write(db):
        cursor = db.execute("INSERT INTO agent_pairings (code_hash, user_id, created_at, expires_at) "
                            "VALUES (?, ?, ?, ?)", [tokens.hash_secret(raw), user_id, at, at + ttl])
    code = "-".join(raw[i:i + 5] for i in range(0, LENGTH, 5))
    return _get(db, cursor.lastrowid), code


def redeem(db: Database, code: object, label: object,
           now: int | None = None) -> tuple[users.User, api_tokens.ApiToken, str]:
    """Spend the code: an ``agent`` token of the member who made it, and its text (shown once)."""
    label = _check_label(label)
    at = tokens.now() if now is None else now
    with write(db):
        rows = list(db.query("SELECT * FROM agent_pairings WHERE code_hash = ?",
                             [tokens.hash_secret(normalize(code))]))
        if not rows or len(normalize(code)) != LENGTH:
            raise NotFound("pairing_not_found", "no such pairing code; check it, or make a new one")
        pairing = Pairing.from_row(rows[0])
        if pairing.used_at is not None:
            raise Gone("pairing_used", "this pairing code was already used; make a new one")
        if at >= pairing.expires_at:
            raise Gone("pairing_expired", "this pairing code has expired; make a new one")
        user = users.get(db, pairing.user_id)
        if user.revoked_at is not None:
            raise Gone("pairing_expired", "this pairing code's user was revoked")
        token, text = api_tokens.create(db, user.id, ["agent"], f"agent: {label}", now=at)
        db.execute("UPDATE agent_pairings SET used_at = ?, token_id = ? WHERE id = ?", [at, token.id, pairing.id])
    return user, token, text


def list_for(db: Database, user_id: int) -> list[Pairing]:
    """The member's own codes, newest first (others' are never shown)."""
    return [Pairing.from_row(r) for r in db.query(
        "SELECT * FROM agent_pairings WHERE user_id = ? ORDER BY created_at DESC, id DESC", [user_id])]


def _check_label(label: object) -> str:
    if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL or not label.isprintable():
        raise InvalidInput("bad_input", f"an agent label is 1 to {MAX_LABEL} printable characters")
    return label.strip()


def _get(db: Database, pairing_id: int) -> Pairing:
    return Pairing.from_row(next(db.query("SELECT * FROM agent_pairings WHERE id = ?", [pairing_id])))
