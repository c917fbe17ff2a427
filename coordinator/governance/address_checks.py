"""Verifying an address on a member's own device, through their agent (issue 13,
Build 2; issue 12, Build 4; docs/agent.md, "Showing an address when asked").

``ask`` records a check of (branch, index) for the calling member and gives the
``show_address`` payload for their agents. It carries no address and no
descriptor: the agent derives from the descriptor it pinned, has its device show
the address, and compares the two itself. ``answer`` takes the agent's
``address_shown``: the server compares the reported address with its own
derivation, and only when both agree is the address *verified*. A disagreement is
an ``address_mismatch``, never verified. Verified checks and mismatches are
entries in the wallet's audit chain (DESIGN, "The PWA marks an address
unverified until a device has shown it"): a later edit of the table cannot turn
a mismatch into a verified address unseen. An agent's refusal (no device,
declined, an index past its gap limit...) is only an event.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

from sqlite_utils import Database

from ..errors import Conflict, InvalidInput, NotFound, Unprocessable
from ..psbt.checks import change_index_limit
from ..store.db import write
from ..store.wallets import Wallet
from ..wallet.addresses import GAP_LIMIT
from ..wallet.descriptor import CHANGE, RECEIVE
from . import audit, outbox
from .address_events import AddressCheckRefused, AddressMismatch, AddressVerified

BRANCHES = {"receive": RECEIVE, "change": CHANGE}
NAMES = {v: k for k, v in BRANCHES.items()}
MAX_INDEX = 2**31 - 1  # BIP-32: unhardened children only
_FPR = re.compile(r"[0-9a-f]{8}")
_COLUMNS = ("id", "user_id", "branch", "idx", "address", "asked_at", "outcome", "fingerprint", "device", "shown",
            "reason", "answered_at")


@dataclass(frozen=True)
class Check:
    """One check asked of a member's agents, and its answer once it came."""

    id: str
    user_id: int
    branch: int
    index: int
    address: str  # the server's derivation
    asked_at: int
    outcome: str | None = None  # verified, mismatch or refused
    fingerprint: str | None = None
    device: str | None = None
    shown: str | None = None  # the address the agent reported its device showed
    reason: str | None = None
    answered_at: int | None = None

    @classmethod
    def from_row(cls, row: tuple) -> "Check":
        return cls(*row)

    def to_dict(self) -> dict:
        return {"request_id": self.id, "user": self.user_id, "branch": NAMES[self.branch], "index": self.index,
                "address": self.address, "asked_at": self.asked_at, "outcome": self.outcome,
                "fingerprint": self.fingerprint, "device": self.device, "shown": self.shown,
                "reason": self.reason, "answered_at": self.answered_at}


def branch_of(name: object) -> int:
    if name not in BRANCHES:
        raise InvalidInput("bad_index", f"the branch is receive or change, not {name!r}")
    return BRANCHES[name]


def check_index(db: Database, wallet: Wallet, branch: int, index: object) -> int:
    """The index, if a restoring wallet would find coins there: at most the gap limit past
    the last address the server saw used (the agent applies its own limit as well)."""
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= MAX_INDEX:
        raise InvalidInput("bad_index", f"address index {index!r} must be 0 to {MAX_INDEX}")
    last_used = db.execute("SELECT MAX(idx) FROM addresses WHERE wallet_id = ? AND branch = ? AND used",
                           [wallet.id, branch]).fetchone()[0]
    limit = change_index_limit(last_used, GAP_LIMIT)
    if index > limit:
        raise Conflict("gap_limit_reached", f"{NAMES[branch]} index {index} is beyond the gap limit (at most "
                       f"{limit}, {GAP_LIMIT} past the last used one); a restoring wallet would not look there")
    return index


def slot_fingerprints(db: Database, wallet: Wallet, user_id: int) -> list[str] | None:
    """The master fingerprints of the member's slots; None when the wallet records no slots
    (it was imported from a file, not set up at the ceremony)."""
    rows = db.execute("SELECT s.position, s.user_id FROM draft_slots s JOIN wallet_drafts d ON d.id = s.draft_id "
                      "WHERE d.wallet_id = ? ORDER BY s.position", [wallet.id]).fetchall()
    if not rows:
        return None
    cosigners = wallet.descriptor.cosigners
    return [cosigners[p].fingerprint for p, u in rows if u == user_id and p < len(cosigners)]


def ask(db: Database, wallet: Wallet, user_id: int, branch_name: object, index: object, agents_online: int,
        now: int | None = None) -> tuple[Check, dict]:
    """Record a check for ``user_id``'s own agents (``agents_online`` of them are connected);
    (the check, the ``show_address`` payload)."""
    branch = branch_of(branch_name)
    index = check_index(db, wallet, branch, index)
    slots = slot_fingerprints(db, wallet, user_id)
    if slots == []:
        raise Unprocessable("address_check_no_slot", f"user {user_id} holds no cosigner slot of {wallet.name!r}")
    if agents_online < 1:  # before recording: a check no agent can answer helps no one
        raise Conflict("agent_offline", "none of your signer agents is connected to this server; start "
                       "`huddle agent run` on the computer your device is plugged into, then ask again")
    at = int(time.time()) if now is None else now
    check = Check(secrets.token_hex(12), user_id, branch, index, wallet.descriptor.address(branch, index,
                                                                                          wallet.network), at)
    with write(db):
        db.execute("INSERT INTO address_checks (id, wallet_id, user_id, branch, idx, address, asked_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)", [check.id, wallet.id, user_id, branch, index, check.address, at])
    payload = {"request_id": check.id, "wallet_id": wallet.id, "policy_id": wallet.descriptor.policy_id,
               "branch": NAMES[branch], "index": index,
               "fingerprint": slots[0] if slots and len(slots) == 1 else None}
    return check, payload


def get(db: Database, wallet_id: int, request_id: object, user_id: int) -> Check:
    row = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM address_checks WHERE id = ? AND wallet_id = ? "
                     "AND user_id = ?", [request_id if isinstance(request_id, str) else "", wallet_id,
                                         user_id]).fetchone()
    if row is None:
        raise NotFound("address_check_unknown", "no address check with this id was asked of this agent")
    return Check.from_row(row)


def wallet_of(db: Database, request_id: object, user_id: int) -> int:
    """The wallet of a check asked of ``user_id``'s agents; ``address_check_unknown`` otherwise."""
    row = db.execute("SELECT wallet_id FROM address_checks WHERE id = ? AND user_id = ?",
                     [request_id if isinstance(request_id, str) else "", user_id]).fetchone()
    if row is None:
        raise NotFound("address_check_unknown", "no address check with this id was asked of this agent")
    return row[0]


def answer(db: Database, wallet: Wallet, user_id: int, data: object, now: int | None = None) -> Check:
    """Take the agent's ``address_shown``: verified, mismatch or refused, recorded once, with its
    event (and, unless refused, its audit entry) in the same transaction."""
    fields = data if isinstance(data, dict) else {}
    at = int(time.time()) if now is None else now
    with write(db):
        check = get(db, wallet.id, fields.get("request_id"), user_id)
        if check.outcome is not None:
            raise Conflict("address_check_answered", f"address check {check.id} was answered already "
                           f"({check.outcome})")
        if fields.get("branch") != NAMES[check.branch] or fields.get("index") != check.index:
            raise InvalidInput("bad_address_check", "the answer is for another branch or index than was asked")
        done = _judge(wallet, check, fields, at)
        db.execute("UPDATE address_checks SET outcome = ?, fingerprint = ?, device = ?, shown = ?, reason = ?, "
                   "answered_at = ? WHERE id = ? AND outcome IS NULL",
                   [done.outcome, done.fingerprint, done.device, done.shown, done.reason, at, check.id])
        _announce(db, wallet, done, at)
    return done


def _judge(wallet: Wallet, check: Check, fields: dict, at: int) -> Check:
    refused = fields.get("refused")
    if isinstance(refused, dict):
        code, message = str(refused.get("code", "refused"))[:60], str(refused.get("message", ""))[:300]
        return _with(check, "refused", None, None, None, f"{code}: {message}", at)
    fingerprint, shown = fields.get("fingerprint"), fields.get("address")
    device = fields.get("device") if isinstance(fields.get("device"), str) else "unknown"
    if not (isinstance(fingerprint, str) and _FPR.fullmatch(fingerprint) and isinstance(shown, str)
            and 0 < len(shown) <= 120):
        raise InvalidInput("bad_address_check", "address_shown carries address and fingerprint (8 hex digits), "
                           "or refused {code, message}")
    device = device[:40]
    if fingerprint not in {c.fingerprint for c in wallet.descriptor.cosigners}:
        return _with(check, "mismatch", fingerprint, device, shown,
                     f"device {fingerprint} is not a cosigner of this wallet", at)
    if shown != check.address:
        return _with(check, "mismatch", fingerprint, device, shown, f"the agent reports {shown}, the server "
                     f"derives {check.address}: do not pay to either", at)
    return _with(check, "verified", fingerprint, device, shown, None, at)


def _with(check: Check, outcome: str, fingerprint, device, shown, reason, at: int) -> Check:
    return Check(check.id, check.user_id, check.branch, check.index, check.address, check.asked_at, outcome,
                 fingerprint, device, shown, reason, at)


def _announce(db: Database, wallet: Wallet, done: Check, at: int) -> None:
    branch, actor = NAMES[done.branch], f"user:{done.user_id}"
    if done.outcome == "refused":
        code, _, message = (done.reason or "").partition(": ")
        outbox.record(db, AddressCheckRefused(wallet.id, done.id, done.user_id, branch, done.index, code, message),
                      at=at)
        return
    body = {"request": done.id, "user": done.user_id, "fingerprint": done.fingerprint, "device": done.device,
            "branch": branch, "index": done.index, "address": done.address}
    if done.outcome == "verified":
        audit.append_to_wallet(db, wallet.id, "address_verified", body, actor, at)
        event = AddressVerified(wallet.id, done.id, done.user_id, done.fingerprint, done.device, branch,
                                done.index, done.address)
    else:
        audit.append_to_wallet(db, wallet.id, "address_mismatch", {**body, "shown": done.shown,
                                                                   "reason": done.reason}, actor, at)
        event = AddressMismatch(wallet.id, done.id, done.user_id, done.fingerprint, done.device, branch,
                                done.index, done.address, done.shown, done.reason)
    outbox.record(db, event, at=at)


def listing(db: Database, wallet_id: int, limit: int = 200) -> list[dict]:
    """The wallet's answered checks, newest first, each with the member's name."""
    cursor = db.execute(f"SELECT {', '.join('c.' + c for c in _COLUMNS)}, u.name FROM address_checks c "
                        "JOIN users u ON u.id = c.user_id WHERE c.wallet_id = ? AND c.outcome IS NOT NULL "
                        "ORDER BY c.answered_at DESC, c.rowid DESC LIMIT ?", [wallet_id, limit])
    return [{**Check.from_row(row[:-1]).to_dict(), "name": row[-1]} for row in cursor.fetchall()]
