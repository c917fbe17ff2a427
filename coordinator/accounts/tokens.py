"""Random secrets and how they are stored: SHA-256 hashes, compared in constant time.

A secret has 256 bits of entropy, so a plain hash is enough: no one can
search the space, and a stolen database yields no usable secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time


def new_secret() -> str:
    """32 random bytes as URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def now() -> int:
    return int(time.time())
