"""The ceremony state machine: one per proposal (docs/ceremony.md).

    collecting ──threshold──▶ ready ──confirm/auto──▶ broadcasting ──▶ broadcast ──▶ confirmed
         │                      │                          │               │  ▲            │
         └──────────────────────┴── cancelled, expired,    └─▶ failed      │  └── reorg ───┘
                                    failed, replaced                       └─▶ failed, replaced

A move is a compare-and-set on the row (``UPDATE ... WHERE state = <from>``) in
the caller's write transaction, so two processes racing to broadcast cannot both
win. The proposal row (governance/proposals.py) says cancelled, expired or
replaced first; the ceremony follows it the next time it is read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlite_utils import Database

from ..errors import Conflict
from ..governance.proposals import Proposal
from ..store.db import write
from . import events
from .events import CeremonyClosed

COLLECTING, READY, BROADCASTING, BROADCAST, CONFIRMED = "collecting", "ready", "broadcasting", "broadcast", "confirmed"
CANCELLED, EXPIRED, FAILED, REPLACED = "cancelled", "expired", "failed", "replaced"
STATES = (COLLECTING, READY, BROADCASTING, BROADCAST, CONFIRMED, CANCELLED, EXPIRED, FAILED, REPLACED)
TRANSITIONS: dict[str, frozenset[str]] = {
    COLLECTING: frozenset({READY, CANCELLED, EXPIRED, FAILED, REPLACED}),
    READY: frozenset({BROADCASTING, CANCELLED, EXPIRED, FAILED, REPLACED}),
    BROADCASTING: frozenset({BROADCAST, FAILED, REPLACED}),
    BROADCAST: frozenset({CONFIRMED, FAILED, REPLACED}),
    CONFIRMED: frozenset({BROADCAST}),  # a reorg took its block away
    CANCELLED: frozenset(), EXPIRED: frozenset(), FAILED: frozenset(), REPLACED: frozenset(),
}
OPEN = (COLLECTING, READY)  # signatures and sign requests are taken only here
_CLOSED_BY_PROPOSAL = {"cancelled": CANCELLED, "expired": EXPIRED, "replaced": REPLACED}


@dataclass(frozen=True)
class Ceremony:
    proposal_id: int
    wallet_id: int
    state: str
    txid: str | None
    height: int | None
    reason: str | None
    updated_at: int

    @classmethod
    def from_row(cls, row: dict) -> "Ceremony":
        return cls(row["proposal_id"], row["wallet_id"], row["state"], row["txid"], row["height"], row["reason"],
                   row["updated_at"])

    def to_dict(self) -> dict:
        return {"proposal": self.proposal_id, "state": self.state, "txid": self.txid, "height": self.height,
                "reason": self.reason, "updated_at": self.updated_at}

    @property
    def is_open(self) -> bool:
        return self.state in OPEN


def can_move(current: str, to: str) -> bool:
    return to in TRANSITIONS.get(current, frozenset())


def load(db: Database, proposal_id: int) -> Ceremony | None:
    rows = list(db.query("SELECT * FROM ceremonies WHERE proposal_id = ?", [proposal_id]))
    return Ceremony.from_row(rows[0]) if rows else None


def of(db: Database, proposal: Proposal, now: int | None = None) -> Ceremony:
    """The proposal's ceremony, created on first use and brought in line with the
    proposal's own state (cancelled, expired or replaced ends it)."""
    at = int(time.time()) if now is None else now
    found = load(db, proposal.id)
    closed = _CLOSED_BY_PROPOSAL.get(proposal.state)
    if found is not None and (closed is None or not can_move(found.state, closed)):
        return found
    with write(db):
        db.execute("INSERT INTO ceremonies (proposal_id, wallet_id, state, updated_at) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT (proposal_id) DO NOTHING", [proposal.id, proposal.wallet_id, COLLECTING, at])
        found = load(db, proposal.id)
        if closed is not None and can_move(found.state, closed):
            found = move(db, found, closed, now=at)
            events.record(db, CeremonyClosed(found.wallet_id, found.proposal_id, closed), at=at)
    return found


def move(db: Database, ceremony: Ceremony, to: str, *, txid: str | None = None, height: int | None = None,
         reason: str | None = None, now: int | None = None) -> Ceremony:
    """Move ``ceremony`` to ``to``; ``ceremony_state`` if that is not a legal move, or if
    another writer moved it first (the row is no longer in ``ceremony.state``)."""
    if not can_move(ceremony.state, to):
        raise Conflict("ceremony_state", f"a ceremony that is {ceremony.state} cannot become {to}",
                       state=ceremony.state, to=to)
    at = int(time.time()) if now is None else now
    with write(db):
        cursor = db.execute(
            "UPDATE ceremonies SET state = ?, txid = coalesce(?, txid), height = ?, reason = coalesce(?, reason), "
            "updated_at = ? WHERE proposal_id = ? AND state = ?",
            [to, txid, height, reason, at, ceremony.proposal_id, ceremony.state])
        if cursor.rowcount != 1:
            now_state = load(db, ceremony.proposal_id)
            raise Conflict("ceremony_state", f"the ceremony is {now_state.state if now_state else 'gone'} now, "
                           f"not {ceremony.state}", state=now_state.state if now_state else None, to=to)
        return load(db, ceremony.proposal_id)


def in_states(db: Database, states: tuple[str, ...], wallet_id: int | None = None) -> list[Ceremony]:
    marks = ",".join("?" * len(states))
    where, args = f"state IN ({marks})", list(states)
    if wallet_id is not None:
        where, args = where + " AND wallet_id = ?", args + [wallet_id]
    return [Ceremony.from_row(r) for r in db.query(f"SELECT * FROM ceremonies WHERE {where} ORDER BY proposal_id",
                                                   args)]


def auto_broadcast(db: Database, wallet_id: int) -> bool:
    row = db.execute("SELECT auto_broadcast FROM ceremony_settings WHERE wallet_id = ?", [wallet_id]).fetchone()
    return bool(row and row[0])


def set_auto_broadcast(db: Database, wallet_id: int, on: bool) -> None:
    with write(db):
        db.execute("INSERT INTO ceremony_settings (wallet_id, auto_broadcast) VALUES (?, ?) "
                   "ON CONFLICT (wallet_id) DO UPDATE SET auto_broadcast = excluded.auto_broadcast",
                   [wallet_id, int(bool(on))])
