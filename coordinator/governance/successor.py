"""Successor wallets (issue 15, docs/successor.md).

A multisig wallet's keys are fixed by its descriptor, so replacing a lost key,
changing M or N, or moving to another script type means a new wallet and a spend
of every coin into it. The wallet's admin starts a successor setup draft that
keeps chosen cosigner slots (same key, same owner) and gives the others to new
owners; it goes through the normal setup ceremony (wallet_setup.py: keys, safety
codes compared on the call, first addresses confirmed at the devices and agents).
Its activation retires the old wallet: watch-only, linked both ways in the two
audit chains (wallet ids and policy ids). Sweeps (sweep.py) then move its coins,
through the old wallet's own approvals and signatures. A coin that arrives at a
retired wallet later is flagged, and offered for the next sweep.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from sqlite_utils import Database

from ..accounts import roles
from ..errors import Conflict, InvalidInput, NotFound
from ..store import chain as chain_store
from ..store.db import write
from ..wallet.descriptor import MAX_COSIGNERS
from . import audit, outbox, wallet_setup
from .successor_errors import LateCoinFlagged, SuccessorStarted, WalletRetired


@dataclass(frozen=True)
class Succession:
    """A retired wallet and its successor."""

    old_wallet_id: int
    new_wallet_id: int
    draft_id: int
    retired_at: int
    old_policy_id: str
    new_policy_id: str

    def to_dict(self) -> dict:
        return {"retired": {"wallet_id": self.old_wallet_id, "policy_id": self.old_policy_id},
                "successor": {"wallet_id": self.new_wallet_id, "policy_id": self.new_policy_id},
                "draft_id": self.draft_id, "retired_at": self.retired_at}


@dataclass(frozen=True)
class SlotPlan:
    """One slot of the successor: its owner, and the old slot (and key) it keeps, if any."""

    owner: int
    kept_from: int | None = None
    key: str | None = None


def start(db: Database, wallet_id: int, admin_id: int, slots: object, threshold: object,
          script_type: object = None, name: object = None, now: int | None = None) -> wallet_setup.Draft:
    """The wallet's admin drafts its successor: ``slots`` lists, for each new slot,
    ``{"keep": old position}`` (same key, same owner) or ``{"owner": user id}`` (a new key)."""
    at = int(time.time()) if now is None else now
    with write(db):
        roles.require(db, admin_id, wallet_id, "admin")
        old = _wallet_row(db, wallet_id)
        if retired(db, wallet_id) is not None:
            raise Conflict("wallet_retired", "this wallet is already retired; start from its successor")
        _refuse_open(db, wallet_id)
        script = old["script_type"] if script_type is None else script_type
        plan = plan_slots(_old_slots(db, wallet_id), _members(db, wallet_id), slots)
        draft_name = f"{old['name'][:53]} successor" if name is None else name
        if not isinstance(draft_name, str):
            raise InvalidInput("bad_wallet_name", "the successor's name is text")
        draft_id = wallet_setup.open_draft(db, admin_id, draft_name, old["network"], script, threshold,
                                           [p.owner for p in plan], at)
        db.execute("INSERT INTO successor_drafts (draft_id, old_wallet_id, started_by, started_at, kept) "
                   "VALUES (?, ?, ?, ?, ?)", [draft_id, wallet_id, admin_id, at, json.dumps(
                       {str(i): p.kept_from for i, p in enumerate(plan) if p.kept_from is not None})])
        if script == old["script_type"]:  # a key at another script type's BIP-48 path is another key
            for position, p in enumerate(plan):
                if p.key is not None:
                    wallet_setup.keep_slot(db, draft_id, position, p.key,
                                           {"wallet": wallet_id, "position": p.kept_from}, at)
        audit.append_to_wallet(db, wallet_id, "successor_started", {
            "draft": draft_id, "setup_chain": wallet_setup.setup_chain(draft_id), "script_type": script,
            "threshold": threshold, "n": len(plan),
            "kept": [{"from": p.kept_from, "to": i} for i, p in enumerate(plan) if p.kept_from is not None],
            "replaced": sorted(set(_old_slots(db, wallet_id)) - {p.kept_from for p in plan})},
            f"user:{admin_id}", at)
        outbox.record(db, SuccessorStarted(wallet_id, draft_id, admin_id), at=at)
        return wallet_setup.get(db, draft_id, admin_id)


def plan_slots(old_slots: dict[int, tuple[int, str]], members: set[int], spec: object) -> list[SlotPlan]:
    """Pure: the successor's slots from the request; ``old_slots`` maps an old position to
    (owner, key), ``members`` are the wallet's current members."""
    if not isinstance(spec, list) or not 2 <= len(spec) <= MAX_COSIGNERS:
        raise InvalidInput("bad_successor_slots", f"a successor has 2 to {MAX_COSIGNERS} slots")
    plan, kept = [], set()
    for entry in spec:
        if not isinstance(entry, dict) or len(entry) != 1 or not {"keep", "owner"} & set(entry):
            raise InvalidInput("bad_successor_slots", "each slot is {\"keep\": old position} or "
                               "{\"owner\": user id}")
        (what, value), = entry.items()
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidInput("bad_successor_slots", f"{what} is a whole number, not {value!r}")
        if what == "owner":
            plan.append(SlotPlan(value))
            continue
        if value not in old_slots or value in kept:
            raise InvalidInput("bad_successor_slots", f"old slot {value} does not exist or is kept twice; "
                               f"the wallet's slots are {sorted(old_slots)}")
        owner, key = old_slots[value]
        if owner not in members:
            raise InvalidInput("successor_slot_owner_gone", f"slot {value}'s owner (user {owner}) is no longer a "
                               "member; give that slot to a new owner with a new key")
        kept.add(value)
        plan.append(SlotPlan(owner, value, key))
    return plan


def _wallet_row(db: Database, wallet_id: int) -> dict:
    rows = list(db.query("SELECT id, name, network, script_type, policy_id FROM wallets WHERE id = ?", [wallet_id]))
    if not rows:
        raise NotFound("wallet_not_found", "no such wallet")
    return rows[0]


def _old_slots(db: Database, wallet_id: int) -> dict[int, tuple[int, str]]:
    """The wallet's slots as its setup ceremony filled them (none for an imported wallet)."""
    return {pos: (owner, key) for pos, owner, key in db.execute(
        "SELECT s.position, s.user_id, s.key FROM draft_slots s JOIN wallet_drafts d ON d.id = s.draft_id "
        "WHERE d.wallet_id = ? AND d.state = ?", [wallet_id, wallet_setup.ACTIVE]).fetchall()}


def _members(db: Database, wallet_id: int) -> set[int]:
    return {r[0] for r in db.execute("SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id "
                                     "WHERE m.wallet_id = ? AND u.revoked_at IS NULL", [wallet_id]).fetchall()}


def _refuse_open(db: Database, wallet_id: int) -> None:
    row = db.execute("SELECT d.id FROM successor_drafts s JOIN wallet_drafts d ON d.id = s.draft_id "
                     "WHERE s.old_wallet_id = ? AND d.state IN (?, ?)",
                     [wallet_id, wallet_setup.COLLECTING, wallet_setup.CONFIRMING]).fetchone()
    if row is not None:
        raise Conflict("successor_draft_open", f"the successor draft {row[0]} is still open; finish it, or its "
                       "drafter cancels it", draft=row[0])


def activated(db: Database, draft_id: int, new_wallet_id: int, at: int) -> None:
    """Called by wallet_setup in the activation's transaction: if the draft succeeds a
    wallet, retire that wallet and link the two chains (old -> new, policy ids)."""
    row = db.execute("SELECT old_wallet_id FROM successor_drafts WHERE draft_id = ?", [draft_id]).fetchone()
    if row is None:
        return
    old_id = row[0]
    old_policy, new_policy = (_wallet_row(db, w)["policy_id"] for w in (old_id, new_wallet_id))
    db.execute("INSERT INTO wallet_successions (old_wallet_id, new_wallet_id, draft_id, retired_at) "
               "VALUES (?, ?, ?, ?)", [old_id, new_wallet_id, draft_id, at])
    from . import proposals  # proposals imports this module (require_active)

    proposals.cancel_open(db, old_id, "system", at)  # their coins go to the sweep; broadcast ones run on
    for u in chain_store.utxos(db, old_id):  # held at retirement: swept, never flagged
        db.execute("INSERT OR IGNORE INTO retirement_coins (wallet_id, txid, vout, late, value, seen_at) "
                   "VALUES (?, ?, ?, 0, ?, ?)", [old_id, u.txid, u.vout, u.value, at])
    setup = {"chain": wallet_setup.setup_chain(draft_id), "head": audit.head(db, wallet_setup.setup_chain(
        draft_id)).to_string()}
    audit.append_to_wallet(db, old_id, "wallet_retired", {
        "policy_id": old_policy, "successor": {"wallet": new_wallet_id, "policy_id": new_policy},
        "setup": setup}, "system", at)
    audit.append_to_wallet(db, new_wallet_id, "successor_of", {
        "policy_id": new_policy, "predecessor": {"wallet": old_id, "policy_id": old_policy}}, "system", at)
    outbox.record(db, WalletRetired(old_id, new_wallet_id), at=at)


def _succession(db: Database, column: str, wallet_id: int) -> Succession | None:
    row = db.execute(f"SELECT old_wallet_id, new_wallet_id, draft_id, retired_at FROM wallet_successions "
                     f"WHERE {column} = ?", [wallet_id]).fetchone()
    if row is None:
        return None
    old, new = (_wallet_row(db, w)["policy_id"] for w in row[:2])
    return Succession(row[0], row[1], row[2], row[3], old, new)


def retired(db: Database, wallet_id: int) -> Succession | None:
    """The succession that retired this wallet, if it is retired."""
    return _succession(db, "old_wallet_id", wallet_id)


def predecessor(db: Database, wallet_id: int) -> Succession | None:
    """The succession that made this wallet a successor, if it is one."""
    return _succession(db, "new_wallet_id", wallet_id)


def flag_late_coins(db: Database, wallet_id: int, now: int | None = None) -> list[dict]:
    """Flag each coin of a retired wallet that it did not hold when it retired (an audit
    entry and a ``late_coin_flagged`` event, once per coin); returns every late coin."""
    at = int(time.time()) if now is None else now
    if retired(db, wallet_id) is None:
        return []
    with write(db):
        known = {(t, v) for t, v in db.execute("SELECT txid, vout FROM retirement_coins WHERE wallet_id = ?",
                                                [wallet_id]).fetchall()}
        for u in chain_store.utxos(db, wallet_id):
            if (u.txid, u.vout) in known:
                continue
            db.execute("INSERT INTO retirement_coins (wallet_id, txid, vout, late, value, seen_at) "
                       "VALUES (?, ?, ?, 1, ?, ?)", [wallet_id, u.txid, u.vout, u.value, at])
            outpoint = f"{u.txid}:{u.vout}"
            audit.append_to_wallet(db, wallet_id, "late_coin_flagged", {"coin": outpoint, "value": u.value},
                                   "system", at)
            outbox.record(db, LateCoinFlagged(wallet_id, outpoint, u.value), at=at)
    return late_coins(db, wallet_id)


def late_coins(db: Database, wallet_id: int) -> list[dict]:
    unspent = {(u.txid, u.vout) for u in chain_store.utxos(db, wallet_id)}
    return [{"outpoint": f"{t}:{v}", "value": value, "flagged_at": seen, "unspent": (t, v) in unspent}
            for t, v, value, seen in db.execute(
                "SELECT txid, vout, value, seen_at FROM retirement_coins WHERE wallet_id = ? AND late = 1 "
                "ORDER BY seen_at, txid, vout", [wallet_id]).fetchall()]


def require_active(db: Database, wallet_id: int) -> None:
    """Refuse a spend other than a sweep from a retired wallet (proposals.py calls it)."""
    found = db.execute("SELECT new_wallet_id FROM wallet_successions WHERE old_wallet_id = ?",
                       [wallet_id]).fetchone()
    if found is not None:
        raise Conflict("wallet_retired", f"this wallet is retired and watch-only: its successor is wallet "
                       f"{found[0]}; sweep the coins into it instead", successor=found[0])


def replace_passkeys(db: Database, user_id: int, passkey, lost: object, rp, now: int | None = None) -> dict:
    """A member who lost a passkey (signed in with a recovery code) adds a new one and
    drops the ``lost`` credential ids. Passkeys are in each wallet's pinned roster, so
    each such wallet gets a pending roster change that M keyholders' agents confirm;
    until then the new passkey's approvals do not count (quorum.py reads the pinned roster)."""
    from ..accounts import passkeys as accounts_passkeys
    from . import roster_changes

    at = int(time.time()) if now is None else now
    with write(db):
        mine = {c for c, _ in accounts_passkeys.public_keys(db, user_id)}
        dropped = [] if lost is None else lost
        if not isinstance(dropped, list) or not all(isinstance(c, str) and c in mine for c in dropped):
            raise InvalidInput("bad_input", "lost is a list of your own passkeys' credential ids")
        accounts_passkeys.add(db, user_id, passkey, at)
        for credential in dropped:
            db.execute("DELETE FROM passkeys WHERE credential_id = ? AND user_id = ?", [credential, user_id])
        audit.append(db, audit.SERVER_CHAIN, "passkey_replaced",
                     {"user": user_id, "added": passkey.credential_id, "removed": sorted(dropped)},
                     f"user:{user_id}", at)
        changes = []
        for wallet_id, _ in roles.wallets_of(db, user_id):
            change = roster_changes.propose_own_passkeys(db, wallet_id, user_id, rp, at)
            if change is not None:
                changes.append({"wallet_id": wallet_id, "change": change.id, "safety_code":
                                change.roster.safety_code(), "needed": change.needed, "summary": list(change.summary)})
    return {"passkey": passkey.credential_id, "removed": sorted(dropped), "roster_changes": changes}
