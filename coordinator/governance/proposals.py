"""Spend proposals: a member proposes who is paid, how much and why; the server
builds the PSBT from the wallet's synced coins through the PSBT engine, checks
it with the signer checks, and locks its coins to the proposal's family.

The proposal's intent (governance/intent.py) is what approvals sign; the memo
text stays in the row (erasable) and the intent and audit chain keep its hash.
Cancelling or expiring a proposal frees the coins no other live member of its
family still spends; fee bumps (governance/replacements.py) add members to a
family, each replacing the newest.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Iterable

from sqlite_utils import Database

from .. import canonical
from ..errors import Conflict, InvalidInput, NotFound
from ..psbt import codec
from ..psbt.checks import change_index_limit, check
from ..psbt.fees import DEFAULT_POLICY
from ..psbt.model import Recipient as Payment
from ..psbt.spend import Spend, plan_spend
from ..store import chain as chain_store
from ..store.db import write
from ..store.wallets import Wallet
from ..wallet import addresses
from ..wallet.descriptor import CHANGE
from . import audit, locks, outbox, successor
from . import coins as wallet_coins
from .events import ProposalClosed, ProposalCreated
from .intent import Intent, Recipient, memo_hash

TTL = 7 * 24 * 3600
MAX_MEMO = 1000
LIVE = ("open", "broadcast")  # a family member that may still confirm
# replaced_by: the newest member that replaces this one (replacements.py)
_SELECT = "SELECT p.*, (SELECT max(r.id) FROM proposals r WHERE r.replaces = p.id) AS replaced_by FROM proposals p"


@dataclass(frozen=True)
class Proposal:
    id: int
    wallet_id: int
    family_id: str
    proposer: int
    state: str
    memo: str | None
    intent: Intent
    psbt: str  # base64
    created_at: int
    expires_at: int
    replaces: int | None = None  # the family member this fee bump replaces
    replaced_by: int | None = None

    @classmethod
    def from_row(cls, row: dict) -> "Proposal":
        return cls(row["id"], row["wallet_id"], row["family_id"], row["proposer"], row["state"], row["memo"],
                   Intent.from_dict(json.loads(row["intent"])), row["psbt"], row["created_at"], row["expires_at"],
                   row.get("replaces"), row.get("replaced_by"))

    def to_dict(self) -> dict:
        return {"id": self.id, "wallet_id": self.wallet_id, "family_id": self.family_id, "proposer": self.proposer,
                "state": self.state, "memo": self.memo, "intent": self.intent.to_dict(),
                "intent_digest": self.intent.digest().hex(), "created_at": self.created_at,
                "expires_at": self.expires_at, "replaces": self.replaces, "replaced_by": self.replaced_by}


def create(db: Database, wallet: Wallet, proposer: int, payments: list[Payment], memo: str, fee_rate: int, *,
           coins: Iterable[str] | None = None, fee_ceiling: int | None = None, ttl: int = TTL,
           now: int | None = None, sweep: bool = False) -> Proposal:
    """Build, check and store a proposal; its coins are locked in the same transaction.
    A ``sweep`` (governance/sweep.py) pays all of ``coins`` to its one payment, no change;
    it is the only spend a retired wallet takes."""
    at = int(time.time()) if now is None else now
    memo = _check_memo(memo)
    with write(db):
        if not sweep:
            successor.require_active(db, wallet.id)
        spend = _plan(db, wallet, payments, fee_rate, coins, sweep)
        family = secrets.token_hex(16)
        intent = Intent(wallet.network, wallet.descriptor.policy_id, family, _recipients(spend), memo_hash(memo),
                        _fee_ceiling(spend, fee_ceiling), at, at + _check_ttl(ttl))
        cursor = db.execute(
            "INSERT INTO proposals (wallet_id, family_id, proposer, state, memo, intent, psbt, created_at, expires_at) "
            "VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?)",
            [wallet.id, family, proposer, memo, canonical.encode(intent.to_dict()).decode("utf-8"),
             codec.to_base64(spend.psbt), at, intent.expires_at])
        locks.lock(db, wallet.id, family, [(u.txid, u.vout) for u in spend.inputs], at)
        audit.append_to_wallet(db, wallet.id, "proposal_created",
                               {"proposal": cursor.lastrowid, "intent": intent.to_dict(),
                                "intent_digest": intent.digest().hex()}, actor=f"user:{proposer}", at=at)
        outbox.record(db, ProposalCreated(wallet.id, cursor.lastrowid, proposer, intent.digest().hex()), at=at)
    return get(db, wallet.id, cursor.lastrowid)


def get(db: Database, wallet_id: int, proposal_id: int) -> Proposal:
    rows = list(db.query(f"{_SELECT} WHERE p.id = ? AND p.wallet_id = ?", [proposal_id, wallet_id]))
    if not rows:
        raise NotFound("proposal_not_found", "no such proposal in this wallet")
    return Proposal.from_row(rows[0])


def list_for(db: Database, wallet_id: int) -> list[Proposal]:
    return [Proposal.from_row(r) for r in db.query(f"{_SELECT} WHERE p.wallet_id = ? ORDER BY p.id DESC", [wallet_id])]


def family(db: Database, family_id: str) -> list[Proposal]:
    """A proposal and its fee-bump replacements, oldest first."""
    return [Proposal.from_row(r) for r in db.query(f"{_SELECT} WHERE p.family_id = ? ORDER BY p.id", [family_id])]


def cancel(db: Database, wallet_id: int, proposal_id: int, actor: int, now: int | None = None) -> Proposal:
    """Close an open proposal and free its coins."""
    with write(db):
        _close(db, get(db, wallet_id, proposal_id), "cancelled", f"user:{actor}", now)
    return get(db, wallet_id, proposal_id)


def cancel_open(db: Database, wallet_id: int, actor: str, at: int) -> list[int]:
    """Cancel every open proposal of the wallet, in the caller's transaction: a retired
    wallet (successor.py) takes no spend but sweeps, and their coins go to the sweep."""
    found = [Proposal.from_row(r) for r in db.query(f"{_SELECT} WHERE p.wallet_id = ? AND p.state = 'open'",
                                                    [wallet_id])]
    for proposal in found:
        _close(db, proposal, "cancelled", actor, at)
    return [p.id for p in found]


def expire_due(db: Database, now: int | None = None) -> list[int]:
    """Close every open proposal past its expiry; returns their ids."""
    at = int(time.time()) if now is None else now
    with write(db):
        due = [Proposal.from_row(r) for r in db.query(f"{_SELECT} WHERE p.state = 'open' AND p.expires_at <= ?",
                                                      [at])]
        for proposal in due:
            _close(db, proposal, "expired", "system", at)
    return [p.id for p in due]


def handout(db: Database, wallet: Wallet, proposal: Proposal) -> str:
    """The proposal's PSBT, re-checked by the signer checks before it leaves."""
    check(proposal.psbt, wallet.descriptor, wallet.network,
          max_change_index=change_index_limit(addresses.last_used(db, wallet, CHANGE)))
    return proposal.psbt


def _close(db: Database, proposal: Proposal, state: str, actor: str, now: int | None) -> None:
    if proposal.state != "open":
        raise Conflict("proposal_closed", f"proposal {proposal.id} is {proposal.state}, not open")
    db.execute("UPDATE proposals SET state = ? WHERE id = ?", [state, proposal.id])
    release_unheld(db, proposal.family_id)
    audit.append_to_wallet(db, proposal.wallet_id, f"proposal_{state}", {"proposal": proposal.id}, actor, now)
    outbox.record(db, ProposalClosed(proposal.wallet_id, proposal.id, state), at=now)


def release_unheld(db: Database, family_id: str, keep: Iterable[tuple[str, int]] = ()) -> int:
    """Free the family's coins that no live member (nor ``keep``) spends: a
    cancelled fee bump must not free coins the broadcast original still spends."""
    held = set(keep)
    for member in family(db, family_id):
        if member.state in LIVE:
            held |= spent_outpoints(member)
    gone = [(t, v) for t, v in db.execute("SELECT txid, vout FROM coin_locks WHERE family_id = ?",
                                          [family_id]).fetchall() if (t, v) not in held]
    for txid, vout in gone:
        db.execute("DELETE FROM coin_locks WHERE txid = ? AND vout = ? AND family_id = ?", [txid, vout, family_id])
    return len(gone)


def spent_outpoints(proposal: Proposal) -> set[tuple[str, int]]:
    """The outpoints the proposal's transaction spends, read from its PSBT."""
    return {(vin.txid.hex(), vin.vout) for vin in codec.parse(proposal.psbt).tx.vin}


def _plan(db: Database, wallet: Wallet, payments: list[Payment], fee_rate: int, coins, sweep: bool = False) -> Spend:
    state = chain_store.sync_state(db, wallet.id)
    if state is None:
        raise Conflict("not_synced", f"wallet {wallet.name!r} has not been synced yet")
    held = locks.locked(db, wallet.id)
    # Coin control: exactly these coins, each checked for its own refusal (coins.py);
    # else the engine chooses among the unlocked, unfrozen, mature ones.
    chosen = None if coins is None else wallet_coins.check_chosen(db, wallet.id, coins, held)
    free = wallet_coins.selectable(db, wallet.id, state.tip_height, held)
    spend = plan_spend(wallet.descriptor, wallet.network, free, payments, fee_rate,
                       addresses.change_index(db, wallet), state.tip_height, coins=chosen, send_max=sweep)
    check(spend.psbt, wallet.descriptor, wallet.network,
          max_change_index=change_index_limit(addresses.last_used(db, wallet, CHANGE)))
    return spend


def _recipients(spend: Spend) -> tuple[Recipient, ...]:
    return tuple(Recipient(o.script_pubkey.hex(), o.value) for o in spend.outputs if o.change_index is None)


def _fee_ceiling(spend: Spend, asked: int | None) -> int:
    """Room for a fee bump: twice the fee unless asked otherwise, within the fee cap."""
    ceiling = min(2 * spend.fee, DEFAULT_POLICY.max_fee) if asked is None else asked
    if not isinstance(ceiling, int) or isinstance(ceiling, bool) or not spend.fee <= ceiling <= DEFAULT_POLICY.max_fee:
        raise InvalidInput("bad_intent", f"the fee ceiling must be between this spend's fee ({spend.fee} sat) "
                                         f"and {DEFAULT_POLICY.max_fee} sat")
    return ceiling


def _check_memo(memo: object) -> str:
    if not isinstance(memo, str) or not memo.strip() or len(memo) > MAX_MEMO:
        raise InvalidInput("bad_memo", f"a proposal needs a memo saying why, of 1 to {MAX_MEMO} characters")
    return memo


def _check_ttl(ttl: object) -> int:
    if not isinstance(ttl, int) or isinstance(ttl, bool) or not 600 <= ttl <= 90 * 24 * 3600:
        raise InvalidInput("bad_intent", "a proposal expires between 10 minutes and 90 days after it is made")
    return ttl
