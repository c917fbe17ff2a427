"""Roster changes (DESIGN.md: "Any roster change needs M keyholders to confirm it
at their agents, whatever the approval threshold is"; docs/roles.md "Roster changes").

The wallet's admin proposes a new roster: the members, passkeys, agent keys and
RP as the server has them now, with the approval policy (threshold, approvers)
the admin asks for. Each keyholder's agent shows the change (``diff``) and signs
{wallet, from hash, to hash} (purpose ``roster-change``) with the agent key the
pinned roster names for them. Once M of them (the descriptor's threshold) have,
the new roster is pinned. The approval threshold is set only this way. Proposal,
each confirmation and the applied change are audit entries; the proposal's entry
carries the whole new roster, so the chain alone can be checked against a
member's pinned roster file.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from dataclasses import dataclass

from sqlite_utils import Database

from .. import canonical
from ..accounts import roles
from ..accounts.passkeys import RelyingParty
from ..errors import AccessDenied, Conflict, InvalidInput, NotFound
from ..store.db import write
from . import agent_keys, audit, outbox, roster, roster_errors  # noqa: F401  (roster_errors registers codes)
from .roster import PinnedRoster
from .roster_events import RosterChangeConfirmed, RosterChanged, RosterChangeProposed


@dataclass(frozen=True)
class Change:
    id: int
    wallet_id: int
    base_hash: str
    roster: PinnedRoster
    summary: tuple[str, ...]
    proposed_by: int
    state: str
    confirmed_by: tuple[int, ...]
    needed: int

    def to_dict(self) -> dict:
        return {"id": self.id, "wallet_id": self.wallet_id, "from": self.base_hash, "to": self.roster.hash(),
                "roster": self.roster.to_dict(), "safety_code": self.roster.safety_code(),
                "summary": list(self.summary), "proposed_by": self.proposed_by, "state": self.state,
                "confirmed_by": list(self.confirmed_by), "needed": self.needed}


def diff(old: PinnedRoster, new: PinnedRoster) -> list[str]:
    """What an agent shows before confirming: every difference, one line each."""
    lines = [f"{name} {a!r} -> {b!r}" for name, a, b in (
        ("descriptor", old.descriptor, new.descriptor), ("rp_id", old.rp_id, new.rp_id),
        ("origin", old.origin, new.origin), ("threshold", old.threshold, new.threshold),
        ("approvers", list(old.approvers), list(new.approvers)),
        ("require_user_verification", old.require_user_verification, new.require_user_verification)) if a != b]
    for user in sorted({m.user for m in old.members} | {m.user for m in new.members}):
        before, after = old.member(user), new.member(user)
        if before is None or after is None:
            lines.append(f"user:{user} {'added as ' + after.role if before is None else 'removed'}")
            continue
        if before.role != after.role:
            lines.append(f"user:{user} role {before.role} -> {after.role}")
        if before.agent_key != after.agent_key:
            lines.append(f"user:{user} agent key {before.agent_key} -> {after.agent_key}")
        for credential in sorted(set(before.passkeys) ^ set(after.passkeys)):
            lines.append(f"user:{user} passkey {credential} {'added' if credential in after.passkeys else 'removed'}")
    return lines


def _policy(base: PinnedRoster, candidate: PinnedRoster, threshold: object, approvers: object) -> tuple:
    members = {m.user for m in candidate.members}
    if approvers is None:  # keep who approved; a newcomer admin or keyholder approves too
        newcomers = [m.user for m in candidate.members if base.member(m.user) is None
                     and m.role in roster.APPROVER_ROLES]
        approvers = [u for u in base.approvers if u in members] + newcomers
    if not isinstance(approvers, list) or not all(isinstance(u, int) and not isinstance(u, bool)
                                                  for u in approvers) or not set(approvers) <= members:
        raise InvalidInput("bad_roster_change", "approvers are user ids of the wallet's members")
    chosen = sorted(set(approvers))
    wanted = min(base.threshold, len(chosen)) if threshold is None else threshold
    if not isinstance(wanted, int) or isinstance(wanted, bool) or not 0 <= wanted <= len(chosen):
        raise InvalidInput("bad_roster_change", f"the approval threshold is a whole number from 0 to {len(chosen)} "
                           "(the number of approvers)")
    return wanted, tuple(chosen)


def propose(db: Database, wallet_id: int, admin_id: int, rp: RelyingParty, threshold: object = None,
            approvers: object = None, now: int | None = None) -> Change:
    """The admin's proposal: the roster as the server has it now, with the policy asked for.
    A new proposal supersedes a pending one."""
    at = int(time.time()) if now is None else now
    with write(db):
        roles.require(db, admin_id, wallet_id, "admin")
        return _open(db, wallet_id, admin_id, rp, threshold, approvers, at)


def propose_own_passkeys(db: Database, wallet_id: int, user_id: int, rp: RelyingParty,
                         now: int | None = None) -> Change | None:
    """A member who replaced a lost passkey (docs/successor.md "A lost passkey") puts the
    roster with their new passkeys up for the keyholders' agents, keeping the approval
    policy; None if the pinned roster already has them (or the wallet has none pinned)."""
    at = int(time.time()) if now is None else now
    with write(db):
        roles.require(db, user_id, wallet_id, "viewer")
        if roster.pinned(db, wallet_id) is None:
            return None
        try:
            return _open(db, wallet_id, user_id, rp, None, None, at)
        except Conflict as err:
            if err.code != "roster_change_empty":
                raise
            return None


def _open(db: Database, wallet_id: int, admin_id: int, rp: RelyingParty, threshold: object, approvers: object,
          at: int) -> Change:
    base = _pinned(db, wallet_id)
    candidate = roster.current(db, wallet_id, rp)
    wanted, chosen = _policy(base, candidate, threshold, approvers)
    new = dataclasses.replace(candidate, threshold=wanted, approvers=chosen)
    if new.hash() == base.hash():
        raise Conflict("roster_change_empty", "the proposed roster is the pinned one")
    for (old_id,) in db.execute("SELECT id FROM roster_changes WHERE wallet_id = ? AND state = 'pending'",
                                [wallet_id]).fetchall():
        db.execute("UPDATE roster_changes SET state = 'superseded' WHERE id = ?", [old_id])
        audit.append_to_wallet(db, wallet_id, "roster_change_superseded", {"change": old_id},
                               f"user:{admin_id}", at)
    summary = diff(base, new)
    change_id = db.execute(
        "INSERT INTO roster_changes (wallet_id, base_version, base_hash, body, hash, summary, proposed_by, "
        "proposed_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
        [wallet_id, roster.pinned_version(db, wallet_id), base.hash(), canonical.encode(new.to_dict()).decode(),
         new.hash(), json.dumps(summary), admin_id, at]).lastrowid
    audit.append_to_wallet(db, wallet_id, "roster_change_proposed",
                           {"change": change_id, "from": base.hash(), "to": new.hash(), "roster": new.to_dict(),
                            "summary": summary}, f"user:{admin_id}", at)
    outbox.record(db, RosterChangeProposed(wallet_id, change_id, new.hash(), base.m), at=at)
    return pending(db, wallet_id)


def _pinned(db: Database, wallet_id: int) -> PinnedRoster:
    base = roster.pinned(db, wallet_id)
    if base is None:
        raise Conflict("roster_not_pinned", "this wallet has no pinned roster (it was imported, not set up at a "
                       "ceremony); there is nothing for agents to change")
    return base


def pending(db: Database, wallet_id: int) -> Change:
    row = db.execute("SELECT id, base_hash, body, summary, proposed_by, state FROM roster_changes "
                     "WHERE wallet_id = ? AND state = 'pending'", [wallet_id]).fetchone()
    if row is None:
        raise NotFound("roster_change_not_found", "the wallet has no pending roster change")
    return _change(db, wallet_id, row)


def _change(db: Database, wallet_id: int, row) -> Change:
    confirmed = tuple(r[0] for r in db.execute(
        "SELECT user_id FROM roster_change_confirmations WHERE change_id = ? ORDER BY confirmed_at, user_id",
        [row[0]]).fetchall())
    body = PinnedRoster.from_dict(canonical.decode(row[2].encode()))
    return Change(row[0], wallet_id, row[1], body, tuple(json.loads(row[3])), row[4], row[5], confirmed,
                  _pinned(db, wallet_id).m)


def confirm(db: Database, wallet_id: int, user_id: int, signature: object, to_hash: object = None,
            now: int | None = None) -> Change:
    """A keyholder's agent accepts the pending change; the M-th confirmation pins it."""
    at = int(time.time()) if now is None else now
    with write(db):
        change, base = pending(db, wallet_id), _pinned(db, wallet_id)
        member = base.member(user_id)
        if member is None or member not in base.keyholders() or member.agent_key is None:
            raise AccessDenied("not_a_confirmer", "only a keyholder whose agent key the pinned roster names "
                               "confirms a roster change")
        if to_hash is not None and to_hash != change.roster.hash():
            raise Conflict("roster_moved", "the pending roster change is not the one your agent showed",
                           roster_hash=change.roster.hash())
        body = agent_keys.roster_change_body(wallet_id, change.base_hash, change.roster.hash())
        agent_keys.require(member.agent_key, "roster-change", body, signature, f"user:{user_id}")
        try:
            db.execute("INSERT INTO roster_change_confirmations (change_id, user_id, agent_key, signature, "
                       "confirmed_at) VALUES (?, ?, ?, ?, ?)", [change.id, user_id, member.agent_key, signature, at])
        except sqlite3.IntegrityError:
            raise Conflict("already_confirmed", "your agent already confirmed this roster change") from None
        audit.append_to_wallet(db, wallet_id, "roster_change_confirmed",
                               {"change": change.id, "from": change.base_hash, "to": change.roster.hash(),
                                "member": user_id, "agent_key": member.agent_key, "signature": signature},
                               f"user:{user_id}", at)
        confirmations = len(change.confirmed_by) + 1
        outbox.record(db, RosterChangeConfirmed(wallet_id, change.id, user_id, confirmations), at=at)
        if confirmations >= base.m:
            _apply(db, change, at)
        return _change(db, wallet_id, db.execute(
            "SELECT id, base_hash, body, summary, proposed_by, state FROM roster_changes WHERE id = ?",
            [change.id]).fetchone())


def _apply(db: Database, change: Change, at: int) -> None:
    version = roster.pin(db, change.wallet_id, change.roster, at)
    db.execute("UPDATE roster_changes SET state = 'applied', applied_at = ? WHERE id = ?", [at, change.id])
    audit.append_to_wallet(db, change.wallet_id, "roster_changed",
                           {"change": change.id, "version": version, "from": change.base_hash,
                            "to": change.roster.hash()}, "system", at)
    outbox.record(db, RosterChanged(change.wallet_id, change.id, version, change.roster.hash()), at=at)
