"""The roster a member pins, and checking the approvals in an audit chain
against it (``huddle audit verify --roster``).

A roster says, for one wallet: its policy id, the passkey RP ID and origin,
whether approvals need user verification, and each member's passkey public
keys. Verifying against a roster read from the server's own database proves
nothing; the pinned roster comes from the setup ceremony (DESIGN.md), which is
a later step. ``from_db`` exists for that ceremony and for tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlite_utils import Database

from .. import canonical
from ..errors import InvalidInput
from .approvals import PasskeyApproval, verify
from .audit import Entry
from .intent import Intent


@dataclass(frozen=True)
class Roster:
    policy_id: str
    rp_id: str
    origin: str
    require_user_verification: bool
    passkeys: dict[str, dict[str, bytes]]  # member ("user:<id>") -> {credential id: COSE public key}

    def to_dict(self) -> dict:
        return {"v": canonical.VERSION, "policy_id": self.policy_id, "rp_id": self.rp_id, "origin": self.origin,
                "require_user_verification": self.require_user_verification,
                "passkeys": {m: {c: k.hex() for c, k in keys.items()} for m, keys in self.passkeys.items()}}

    @classmethod
    def from_dict(cls, data: object) -> "Roster":
        try:
            if data["v"] != canonical.VERSION or not isinstance(data["require_user_verification"], bool):
                raise ValueError("version")
            passkeys = {str(m): {str(c): bytes.fromhex(k) for c, k in keys.items()}
                        for m, keys in data["passkeys"].items()}
            return cls(str(data["policy_id"]), str(data["rp_id"]), str(data["origin"]),
                       data["require_user_verification"], passkeys)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InvalidInput("bad_roster", "not a version 1 roster (policy_id, rp_id, origin, "
                               "require_user_verification, passkeys)") from None


def from_db(db: Database, wallet_id: int, rp_id: str, origin: str) -> Roster:
    """The wallet's members and their passkeys as the server has them now."""
    policy = db.execute("SELECT policy_id FROM wallets WHERE id = ?", [wallet_id]).fetchone()
    if policy is None:
        raise InvalidInput("bad_roster", f"no wallet {wallet_id}")
    passkeys: dict[str, dict[str, bytes]] = {}
    for user_id, credential_id, key in db.execute(
            "SELECT m.user_id, p.credential_id, p.public_key FROM memberships m "
            "JOIN passkeys p ON p.user_id = m.user_id WHERE m.wallet_id = ? ORDER BY m.user_id", [wallet_id]):
        passkeys.setdefault(f"user:{user_id}", {})[credential_id] = bytes.fromhex(key)
    return Roster(policy[0], rp_id, origin, False, passkeys)


def verify_approvals(entries: Iterable[Entry], roster: Roster) -> int:
    """Check every approval in a (hash-verified) wallet chain against the roster;
    returns how many verified. Raises ``audit_approval_invalid`` naming the entry."""
    intents: dict[str, Intent] = {}
    count = 0
    for entry in entries:
        try:
            if entry.type == "wallet_created" and entry.body.get("policy_id") != roster.policy_id:
                raise InvalidInput("approval_invalid", "the chain is of another wallet than the roster's")
            if entry.type == "proposal_created":
                intent = Intent.from_dict(entry.body.get("intent"))
                if intent.digest().hex() != entry.body.get("intent_digest") or intent.policy_id != roster.policy_id:
                    raise InvalidInput("approval_invalid", "the proposal's intent digest or policy does not match")
                intents[intent.family_id] = intent
            elif entry.type == "approval_added":
                _check_approval(entry, intents, roster)
                count += 1
        except InvalidInput as err:
            raise InvalidInput("audit_approval_invalid", f"audit entry {entry.seq} ({entry.type}): {err.message}",
                               seq=entry.seq) from None
    return count


def _check_approval(entry: Entry, intents: dict[str, Intent], roster: Roster) -> None:
    approval = PasskeyApproval.from_dict(entry.body.get("approval"))
    intent = intents.get(entry.body.get("family"))
    if intent is None:
        raise InvalidInput("approval_invalid", "an approval of a proposal that is not earlier in the chain")
    if approval.member != entry.actor:
        raise InvalidInput("approval_invalid", f"recorded by {entry.actor} for {approval.member}")
    key = roster.passkeys.get(approval.member, {}).get(approval.credential_id)
    if key is None:
        raise InvalidInput("approval_invalid", f"{approval.member}'s passkey is not in the roster")
    verify(approval, key, intent, roster.rp_id, roster.origin, roster.require_user_verification)
