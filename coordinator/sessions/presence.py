"""Who is in a ceremony, and with which device: events for its room.

The socket layer knows who is connected (per process); this module only turns
those facts into typed events in the outbox, so every member, on any process,
sees the same story in the same order.
"""

from __future__ import annotations

import re

from sqlite_utils import Database

from ..errors import InvalidInput
from ..store.db import write
from ..store.wallets import Wallet
from . import events, requests
from .events import DeviceConnected, SignerJoined, SignerLeft

VIA = ("pwa", "agent")
_FINGERPRINT = re.compile(r"[0-9a-f]{8}")


def joined(db: Database, wallet_id: int, proposal_id: int, user_id: int, name: str, via: str) -> None:
    with write(db):
        events.record(db, SignerJoined(wallet_id, proposal_id, user_id, name, via))


def left(db: Database, wallet_id: int, proposal_id: int, user_id: int, via: str) -> None:
    with write(db):
        events.record(db, SignerLeft(wallet_id, proposal_id, user_id, via))


def device(db: Database, wallet: Wallet, proposal_id: int, user_id: int, found: object) -> DeviceConnected:
    """An agent's device ({"type", "fingerprint"}): whether it is the member's slot."""
    if not (isinstance(found, dict) and isinstance(found.get("type"), str) and 0 < len(found["type"]) <= 40
            and isinstance(found.get("fingerprint"), str) and _FINGERPRINT.fullmatch(found["fingerprint"])):
        raise InvalidInput("bad_socket_request", "a device is {\"type\": text, \"fingerprint\": 8 lowercase hex}")
    slot = requests.slot_fingerprint(db, wallet, user_id)
    event = DeviceConnected(wallet.id, proposal_id, user_id, found["type"], found["fingerprint"],
                            None if slot is None else slot == found["fingerprint"])
    with write(db):
        events.record(db, event)
    return event
