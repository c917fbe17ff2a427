"""Web Push notifications (issue 13, docs/notifications.md): migrations m050-m054.

Never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database  # noqa: F401  (used by the migrations below)

from . import MIGRATIONS  # noqa: F401


@MIGRATIONS()
def m050_push_subscriptions(db: Database) -> None:
    """A member's push subscription on one device (its endpoint is the device's), with
    the kinds of notice they chose there."""
    db.execute("""
        CREATE TABLE push_subscriptions (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            endpoint TEXT NOT NULL UNIQUE,
            p256dh TEXT NOT NULL,
            auth TEXT NOT NULL,
            kinds TEXT NOT NULL,
            created_at INTEGER NOT NULL
        )""")
    db.execute("CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id)")


@MIGRATIONS()
def m051_push_cursor(db: Database) -> None:
    """How far through the outbox notices have been sent, shared by every server
    process so each event is notified once; it starts at the present (no notices
    for history)."""
    db.execute("CREATE TABLE push_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), last_id INTEGER NOT NULL)")
    db.execute("INSERT INTO push_cursor (id, last_id) SELECT 1, coalesce(max(id), 0) FROM outbox")
