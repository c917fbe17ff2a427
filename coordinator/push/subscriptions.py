"""A member's push subscriptions, one per device (the browser's endpoint is the
device's), each with the kinds of notice the member chose on it."""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlite_utils import Database

from ..errors import InvalidInput, NotFound
from ..store.db import write
from . import errors  # noqa: F401  (registers the codes)

KINDS = ("approve", "sign", "confirmed")  # a proposal to approve, a signature asked for, a broadcast confirmed
MAX_PER_USER = 10
MAX_ENDPOINT = 1000


@dataclass(frozen=True)
class Subscription:
    id: int
    user_id: int
    endpoint: str
    p256dh: str
    auth: str
    kinds: tuple[str, ...]

    def info(self) -> dict:
        """What pywebpush takes (the browser's PushSubscription.toJSON())."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}

    def to_dict(self) -> dict:
        return {"id": self.id, "endpoint": self.endpoint, "kinds": list(self.kinds)}


def check(subscription: object, kinds: object, allow_http: bool) -> tuple[str, str, str, tuple[str, ...]]:
    """(endpoint, p256dh, auth, kinds) from a PushSubscription's JSON, or bad_subscription."""
    if not isinstance(subscription, dict) or not isinstance(subscription.get("keys"), dict):
        raise InvalidInput("bad_subscription", "subscription must be a PushSubscription's JSON: endpoint and keys")
    endpoint = subscription.get("endpoint")
    schemes = ("https", "http") if allow_http else ("https",)
    if not isinstance(endpoint, str) or len(endpoint) > MAX_ENDPOINT or urlsplit(endpoint).scheme not in schemes \
            or not urlsplit(endpoint).hostname:
        raise InvalidInput("bad_subscription", f"the endpoint must be an {' or '.join(schemes)} URL of at most "
                           f"{MAX_ENDPOINT} characters")
    p256dh = _key(subscription["keys"].get("p256dh"), 65, "p256dh")
    if p256dh[0] != 4:
        raise InvalidInput("bad_subscription", "p256dh must be an uncompressed P-256 point (RFC 8291)")
    _key(subscription["keys"].get("auth"), 16, "auth")
    if not isinstance(kinds, list) or any(k not in KINDS for k in kinds):
        raise InvalidInput("bad_subscription", f"kinds is a list of {', '.join(KINDS)}")
    chosen = tuple(k for k in KINDS if k in kinds)
    return endpoint, subscription["keys"]["p256dh"], subscription["keys"]["auth"], chosen


def _key(text: object, size: int, name: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(str(text) + "=" * (-len(str(text)) % 4)) if isinstance(text, str) else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != size:
        raise InvalidInput("bad_subscription", f"keys.{name} must be {size} bytes, base64url")
    return raw


def save(db: Database, user_id: int, subscription: object, kinds: object, allow_http: bool) -> Subscription:
    """Add or update this device's subscription (a device another member used is theirs now)."""
    endpoint, p256dh, auth, chosen = check(subscription, kinds, allow_http)
    with write(db):
        count = db.execute("SELECT count(*) FROM push_subscriptions WHERE user_id = ? AND endpoint != ?",
                           [user_id, endpoint]).fetchone()[0]
        if count >= MAX_PER_USER:
            raise InvalidInput("too_many_subscriptions", f"at most {MAX_PER_USER} devices per member")
        db.execute("INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, kinds, created_at) "
                   "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, "
                   "p256dh = excluded.p256dh, auth = excluded.auth, kinds = excluded.kinds",
                   [user_id, endpoint, p256dh, auth, ",".join(chosen), int(time.time())])
    return next(s for s in of_user(db, user_id) if s.endpoint == endpoint)


def remove(db: Database, user_id: int, endpoint: object) -> None:
    with write(db):
        gone = db.execute("DELETE FROM push_subscriptions WHERE user_id = ? AND endpoint = ?",
                          [user_id, str(endpoint)]).rowcount
    if not gone:
        raise NotFound("subscription_not_found", "no push subscription of yours has that endpoint")


def forget(db: Database, endpoint: str) -> None:
    """The push service said the subscription is gone (404/410, RFC 8030 section 7.3)."""
    with write(db):
        db.execute("DELETE FROM push_subscriptions WHERE endpoint = ?", [endpoint])


def of_user(db: Database, user_id: int) -> list[Subscription]:
    return _select(db, "user_id = ?", [user_id])


def wanting(db: Database, user_ids: list[int], kind: str) -> list[Subscription]:
    """The subscriptions of these members that chose ``kind``."""
    if not user_ids:
        return []
    marks = ",".join("?" * len(user_ids))
    return [s for s in _select(db, f"user_id IN ({marks})", user_ids) if kind in s.kinds]


def any_exist(db: Database) -> bool:
    return db.execute("SELECT 1 FROM push_subscriptions LIMIT 1").fetchone() is not None


def _select(db: Database, where: str, args: list) -> list[Subscription]:
    rows = db.execute(f"SELECT id, user_id, endpoint, p256dh, auth, kinds FROM push_subscriptions WHERE {where} "
                      "ORDER BY id", args).fetchall()
    return [Subscription(*r[:5], tuple(k for k in r[5].split(",") if k)) for r in rows]
