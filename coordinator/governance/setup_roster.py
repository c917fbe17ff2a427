"""The roster pinned at the setup ceremony (DESIGN.md "The roster is pinned at a
ceremony on the call"; docs/setup-ceremony.md "Safety codes").

Once the descriptor is built, the draft's roster exists: the descriptor, the slot
owners (keyholders) and the drafter (admin) with their passkeys and agent keys, the
RP ID and origin, and the default approval policy. Each agent shows its safety
code; the keyholders read them aloud and compare. A keyholder with a registered
agent key confirms with its signature over {draft, roster hash, first address}
(purpose ``roster-confirm``); a keyholder with only a QR device confirms as
before. The activation pins the roster every agent signed; if it moved since an
agent signed (a passkey or agent key was added), that confirmation is withdrawn
and has to be given again over the new roster.
"""

from __future__ import annotations

from sqlite_utils import Database

from ..accounts.passkeys import RelyingParty
from ..errors import Conflict, InvalidInput
from . import agent_keys, audit, roster, roster_errors  # noqa: F401  (roster_errors registers codes)


def draft_roster(db: Database, draft, rp: RelyingParty = roster.LOCAL_RP) -> roster.PinnedRoster:
    """The roster the ceremony pins (DESIGN.md): the descriptor, the slot owners as
    keyholders and the drafter as admin, their passkeys and agent keys as registered
    now, the RP, and the default approval policy (threshold 0)."""
    if draft.descriptor is None:
        raise Conflict("setup_not_ready", "the roster exists once every slot holds a key")
    roles_of = {s.user_id: "keyholder" for s in draft.slots} | {draft.created_by: "admin"}
    slots: dict[int, int] = {}
    for s in draft.slots:
        slots.setdefault(s.user_id, s.position)
    return roster.build(db, draft.network, draft.descriptor, draft.threshold, roles_of, slots, rp)


def agent_confirmation(db: Database, draft, position: int, user_id: int, signature: object,
                       roster_hash: object, rp: RelyingParty) -> dict:
    """Check and store the agent's roster-confirm signature; {} for a keyholder without an agent."""
    key = agent_keys.active(db, user_id)
    if key is None:
        if signature is not None:
            raise InvalidInput("agent_key_not_registered", "you have no registered agent key; confirm without "
                               "a signature, or pair your agent and register its key first")
        return {}
    if signature is None:
        raise InvalidInput("agent_confirmation_required", "you registered an agent key: confirm at your agent, "
                           "which signs the draft, the roster hash and the first address")
    pinned = draft_roster(db, draft, rp)
    if roster_hash is not None and roster_hash != pinned.hash():
        raise Conflict("roster_moved", "the roster changed since your agent fetched it; compare the new safety "
                       "code and confirm again", roster_hash=pinned.hash())
    agent_keys.require(key, "roster-confirm", agent_keys.roster_confirm_body(draft.id, pinned.hash(),
                                                                             draft.first_address),
                       signature, f"user:{user_id}")
    db.execute("INSERT OR REPLACE INTO setup_agent_confirmations (draft_id, position, user_id, agent_key, "
               "roster_hash, signature) VALUES (?, ?, ?, ?, ?, ?)",
               [draft.id, position, user_id, key, pinned.hash(), signature])
    return {"roster": pinned.hash(), "agent_key": key, "signature": signature}


def _stale(db: Database, draft, pinned: roster.PinnedRoster) -> list:
    """Slots whose confirmation does not cover the roster about to be pinned: an agent
    signature over an older roster, or none though the owner has an agent key now."""
    signed = {r[0]: (r[1], r[2]) for r in db.execute(
        "SELECT position, agent_key, roster_hash FROM setup_agent_confirmations WHERE draft_id = ?", [draft.id])}
    stale = []
    for slot in draft.slots:
        key = pinned.member(slot.user_id).agent_key
        if key is not None and signed.get(slot.position) != (key, pinned.hash()):
            stale.append(slot)
    return stale


def withdraw_stale(db: Database, draft, pinned: roster.PinnedRoster, chain: str, at: int) -> bool:
    """Withdraw the confirmations that do not cover ``pinned``; True if there were any."""
    stale = _stale(db, draft, pinned)
    for slot in stale:
        db.execute("UPDATE draft_slots SET confirmed_address = NULL, confirmed_at = NULL WHERE draft_id = ? "
                   "AND position = ?", [draft.id, slot.position])
        audit.append(db, chain, "confirmation_withdrawn",
                     {"position": slot.position, "why": "roster_moved", "roster": pinned.hash()}, "system", at)
    return bool(stale)
