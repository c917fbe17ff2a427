"""The roster a member pins (DESIGN.md "The roster is pinned at a ceremony on
the call"), and checking the approvals in an audit chain against it
(``huddle audit verify --roster``).

Version 2 (``PinnedRoster``) is everything an agent pins: the descriptor, each
member with their role, passkey public keys and agent key (or null), the RP ID
and origin, and the approval policy (who may approve, how many). Its hash and
safety code are over its canonical (JCS) encoding. It is pinned at the setup
ceremony and changed only by a roster change that M keyholders confirm
(governance/roster_changes.py). Version 1 files (policy id, RP, passkeys)
are still read. Verifying against a roster read from the server's own
database proves nothing: ``from_db``/``current`` exist for the ceremony and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlite_utils import Database

from .. import canonical
from ..accounts.passkeys import RelyingParty
from ..errors import InvalidInput
from ..wallet.descriptor import MultisigDescriptor
from . import agent_keys
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


ROSTER_V2 = 2
ROLES = ("admin", "keyholder", "viewer")
APPROVER_ROLES = ("admin", "keyholder")  # who may approve unless a roster change says otherwise
LOCAL_RP = RelyingParty("localhost", "http://localhost")  # for callers without a server (tests, the CLI)


@dataclass(frozen=True)
class Member:
    user: int
    role: str
    slot: int | None  # the cosigner slot they own in the setup ceremony, if any
    passkeys: dict[str, bytes]  # credential id (base64url) -> COSE public key
    agent_key: str | None  # BIP-340 x-only hex

    @property
    def approves_with(self) -> str:
        """A member with a pinned agent key approves only with it (the strong kind); others by passkey."""
        return "agent" if self.agent_key else "passkey"

    def to_dict(self) -> dict:
        return {"user": self.user, "role": self.role, "slot": self.slot, "agent_key": self.agent_key,
                "passkeys": {c: k.hex() for c, k in sorted(self.passkeys.items())}}


@dataclass(frozen=True)
class PinnedRoster:
    network: str
    policy_id: str
    descriptor: str
    m: int  # the descriptor's threshold: how many keyholders confirm a roster change
    rp_id: str
    origin: str
    require_user_verification: bool
    members: tuple[Member, ...]  # ordered by user id
    threshold: int  # approvals needed before signing opens; 0 by default
    approvers: tuple[int, ...]  # user ids whose approvals count, ordered

    def to_dict(self) -> dict:
        return {"v": ROSTER_V2, "network": self.network, "policy_id": self.policy_id,
                "descriptor": self.descriptor, "m": self.m, "rp_id": self.rp_id, "origin": self.origin,
                "require_user_verification": self.require_user_verification,
                "members": [m.to_dict() for m in self.members],
                "policy": {"threshold": self.threshold, "approvers": list(self.approvers)}}

    def hash(self) -> str:
        return canonical.digest(self.to_dict()).hex()

    def safety_code(self) -> str:
        return agent_keys.safety_code(self.to_dict())

    def member(self, user: int) -> Member | None:
        return next((m for m in self.members if m.user == user), None)

    def keyholders(self) -> tuple[Member, ...]:
        """Who confirms roster changes: the slot owners (for an imported wallet, whose slots
        no ceremony recorded, the members with the keyholder role)."""
        owners = tuple(m for m in self.members if m.slot is not None)
        return owners or tuple(m for m in self.members if m.role == "keyholder")

    @classmethod
    def from_dict(cls, data: object) -> "PinnedRoster":
        try:
            return _read_v2(data)
        except (KeyError, TypeError, ValueError, AttributeError, InvalidInput):  # InvalidInput: a bad agent key
            raise InvalidInput("bad_roster", "not a version 2 roster (network, policy_id, descriptor, m, rp_id, "
                               "origin, require_user_verification, members, policy)") from None


def _integer(value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{value!r} is not a whole number from {low} to {high}")
    return value


def _read_member(data: dict) -> Member:
    if set(data) != {"user", "role", "slot", "agent_key", "passkeys"} or data["role"] not in ROLES:
        raise ValueError("member fields")
    slot = None if data["slot"] is None else _integer(data["slot"], 0, 14)
    key = None if data["agent_key"] is None else agent_keys.check_public_key(data["agent_key"])
    passkeys = {c: bytes.fromhex(k) for c, k in data["passkeys"].items()}
    if not all(isinstance(c, str) and c for c in passkeys):
        raise ValueError("credential ids are text")
    return Member(_integer(data["user"], 1, 2**62), data["role"], slot, passkeys, key)


def _read_v2(data: object) -> PinnedRoster:
    fields = {"v", "network", "policy_id", "descriptor", "m", "rp_id", "origin", "require_user_verification",
              "members", "policy"}
    if not isinstance(data, dict) or set(data) != fields or data["v"] != ROSTER_V2:
        raise ValueError("fields")
    members = tuple(_read_member(m) for m in data["members"])
    users = [m.user for m in members]
    if users != sorted(set(users)):
        raise ValueError("members are listed once each, by user id")
    policy = data["policy"]
    approvers = tuple(_integer(u, 1, 2**62) for u in policy["approvers"])
    if set(policy) != {"threshold", "approvers"} or list(approvers) != sorted(set(approvers)) \
            or not set(approvers) <= set(users):
        raise ValueError("approvers are members, listed once each, in order")
    texts = [data[k] for k in ("network", "policy_id", "descriptor", "rp_id", "origin")]
    if not all(isinstance(t, str) for t in texts) or not isinstance(data["require_user_verification"], bool):
        raise ValueError("texts")
    return PinnedRoster(*texts[:3], _integer(data["m"], 1, 15), *texts[3:], data["require_user_verification"],
                        members, _integer(policy["threshold"], 0, len(approvers)), approvers)


def load(data: object) -> "Roster | PinnedRoster":
    """A roster file of either version."""
    if isinstance(data, dict) and data.get("v") == ROSTER_V2:
        return PinnedRoster.from_dict(data)
    return Roster.from_dict(data)


def active_agent_keys(db: Database, users: Iterable[int]) -> dict[int, str]:
    ids = list(users)
    marks = ",".join("?" * len(ids))
    return dict(db.execute(f"SELECT user_id, public_key FROM agent_keys WHERE replaced_at IS NULL "
                           f"AND user_id IN ({marks})", ids).fetchall()) if ids else {}


def build(db: Database, network: str, descriptor: str, m: int, roles: dict[int, str], slots: dict[int, int],
          rp: RelyingParty, policy: tuple[int, tuple[int, ...]] | None = None) -> PinnedRoster:
    """A roster of ``roles`` (user -> role) with their passkeys and agent keys as the
    server has them now; ``policy`` (threshold, approvers) defaults to 0 and the
    admins and keyholders."""
    keys = active_agent_keys(db, roles)
    members = []
    for user in sorted(roles):
        passkeys = {c: bytes.fromhex(k) for c, k in db.execute(
            "SELECT credential_id, public_key FROM passkeys WHERE user_id = ?", [user]).fetchall()}
        members.append(Member(user, roles[user], slots.get(user), passkeys, keys.get(user)))
    if policy is None:
        policy = (0, tuple(u for u in sorted(roles) if roles[u] in APPROVER_ROLES))
    policy_id = MultisigDescriptor.from_string(descriptor).policy_id
    return PinnedRoster(network, policy_id, descriptor, m, rp.rp_id, rp.origin, False, tuple(members), *policy)


def current(db: Database, wallet_id: int, rp: RelyingParty) -> PinnedRoster:
    """The wallet's roster as the server has it now, with the pinned policy (if any)."""
    row = db.execute("SELECT network, descriptor, threshold FROM wallets WHERE id = ?", [wallet_id]).fetchone()
    if row is None:
        raise InvalidInput("bad_roster", f"no wallet {wallet_id}")
    roles = dict(db.execute("SELECT user_id, role FROM memberships WHERE wallet_id = ?", [wallet_id]).fetchall())
    slots = dict(db.execute("SELECT s.user_id, s.position FROM draft_slots s JOIN wallet_drafts d "
                            "ON d.id = s.draft_id WHERE d.wallet_id = ?", [wallet_id]).fetchall())
    pinned_now = pinned(db, wallet_id)
    policy = None
    if pinned_now is not None:
        policy = (pinned_now.threshold, tuple(u for u in pinned_now.approvers if u in roles))
        policy = (min(policy[0], len(policy[1])), policy[1])
    return build(db, row[0], row[1], row[2], roles, {u: p for u, p in slots.items() if u in roles}, rp, policy)


def pinned(db: Database, wallet_id: int) -> PinnedRoster | None:
    """The roster in force: the latest pinned version, or None for a wallet no ceremony pinned."""
    row = db.execute("SELECT body FROM pinned_rosters WHERE wallet_id = ? ORDER BY version DESC LIMIT 1",
                     [wallet_id]).fetchone()
    return None if row is None else PinnedRoster.from_dict(canonical.decode(row[0].encode()))


def pinned_version(db: Database, wallet_id: int) -> int:
    row = db.execute("SELECT max(version) FROM pinned_rosters WHERE wallet_id = ?", [wallet_id]).fetchone()
    return row[0] or 0


def pin(db: Database, wallet_id: int, roster: PinnedRoster, at: int) -> int:
    """Store ``roster`` as the wallet's next version (inside the caller's write transaction)."""
    version = pinned_version(db, wallet_id) + 1
    db.execute("INSERT INTO pinned_rosters (wallet_id, version, hash, body, pinned_at) VALUES (?, ?, ?, ?, ?)",
               [wallet_id, version, roster.hash(), canonical.encode(roster.to_dict()).decode(), at])
    return version
