"""Spend proposals: a member proposes who is paid, how much and why; the server
builds the PSBT from the wallet's synced coins through the PSBT engine, checks
it with the signer checks, and locks its coins to the proposal's family.

The proposal's intent (governance/intent.py) is what approvals sign; the memo
text stays in the row (erasable) and the intent and audit chain keep its hash.
Cancelling or expiring a proposal frees its coins. Fee bumps (a replacement in
the same family) and approvals come next (issue 10).
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
from . import audit, locks, outbox
from .events import ProposalClosed, ProposalCreated
from .intent import Intent, Recipient, memo_hash

TTL = 7 * 24 * 3600
MAX_MEMO = 1000


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

    @classmethod
    def from_row(cls, row: dict) -> "Proposal":
        return cls(row["id"], row["wallet_id"], row["family_id"], row["proposer"], row["state"], row["memo"],
                   Intent.from_dict(json.loads(row["intent"])), row["psbt"], row["created_at"], row["expires_at"])

    def to_dict(self) -> dict:
        return {"id": self.id, "wallet_id": self.wallet_id, "family_id": self.family_id, "proposer": self.proposer,
                "state": self.state, "memo": self.memo, "intent": self.intent.to_dict(),
                "intent_digest": self.intent.digest().hex(), "created_at": self.created_at,
                "expires_at": self.expires_at}


def create(db: Database, wallet: Wallet, proposer: int, payments: list[Payment], memo: str, fee_rate: int, *,
           coins: Iterable[str] | None = None, fee_ceiling: int | None = None, ttl: int = TTL,
           now: int | None = None) -> Proposal:
    """Build, check and store a proposal; its coins are locked in the same transaction."""
    at = int(time.time()) if now is None else now
    memo = _check_memo(memo)
    with write(db):
        spend = _plan(db, wallet, payments, fee_rate, coins)
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
    rows = list(db.query("SELECT * FROM proposals WHERE id = ? AND wallet_id = ?", [proposal_id, wallet_id]))
    if not rows:
        raise NotFound("proposal_not_found", "no such proposal in this wallet")
    return Proposal.from_row(rows[0])


def list_for(db: Database, wallet_id: int) -> list[Proposal]:
    return [Proposal.from_row(r) for r in db.query(
        "SELECT * FROM proposals WHERE wallet_id = ? ORDER BY id DESC", [wallet_id])]


def cancel(db: Database, wallet_id: int, proposal_id: int, actor: int, now: int | None = None) -> Proposal:
    """Close an open proposal and free its coins."""
    with write(db):
        _close(db, get(db, wallet_id, proposal_id), "cancelled", f"user:{actor}", now)
    return get(db, wallet_id, proposal_id)


def expire_due(db: Database, now: int | None = None) -> list[int]:
    """Close every open proposal past its expiry; returns their ids."""
    at = int(time.time()) if now is None else now
    with write(db):
        due = [Proposal.from_row(r) for r in db.query(
            "SELECT * FROM proposals WHERE state = 'open' AND expires_at <= ?", [at])]
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
    locks.unlock_family(db, proposal.family_id)
    audit.append_to_wallet(db, proposal.wallet_id, f"proposal_{state}", {"proposal": proposal.id}, actor, now)
    outbox.record(db, ProposalClosed(proposal.wallet_id, proposal.id, state), at=now)


def _plan(db: Database, wallet: Wallet, payments: list[Payment], fee_rate: int, coins) -> Spend:
    state = chain_store.sync_state(db, wallet.id)
    if state is None:
        raise Conflict("not_synced", f"wallet {wallet.name!r} has not been synced yet")
    held = locks.locked(db, wallet.id)
    chosen = list(coins) if coins is not None else None
    for outpoint in chosen or ():
        txid, _, vout = outpoint.partition(":")
        if vout.isdigit() and (txid, int(vout)) in held:
            raise Conflict("coin_locked", f"coin {outpoint} is already in another active proposal", outpoint=outpoint)
    free = [u for u in chain_store.coins(db, wallet.id) if (u.txid, u.vout) not in held]
    spend = plan_spend(wallet.descriptor, wallet.network, free, payments, fee_rate,
                       addresses.change_index(db, wallet), state.tip_height, coins=chosen)
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
