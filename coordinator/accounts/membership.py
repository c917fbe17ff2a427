"""Membership of a wallet: its members, a member's role changed by a wallet
admin, and a member removed by an admin or leaving (issue 10, "Roles per
wallet"; docs/roles.md#changing-roles-and-removing-members).

Two rules keep a wallet usable:
- it always has an admin (``last_admin``);
- a member who owns a cosigner slot of the wallet (given at its setup
  ceremony) is never demoted to viewer: the wallet still depends on their key
  (``member_holds_key``). They may still be removed, or leave, and the answer
  names the key the wallet depends on; replacing a key takes a successor
  wallet (issue 15).

Each change is an entry in the wallet's audit chain (``role_changed``,
``member_removed``) and an event in its room, in one transaction.

Not yet: DESIGN.md makes a member joining or leaving a roster change that M
keyholders confirm at their agents; these changes take effect on the wallet
admin's word alone (docs/roles.md says so).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlite_utils import Database

from ..errors import Conflict, NotFound, register
from ..governance import audit, outbox
from ..governance.events import MemberRemoved, RoleChanged
from ..store.db import write
from . import roles

CODES: dict[str, str] = {
    "member_not_found": "no such member in this wallet",
    "last_admin": "the change would leave the wallet without an admin; make another member admin first",
    "member_holds_key": "this member owns a cosigner slot, so the wallet still depends on their key: they stay "
                        "a keyholder or admin (a successor wallet replaces a key)",
}
register(CODES)


@dataclass(frozen=True)
class SlotKey:
    """A cosigner slot of the wallet and the key its owner gave at setup."""

    position: int
    key: str  # [fingerprint/path]xpub

    def to_dict(self) -> dict:
        return {"position": self.position, "key": self.key}


@dataclass(frozen=True)
class Member:
    user_id: int
    name: str
    role: str
    revoked: bool
    slots: tuple[SlotKey, ...]

    def to_dict(self) -> dict:
        return {"user": self.user_id, "member": f"user:{self.user_id}", "name": self.name, "role": self.role,
                "revoked": self.revoked, "slots": [s.to_dict() for s in self.slots]}


@dataclass(frozen=True)
class Removal:
    user_id: int
    role: str  # the role they had
    left: bool  # they removed themselves
    depends_on: tuple[SlotKey, ...]  # keys of theirs the wallet still needs to sign
    wallet_id: int = 0

    def to_dict(self) -> dict:
        # The offer (issue 15, docs/successor.md): a successor that gives their slots to others.
        offer = {"start": f"POST /api/v1/wallets/{self.wallet_id}/successor", "replace_slots":
                 [s.position for s in self.depends_on]} if self.depends_on else None
        return {"removed": self.user_id, "role": self.role, "left": self.left,
                "wallet_still_depends_on": [s.to_dict() for s in self.depends_on], "message": self.message,
                "successor": offer}

    @property
    def message(self) -> str:
        if not self.depends_on:
            return f"user {self.user_id} is no longer a member of the wallet"
        keys = "; ".join(f"slot {s.position}: {s.key}" for s in self.depends_on)
        return (f"user {self.user_id} is no longer a member, but the wallet still depends on their key ({keys}): "
                "every spend that needs it still needs them and their device. To stop depending on it, move the "
                "coins to a successor wallet without that key: the wallet's admin starts one, keeping the other slots "
                "and giving theirs to someone else (docs/successor.md)")


def members(db: Database, wallet_id: int) -> list[Member]:
    """The wallet's members, admins first, then keyholders and viewers, by user id."""
    rows = db.execute("SELECT u.id, u.name, m.role, u.revoked_at IS NOT NULL FROM memberships m JOIN users u "
                      "ON u.id = m.user_id WHERE m.wallet_id = ? ORDER BY u.id", [wallet_id]).fetchall()
    slots = _slots(db, wallet_id)
    found = [Member(uid, name, role, bool(revoked), tuple(s for owner, s in slots if owner == uid))
             for uid, name, role, revoked in rows]
    return sorted(found, key=lambda m: (-roles.ROLES.index(m.role), m.user_id))


def warning(db: Database, wallet_id: int) -> str | None:
    """Said while the wallet has a single admin (issue 15): losing them locks membership."""
    admins = [m for m in members(db, wallet_id) if m.role == "admin"]
    if len(admins) != 1:
        return None
    return (f"{admins[0].name} is this wallet's only admin: if they lose access, no one can invite, change roles "
            "or remove members. Make a second member admin.")


def change_role(db: Database, wallet_id: int, actor_id: int, user_id: int, role: str,
                now: int | None = None) -> Member:
    """A wallet admin sets a member's role; the same role again changes nothing."""
    at = int(time.time()) if now is None else now
    roles.check_role(role)
    with write(db):
        roles.require(db, actor_id, wallet_id, "admin")
        member = _member(db, wallet_id, user_id)
        if member.role == role:
            return member
        if member.role == "admin" and role != "admin":
            _keep_an_admin(db, wallet_id, member)
        if role == "viewer" and member.slots:
            raise Conflict("member_holds_key", f"{member.name} owns cosigner slot {member.slots[0].position} "
                           f"({member.slots[0].key}); the wallet still depends on their key, so they stay at least a "
                           "keyholder. A successor wallet replaces a key (issue 15); removing them is possible",
                           slots=[s.to_dict() for s in member.slots])
        db.execute("UPDATE memberships SET role = ? WHERE user_id = ? AND wallet_id = ?", [role, user_id, wallet_id])
        audit.append_to_wallet(db, wallet_id, "role_changed", {"user": user_id, "from": member.role, "to": role},
                               actor=f"user:{actor_id}", at=at)
        outbox.record(db, RoleChanged(wallet_id, user_id, role, member.role), at=at)
        return _member(db, wallet_id, user_id)


def remove(db: Database, wallet_id: int, actor_id: int, user_id: int, now: int | None = None) -> Removal:
    """A wallet admin removes a member, or a member leaves; never the last admin."""
    at = int(time.time()) if now is None else now
    with write(db):
        roles.require(db, actor_id, wallet_id, "viewer" if actor_id == user_id else "admin")
        member = _member(db, wallet_id, user_id)
        if member.role == "admin":
            _keep_an_admin(db, wallet_id, member)
        db.execute("DELETE FROM memberships WHERE user_id = ? AND wallet_id = ?", [user_id, wallet_id])
        audit.append_to_wallet(db, wallet_id, "member_removed", {"user": user_id}, actor=f"user:{actor_id}", at=at)
        outbox.record(db, MemberRemoved(wallet_id, user_id, actor_id), at=at)
        return Removal(user_id, member.role, actor_id == user_id, member.slots, wallet_id)


def _member(db: Database, wallet_id: int, user_id: object) -> Member:
    found = next((m for m in members(db, wallet_id) if m.user_id == user_id), None)
    if found is None:
        raise NotFound("member_not_found", f"user {user_id!r} is not a member of this wallet")
    return found


def _keep_an_admin(db: Database, wallet_id: int, leaving: Member) -> None:
    others = [m for m in members(db, wallet_id) if m.role == "admin" and m.user_id != leaving.user_id]
    if not others:
        raise Conflict("last_admin", f"{leaving.name} is the wallet's only admin; make another member admin first, "
                       "so the wallet is never left without one")


def _slots(db: Database, wallet_id: int) -> list[tuple[int, SlotKey]]:
    """(owner, slot) for each cosigner slot of the setup that made the wallet
    (an imported wallet has none: its file says no one's name)."""
    rows = db.execute("SELECT s.user_id, s.position, s.key FROM draft_slots s JOIN wallet_drafts d ON "
                      "d.id = s.draft_id WHERE d.wallet_id = ? AND d.state = 'active' ORDER BY s.position",
                      [wallet_id]).fetchall()
    return [(owner, SlotKey(position, key)) for owner, position, key in rows]
