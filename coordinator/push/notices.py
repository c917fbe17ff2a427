"""Who is told of which event (issue 13 item 6; docs/notifications.md).

Three kinds, each member choosing which per device:

- ``approve``: a spend was proposed in a wallet where they may approve (keyholders
  and admins, not the proposer);
- ``sign``: someone asked them to sign (``sign_requested``);
- ``confirmed``: a spend of their wallet is in a block (every member).

The payload names the kind, the wallet and proposal ids and the screen to open,
with a fixed sentence: no wallet name, memo, amount, address or txid, so that
a lock screen shows nothing a passer-by could read off the group's money.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlite_utils import Database

from ..governance.outbox import Envelope
from . import subscriptions
from .subscriptions import Subscription

SENTENCES = {"approve": "A spend waits for your approval.",
             "sign": "Your signature is asked for on a spend.",
             "confirmed": "A spend of your wallet is confirmed."}


@dataclass(frozen=True)
class Notice:
    subscription: Subscription
    payload: dict

    def body(self) -> str:
        return json.dumps(self.payload, separators=(",", ":"))


def for_event(db: Database, event: Envelope) -> list[Notice]:
    """The notices one outbox event makes (none for most events)."""
    kind, users = _audience(db, event)
    if kind is None:
        return []
    wallet_id, proposal = event.data.get("wallet_id"), event.data.get("proposal")
    if not isinstance(wallet_id, int) or not isinstance(proposal, int):
        return []
    payload = {"kind": kind, "title": "Huddle", "body": SENTENCES[kind], "wallet_id": wallet_id,
               "proposal": proposal, "url": f"/wallets/{wallet_id}/proposals/{proposal}"}
    return [Notice(s, payload) for s in subscriptions.wanting(db, users, kind)]


def _audience(db: Database, event: Envelope) -> tuple[str | None, list[int]]:
    wallet_id = event.data.get("wallet_id")
    if event.type == "proposal_created" and event.room.startswith("wallet:"):
        may_approve = _members(db, wallet_id, ("keyholder", "admin"))
        return "approve", [u for u in may_approve if u != event.data.get("proposer")]
    if event.type == "sign_requested" and event.room.startswith("ceremony:"):
        user = event.data.get("user")
        return "sign", [user] if user in _members(db, wallet_id, ("keyholder", "admin")) else []
    if event.type == "confirmed" and event.room.startswith("ceremony:"):
        return "confirmed", _members(db, wallet_id, ("viewer", "keyholder", "admin"))
    return None, []


def _members(db: Database, wallet_id: object, roles: tuple[str, ...]) -> list[int]:
    """Members with one of ``roles`` whose accounts are not revoked."""
    marks = ",".join("?" * len(roles))
    rows = db.execute(f"SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.wallet_id = ? "
                      f"AND m.role IN ({marks}) AND u.revoked_at IS NULL ORDER BY m.user_id",
                      [wallet_id, *roles]).fetchall()
    return [r[0] for r in rows]
