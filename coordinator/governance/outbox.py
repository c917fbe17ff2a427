"""The outbox: every real-time event, written in the transaction of the change
it announces, in one envelope (DESIGN.md, "Real-time events"):

    {"room": "wallet:1", "seq": 7, "type": "member_joined", "at": 1767225600,
     "audit_head": "5:ab12...", "data": {...}}

``seq`` is per room (a wallet's room is its chain key, ``wallet:<id>``) and comes
from this table. A client that reconnects gives the last ``seq`` it has and gets
what it missed, in order, or ``None`` (resync) if the gap is older than what is
kept.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from sqlite_utils import Database

from .. import canonical
from ..store.db import write
from . import audit
from .events import WalletEvent

KEEP = 1000  # events kept per room for reconnect catch-up
_COLUMNS = "id, room, seq, type, at, audit_head, data"


@dataclass(frozen=True)
class Envelope:
    id: int  # the row's place across rooms, for the publisher; not sent
    room: str
    seq: int
    type: str
    at: int
    audit_head: str
    data: dict

    @classmethod
    def from_row(cls, row: tuple) -> "Envelope":
        return cls(*row[:6], json.loads(row[6]))

    def to_dict(self) -> dict:
        # room: a client in a wallet's room and a ceremony's orders each by its own seq
        return {"room": self.room, "seq": self.seq, "type": self.type, "at": self.at, "audit_head": self.audit_head,
                "data": self.data}


def record(db: Database, event: WalletEvent, at: int | None = None) -> Envelope:
    """Add ``event`` to its wallet's room, in the caller's transaction."""
    room = audit.wallet_chain(event.wallet_id)
    with write(db):
        seq = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM outbox WHERE room = ?", [room]).fetchone()[0]
        row = [room, seq, event.type, int(time.time()) if at is None else at, audit.head(db, room).to_string(),
               canonical.encode(event.data()).decode("utf-8")]
        cursor = db.execute("INSERT INTO outbox (room, seq, type, at, audit_head, data) VALUES (?, ?, ?, ?, ?, ?)",
                            row)
        db.execute("DELETE FROM outbox WHERE room = ? AND seq <= ?", [room, seq - KEEP])
    return Envelope(cursor.lastrowid, *row[:5], event.data())


def since(db: Database, room: str, seq: int, upto: int | None = None) -> list[Envelope] | None:
    """The room's events after ``seq`` (up to row ``upto``, where a process's
    publisher stands), or None if some of them are no longer kept."""
    oldest = db.execute("SELECT min(seq) FROM outbox WHERE room = ?", [room]).fetchone()[0]
    if oldest is not None and seq < oldest - 1:
        return None
    cursor = db.execute(f"SELECT {_COLUMNS} FROM outbox WHERE room = ? AND seq > ? AND id <= ? ORDER BY seq",
                        [room, seq, last_id(db) if upto is None else upto])
    return [Envelope.from_row(r) for r in cursor.fetchall()]


def after_id(db: Database, last_id: int) -> list[Envelope]:
    """Every event written after row ``last_id``, in order (the publisher's feed)."""
    cursor = db.execute(f"SELECT {_COLUMNS} FROM outbox WHERE id > ? ORDER BY id", [last_id])
    return [Envelope.from_row(r) for r in cursor.fetchall()]


def last_id(db: Database) -> int:
    return db.execute("SELECT coalesce(max(id), 0) FROM outbox").fetchone()[0]
