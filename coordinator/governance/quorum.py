"""Counting approvals against a pinned roster (DESIGN.md "Approvals"; contracts §1).

``count`` is pure: given a roster, the intent digest the caller rebuilt itself
and the approvals as the server hands them out, it returns the members whose
approval verifies. The agent calls it with its own pinned roster before its
device signs, ``huddle audit verify`` with a roster file, and
``require_approved`` with the server's pinned roster before a sign request
goes out or a signature comes in.

An approval is a dict:
    {"kind": "passkey", "member": <user id>, "credential_id", "authenticator_data",
     "client_data_json", "signature"}     (WebAuthn, all base64url)
    {"kind": "agent", "member": <user id>, "signature": <BIP-340 hex>}
It counts only if its member is one of the roster's approvers, of the kind the
roster says they use (a member with an agent key approves only with it), and
it verifies against that member's own pinned key over exactly this digest. A
quorum counts members, not credentials or rows.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from ..errors import Conflict, InvalidInput, NotFound, register
from . import agent_keys
from .approvals import PasskeyApproval, verify_digest
from .intent import Intent
from .roster import PinnedRoster, pinned

register({"approvals_needed": "signing is not open yet: the proposal has fewer approvals than the wallet's "
                              "approval threshold (a pinned-roster policy); the details say how many"})


def count(roster: dict | PinnedRoster, intent_digest: bytes, approvals: list[dict]) -> set[int]:
    """The user ids of the members whose approval of ``intent_digest`` verifies."""
    pinned_roster = roster if isinstance(roster, PinnedRoster) else PinnedRoster.from_dict(roster)
    counted: set[int] = set()
    for approval in approvals:
        member = _verified_member(pinned_roster, intent_digest, approval)
        if member is not None:
            counted.add(member)
    return counted


def _verified_member(roster: PinnedRoster, digest: bytes, approval: object) -> int | None:
    if not isinstance(approval, dict):
        return None
    user = approval.get("member")
    if not isinstance(user, int) or isinstance(user, bool) or user not in roster.approvers:
        return None
    member = roster.member(user)
    if member is None or approval.get("kind") != member.approves_with:
        return None
    if member.approves_with == "agent":
        return user if agent_keys.verify_digest(member.agent_key, digest, approval.get("signature")) else None
    fields = ("credential_id", "authenticator_data", "client_data_json", "signature")
    if not all(isinstance(approval.get(f), str) for f in fields):
        return None
    key = member.passkeys.get(approval["credential_id"])
    if key is None:
        return None
    passkey = PasskeyApproval(f"user:{user}", *(approval[f] for f in fields))
    try:
        verify_digest(passkey, key, digest, roster.rp_id, roster.origin, roster.require_user_verification)
    except InvalidInput:
        return None
    return user


def stored(db: Database, family_id: str) -> list[dict]:
    """A proposal family's approvals of both kinds, oldest first, in the shape ``count`` reads."""
    rows = db.execute(
        "SELECT created_at, id, 'passkey', user_id, credential_id, authenticator_data, client_data_json, signature "
        "FROM approvals WHERE family_id = ? UNION ALL "
        "SELECT created_at, id, 'agent', user_id, NULL, NULL, NULL, signature FROM agent_approvals "
        "WHERE family_id = ? ORDER BY 1, 3, 2", [family_id, family_id]).fetchall()
    out = []
    for _at, _id, kind, user, credential, data, client, signature in rows:
        if kind == "agent":
            out.append({"kind": "agent", "member": user, "signature": signature})
        else:
            out.append({"kind": "passkey", "member": user, "credential_id": credential,
                        "authenticator_data": data, "client_data_json": client, "signature": signature})
    return out


def threshold(db: Database, wallet_id: int) -> int:
    """The wallet's approval threshold: its pinned roster's policy, 0 for a wallet no ceremony pinned."""
    roster = pinned(db, wallet_id)
    return 0 if roster is None else roster.threshold


def status(db: Database, wallet_id: int, family_id: str, intent_digest: bytes) -> tuple[set[int], int]:
    """(the members whose approvals count, the threshold) under the wallet's pinned roster."""
    roster = pinned(db, wallet_id)
    if roster is None:
        return set(), 0
    return count(roster, intent_digest, stored(db, family_id)), roster.threshold


def require_approved(db: Database, wallet_id: int, proposal_id: int) -> None:
    """Raise ``approvals_needed`` while the proposal's counted approvals are fewer
    than the wallet's approval threshold (0 by default: nothing is gated)."""
    row = db.execute("SELECT family_id, intent FROM proposals WHERE id = ? AND wallet_id = ?",
                     [proposal_id, wallet_id]).fetchone()
    if row is None:
        raise NotFound("proposal_not_found", "no such proposal in this wallet")
    digest = Intent.from_dict(json.loads(row[1])).digest()
    counted, needed = status(db, wallet_id, row[0], digest)
    if len(counted) < needed:
        raise Conflict("approvals_needed", f"proposal {proposal_id} has {len(counted)} of the {needed} approvals "
                       "the wallet needs before signing opens", needed=needed, have=len(counted),
                       approved_by=sorted(counted))
