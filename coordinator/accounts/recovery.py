"""One-time recovery codes: the fallback when a member has lost their passkey.

Ten codes of 80 random bits each, written ``xxxx-xxxx-xxxx-xxxx`` in base32;
stored as SHA-256 hashes; each works once. Issuing new codes voids the old ones.
"""

from __future__ import annotations

import base64
import secrets

from sqlite_utils import Database

from ..errors import Unauthenticated
from ..store.db import write
from . import tokens

COUNT = 10


def _new_code() -> str:
    text = base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()  # 16 characters
    return "-".join(text[i:i + 4] for i in range(0, 16, 4))


def _normal(code: str) -> str:
    """Forgive case, spaces and dashes, as people type codes."""
    plain = "".join(c for c in code.lower() if c not in " -")
    return "-".join(plain[i:i + 4] for i in range(0, len(plain), 4))


def issue(db: Database, user_id: int) -> list[str]:
    codes = [_new_code() for _ in range(COUNT)]
    with write(db):
        db.execute("DELETE FROM recovery_codes WHERE user_id = ?", [user_id])
        for code in codes:
            db.execute("INSERT INTO recovery_codes (code_hash, user_id) VALUES (?, ?)",
                       [tokens.hash_secret(code), user_id])
    return codes


def redeem(db: Database, code: object, now: int | None = None) -> int:
    """Spend a code; returns its user's id."""
    if not isinstance(code, str) or len(code) > 64:
        raise Unauthenticated("bad_recovery_code", "that recovery code is wrong or was already used")
    with write(db):
        row = db.execute("SELECT user_id FROM recovery_codes WHERE code_hash = ? AND used_at IS NULL",
                         [tokens.hash_secret(_normal(code))]).fetchone()
        if row is None:
            raise Unauthenticated("bad_recovery_code", "that recovery code is wrong or was already used")
        db.execute("UPDATE recovery_codes SET used_at = ? WHERE code_hash = ?",
                   [tokens.now() if now is None else now, tokens.hash_secret(_normal(code))])
    return row[0]


def remaining(db: Database, user_id: int) -> int:
    return db.execute("SELECT count(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL",
                      [user_id]).fetchone()[0]
