"""Sending notices, off the request thread (docs/notifications.md).

Each server process has one ``Dispatcher``. A commit wakes it (a targeted hook in
coordinator/web/__init__.py, after the outbox rows went to their sockets); its own
thread then claims the outbox rows after the shared cursor in one write
transaction, so every event is notified once whichever process claims it, and
sends the notices with pywebpush. A notice is sent at most once: a process that
dies between the claim and the send loses it (a notification is a nudge; the
truth is on the screen). Events written by the CLI go out on the next wake.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from ..governance import outbox
from ..store import open_database
from ..store.db import write
from . import notices, subscriptions

TTL = 24 * 3600  # seconds a push service keeps an undelivered notice (RFC 8030 section 5.2)
TIMEOUT = 10  # seconds per push service request
BATCH = 500  # outbox rows claimed at once
GONE = (404, 410)  # the subscription expired or was unsubscribed (RFC 8030 section 7.3)
log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, database: Path, key_file: Path, contact: str) -> None:
        self.database, self.key_file, self.contact = database, key_file, contact
        self.event = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def wake(self) -> None:
        """Never blocks: the thread does the work."""
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="huddle-push", daemon=True)
                self.thread.start()
        self.event.set()

    def _run(self) -> None:
        while True:
            self.event.wait()
            self.event.clear()
            try:
                self.deliver_new()
            except Exception as err:  # noqa: BLE001  (a busy database: the next wake claims the rows)
                log.warning("push notices: %s", err)

    def deliver_new(self) -> int:
        """Claim and send every notice due; the number sent."""
        db = open_database(self.database)
        try:
            sent = 0
            while True:
                found, more = claim(db)
                sent += sum(self._send(db, notice) for notice in found)
                if not more:
                    return sent
        finally:
            db.close()

    def _send(self, db, notice: notices.Notice) -> bool:
        from pywebpush import WebPushException, webpush  # only now: it imports requests and aiohttp

        try:
            webpush(notice.subscription.info(), notice.body(), vapid_private_key=str(self.key_file),
                    vapid_claims={"sub": self.contact}, ttl=TTL, timeout=TIMEOUT)
            return True
        except WebPushException as err:
            status = getattr(err.response, "status_code", None)
            if status in GONE:
                subscriptions.forget(db, notice.subscription.endpoint)
            log.warning("push to subscription %s: %s", notice.subscription.id, status or err)
        except Exception as err:  # noqa: BLE001  (a push service down or slow: the notice is dropped)
            log.warning("push to subscription %s: %s", notice.subscription.id, err)
        return False


def claim(db) -> tuple[list[notices.Notice], bool]:
    """(the notices of the outbox rows after the cursor, whether more rows wait), moving
    the cursor past them in the same transaction."""
    with write(db):
        cursor = db.execute("SELECT last_id FROM push_cursor WHERE id = 1").fetchone()[0]
        rows = outbox.after_id(db, cursor)[:BATCH]
        if not rows:
            return [], False
        found = [n for row in rows for n in notices.for_event(db, row)] if subscriptions.any_exist(db) else []
        db.execute("UPDATE push_cursor SET last_id = ? WHERE id = 1", [rows[-1].id])
    return found, len(rows) == BATCH


def contact_for(origin: str) -> str:
    """The VAPID ``sub`` claim (RFC 8292 section 2.1): the server's https origin, or a
    mailto: on a plain-http development origin (push services want one of the two)."""
    return origin if origin.startswith("https://") else "mailto:admin@localhost"
