"""What happens in a signing ceremony, as typed events for its room.

Like ``governance/events.py``: ``type`` is the class name in snake case and
``data()`` the fields. Each is written to the outbox in the transaction of the
change it announces, in the ceremony's room ``ceremony:<proposal id>`` with its
own ``seq``; chain events go to the wallet's room (docs/events.md lists each).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from sqlite_utils import Database

from .. import canonical
from ..governance import audit
from ..governance.events import WalletEvent
from ..governance.outbox import KEEP, Envelope
from ..store.db import write


def room(proposal_id: int) -> str:
    return f"ceremony:{proposal_id}"


@dataclass(frozen=True)
class CeremonyEvent(WalletEvent):
    proposal: int


@dataclass(frozen=True)
class SignerJoined(CeremonyEvent):
    """A member opened the ceremony, in the PWA (``via`` "pwa") or through their agent ("agent")."""

    user: int
    name: str
    via: str


@dataclass(frozen=True)
class SignerLeft(CeremonyEvent):
    """A member's last connection of that kind to the ceremony closed."""

    user: int
    via: str


@dataclass(frozen=True)
class DeviceConnected(CeremonyEvent):
    """A member's agent reports a signing device: its kind, master fingerprint, and whether
    that is the fingerprint of the member's slot (None when the wallet records no slot owner)."""

    user: int
    device_type: str
    fingerprint: str
    matches_slot: bool | None


@dataclass(frozen=True)
class SignRequested(CeremonyEvent):
    """``asked_by`` asked ``user``'s agents to sign (request ``request``)."""

    user: int
    asked_by: int
    request: str


@dataclass(frozen=True)
class SignerStep(CeremonyEvent):
    """Where a signer is: device_ready, reviewing, signed or declined (with ``reason``)."""

    user: int
    step: str
    reason: str | None


@dataclass(frozen=True)
class SignatureAdded(CeremonyEvent):
    """New verified signatures of one cosigner (``fingerprint``) on ``inputs``."""

    fingerprint: str
    inputs: list[int]
    user: int | None
    channel: str


@dataclass(frozen=True)
class ThresholdReached(CeremonyEvent):
    """Every input has M valid signatures of distinct cosigners: ready to broadcast."""

    auto_broadcast: bool


@dataclass(frozen=True)
class Broadcasting(CeremonyEvent):
    """The transaction is being finalized and sent (by a member's confirmation, or automatically)."""

    by: int | None


@dataclass(frozen=True)
class Broadcast(CeremonyEvent):
    """The network accepted the transaction."""

    txid: str


@dataclass(frozen=True)
class Confirmed(CeremonyEvent):
    """The transaction is in a block of the best chain."""

    txid: str
    height: int


@dataclass(frozen=True)
class Failed(CeremonyEvent):
    """The ceremony cannot complete: the node refused the transaction, or its coins were spent elsewhere."""

    reason: str


@dataclass(frozen=True)
class BroadcastResent(CeremonyEvent):
    """The transaction left the mempool unconfirmed (evicted, expired) and was sent again;
    ``accepted`` False: the node refused it now (``reason``), a fee bump may be needed."""

    txid: str
    accepted: bool
    reason: str | None


@dataclass(frozen=True)
class CeremonyClosed(CeremonyEvent):
    """The proposal was cancelled, expired, or replaced by a family member that confirmed."""

    state: str


EVENTS = (SignerJoined, SignerLeft, DeviceConnected, SignRequested, SignerStep, SignatureAdded,
          ThresholdReached, Broadcasting, Broadcast, BroadcastResent, Confirmed, Failed, CeremonyClosed)


def record(db: Database, event: CeremonyEvent, at: int | None = None) -> Envelope:
    """Add ``event`` to its ceremony's room, in the caller's transaction."""
    return _insert(db, room(event.proposal), event.wallet_id, event.type, event.data(), at)


def record_chain(db: Database, event) -> Envelope:
    """A ``chain/events.py`` event, in its wallet's room (the watcher's pushes)."""
    data = dataclasses.asdict(event)
    return _insert(db, audit.wallet_chain(event.wallet_id), event.wallet_id, event.type, data, None)


def _insert(db: Database, where: str, wallet_id: int, type_: str, data: dict, at: int | None) -> Envelope:
    """As ``outbox.record``, for any room; the head is always the wallet's chain's."""
    with write(db):
        seq = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM outbox WHERE room = ?", [where]).fetchone()[0]
        row = [where, seq, type_, int(time.time()) if at is None else at,
               audit.head(db, audit.wallet_chain(wallet_id)).to_string(), canonical.encode(data).decode("utf-8")]
        cursor = db.execute("INSERT INTO outbox (room, seq, type, at, audit_head, data) VALUES (?, ?, ?, ?, ?, ?)",
                            row)
        db.execute("DELETE FROM outbox WHERE room = ? AND seq <= ?", [where, seq - KEEP])
    return Envelope(cursor.lastrowid, *row[:5], data)
