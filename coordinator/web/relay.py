"""Outbox to sockets, in every server process (docs/scaling.md).

The outbox is the truth; a socket message is only a notification of it. Each
process tails the outbox with its own cursor (the outbox row id: ids are given
under SQLite's one write lock, so a reader that sees row N sees every row
before it) and sends each row to its room *on this process only*. So every
client gets every event once, in order, whichever process wrote it, and a
process killed after its commit loses nothing: the others find the row on
their next look.

The next look comes at once after a change this process made, on a wake-up
from the Redis message queue when one is configured (another process made the
change), and every ``POLL`` seconds in any case (a process that died before
waking the others, or a change made by the ``huddle`` CLI).
"""

from __future__ import annotations

import logging

from ..governance import outbox
from ..store import open_database

POLL = 0.25  # seconds between looks at the outbox when nothing woke us
WAKE_CHANNEL = "huddle-outbox"  # Redis pub/sub channel: "the outbox grew"
log = logging.getLogger(__name__)


class Relay:
    """One per process: the cursor, the lock that makes each row go out once,
    and the background task that tails the outbox."""

    def __init__(self, server, database, namespace: str, message_queue: str = "", cut=None) -> None:
        self.server, self.database, self.namespace, self.cut = server, database, namespace, cut
        self.cut_token = None  # set by agent_socket.init_app: cut this process's agents of a token
        self.lock = _lock(server.eio.async_mode)
        self.wake = server.eio.create_event()
        self.redis = _redis(message_queue)
        db = open_database(database)
        self.cursor = outbox.last_id(db)  # earlier rows were for sockets of earlier processes
        db.close()
        self.started = self.listening = False

    def send_new(self, db) -> None:
        """Send every row after the cursor to its room on this process, in order."""
        with self.lock:
            self._send_locked(db)

    def _send_locked(self, db) -> None:
        for envelope in outbox.after_id(db, self.cursor):
            self.server.emit("event", envelope.to_dict(), to=envelope.room,
                             namespace=self.namespace, ignore_queue=True)
            self.cursor = envelope.id

    def join(self, db, room: str, since: int, enter) -> list[outbox.Envelope] | None:
        """Enter the room and read what the client missed, as one step against the
        cursor: rows up to it are the answer, rows after it will be sent live. No
        row is in both, none in neither (a live one may overtake the answer on the
        wire; clients order by seq)."""
        with self.lock:
            self._send_locked(db)  # bring the cursor to now, so the answer holds all there is
            enter()
            return outbox.since(db, room, since, upto=self.cursor)

    def changed(self, db) -> None:
        """After this process committed: send at once, and wake the others. The
        change is committed whatever happens here, so a failure to send is no
        error for the request: the next look sends it."""
        try:
            self.send_new(db)
        except Exception as err:  # noqa: BLE001  (a busy database: the tail's next look sends it)
            log.warning("outbox relay: %s", err)
            self.wake.set()
        self._tell_others(b"1")

    def cut_everywhere(self, user_id: int) -> None:
        """Ask the other processes to cut a revoked user's sockets (this one already did)."""
        self._tell_others(f"cut:{user_id}".encode())

    def cut_token_everywhere(self, token_id: str) -> None:
        """Ask the other processes to cut the agents of a revoked token (this one already did)."""
        self._tell_others(f"cut-token:{token_id}".encode())

    def _tell_others(self, message: bytes) -> None:
        if self.redis is None:
            return
        try:
            self.redis.publish(WAKE_CHANNEL, message)
        except Exception as err:  # noqa: BLE001  (Redis down: the others still poll)
            log.warning("could not reach the other processes through Redis: %s", err)

    def start(self) -> None:
        """Tail while this process has sockets (started on each connection; a
        process without sockets has nobody to tell)."""
        with self.lock:
            if self.started:
                return
            self.started = True
            listen, self.listening = self.redis is not None and not self.listening, True
        self.server.start_background_task(self._tail)
        if listen:
            self.server.start_background_task(self._listen)

    def _tail(self) -> None:
        try:
            db = open_database(self.database)
        except Exception as err:  # noqa: BLE001  (the next socket to connect starts it again)
            log.warning("outbox relay could not open the database: %s", err)
            with self.lock:
                self.started = False
            return
        try:
            while self._has_sockets():
                self.wake.wait(POLL)
                self.wake.clear()
                try:
                    self.send_new(db)
                except Exception as err:  # noqa: BLE001  (a busy database: try again on the next look)
                    log.warning("outbox relay: %s", err)
        finally:
            db.close()

    def _has_sockets(self) -> bool:
        with self.lock:  # start() holds it too: a socket arriving now finds started False and starts anew
            self.started = bool(self.server.eio.sockets)
            return self.started

    def _listen(self) -> None:
        while True:
            try:
                pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(WAKE_CHANNEL)
                for message in pubsub.listen():
                    self._heard(message.get("data", b""))
            except Exception as err:  # noqa: BLE001  (Redis restarting: polling covers the gap)
                log.warning("outbox relay lost Redis: %s", err)
            self.server.sleep(1)

    def _heard(self, data: bytes) -> None:
        if data.startswith(b"cut:") and data[4:].isdigit() and self.cut is not None:
            self.cut(int(data[4:]))
        elif data.startswith(b"cut-token:") and self.cut_token is not None:
            self.cut_token(data[10:].decode("ascii", "replace"))
        else:
            self.wake.set()


def _redis(url: str):
    if not url:
        return None
    import redis

    return redis.Redis.from_url(url)


def _lock(async_mode: str):
    """A lock of the server's kind: a greenlet one under gevent, else a thread one."""
    if async_mode == "gevent":
        from gevent.lock import Semaphore

        return Semaphore()
    import threading

    return threading.Lock()
