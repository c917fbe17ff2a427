"""Fee bumps (BIP-125 replace-by-fee) as linked replacement proposals (DESIGN.md,
"Coins, locks and replacements" and "The intent digest"; docs/proposals.md).

A replacement joins its family and keeps the family's intent byte for byte, so
its intent digest is the same and every approval of the family counts for it;
it needs new signatures. It replaces the family's newest live member: it spends
that member's inputs, pays the same recipients, and pays more fee:

- BIP-125 rules 3 and 4: at least the fee of every live member plus the
  incremental relay fee (1 sat/vB) over the replacement's own size;
- a higher fee rate than every live member (Core's rule 6), judged against
  the smallest that member's signatures could make it;
- at most the intent's fee ceiling, which the approvals cover.

The fee comes out of the change. When the change cannot pay, confirmed free
coins of the wallet are added and locked to the family (Core refuses a
replacement that adds unconfirmed inputs). Sizes are the builder's upper
bounds (psbt/sizes.py), so the signed transaction meets the rules with room.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from sqlite_utils import Database

from ..errors import Conflict, InvalidInput, NotFound, register
from ..psbt import codec, sizes
from ..psbt.build import Output, assemble
from ..psbt.checks import change_index_limit, check, is_change
from ..psbt.fees import DEFAULT_POLICY, sat_per_vb
from ..psbt.model import Utxo
from ..psbt.recipients import dust_limit
from ..psbt.summary import Summary
from ..store import chain as chain_store
from ..store.db import write
from ..store.wallets import Wallet
from ..wallet import addresses
from ..wallet.descriptor import CHANGE
from . import audit, coin_freeze, locks, outbox
from .events import ProposalClosed, ProposalCreated
from .proposals import LIVE, Proposal, family, get, release_unheld, spent_outpoints

CODES: dict[str, str] = {
    "replacement_fee_too_low": "a fee bump must pay more than the transaction it replaces (BIP-125); "
                               "details.min_fee_rate is the least rate that does",
    "fee_over_ceiling": "a fee bump would pay more than the fee ceiling the group approved; "
                        "a higher fee needs a new proposal",
}
register(CODES)

INCREMENTAL_RELAY = 1_000  # sat/kvB: Core's -incrementalrelayfee (BIP-125 rule 4)
# Signatures may be shorter than sizes.py's 72 bytes (low R, a short s): up to 3
# bytes each, so a live member's real fee rate is judged against its smallest size.
SIGNATURE_SLACK = 3


@dataclass(frozen=True)
class _Live:
    """What a replacement must beat: a live member's fee and its smallest vsize."""

    fee: int
    smallest_vsize: int

    def least_fee(self, vsize: int) -> int:
        """Rules 3 and 4, and a strictly higher rate: fee * smallest > self.fee * vsize."""
        return max(self.fee + sizes.fee_for(vsize, INCREMENTAL_RELAY), self.fee * vsize // self.smallest_vsize + 1)


@dataclass(frozen=True)
class _Base:
    """The replaced member's transaction: what the replacement keeps."""

    inputs: tuple[Utxo, ...]
    outputs: tuple[Output, ...]  # in its order; change marked by change_index
    locktime: int


@dataclass(frozen=True)
class Bump:
    inputs: tuple[Utxo, ...]
    outputs: tuple[Output, ...]
    fee: int
    added: tuple[Utxo, ...]  # free coins of the wallet it adds


def bump(db: Database, wallet: Wallet, proposal_id: int, actor: int, fee_rate: int,
         now: int | None = None, rng: random.Random | None = None) -> Proposal:
    """A replacement of ``proposal_id``'s family at ``fee_rate`` (sat/kvB); it
    replaces the family's newest live member, whichever member was asked for."""
    at = int(time.time()) if now is None else now
    DEFAULT_POLICY.check_rate(fee_rate)
    with write(db):
        asked = get(db, wallet.id, proposal_id)
        members = family(db, asked.family_id)
        live = [m for m in members if m.state in LIVE]
        if asked.state not in LIVE or not live:
            raise Conflict("proposal_closed", f"proposal {asked.id} is {asked.state}; a closed proposal "
                                              "cannot be fee-bumped")
        newest = live[-1]
        if at >= newest.expires_at:
            raise Conflict("proposal_closed", f"proposal {newest.id} has expired; it cannot be fee-bumped")
        limit = change_index_limit(addresses.last_used(db, wallet, CHANGE))
        beaten = [_live(check(m.psbt, wallet.descriptor, wallet.network, max_change_index=limit), wallet)
                  for m in live]
        plan = _fund(db, wallet, _base(newest, wallet), fee_rate, beaten, rng or random.SystemRandom())
        if plan.fee > newest.intent.fee_ceiling:
            raise InvalidInput("fee_over_ceiling", f"the bump would pay {plan.fee} sat, over the fee ceiling of "
                               f"{newest.intent.fee_ceiling} sat the group approved; a higher fee needs a new "
                               "proposal", fee=plan.fee, fee_ceiling=newest.intent.fee_ceiling)
        psbt = assemble(wallet.descriptor, plan.inputs, plan.outputs, codec.parse(newest.psbt).tx.locktime)
        check(psbt, wallet.descriptor, wallet.network, max_change_index=limit)
        new_id = _store(db, wallet, newest, actor, codec.to_base64(psbt), plan, at)
    return get(db, wallet.id, new_id)


def _store(db: Database, wallet: Wallet, newest: Proposal, actor: int, psbt: str, plan: Bump, at: int) -> int:
    """The replacement's row, with the replaced row's intent text as it is stored
    (the same bytes, so the same digest), its added coins locked to the family."""
    intent_text = db.execute("SELECT intent FROM proposals WHERE id = ?", [newest.id]).fetchone()[0]
    new_id = db.execute(
        "INSERT INTO proposals (wallet_id, family_id, replaces, proposer, state, memo, intent, psbt, created_at, "
        "expires_at) VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)",
        [wallet.id, newest.family_id, newest.id, actor, newest.memo, intent_text, psbt, newest.created_at,
         newest.expires_at]).lastrowid
    locks.lock(db, wallet.id, newest.family_id, [(u.txid, u.vout) for u in plan.added], at)
    digest = newest.intent.digest().hex()
    audit.append_to_wallet(db, wallet.id, "proposal_created",
                           {"proposal": new_id, "intent": newest.intent.to_dict(), "intent_digest": digest,
                            "replaces": newest.id}, actor=f"user:{actor}", at=at)
    outbox.record(db, ProposalCreated(wallet.id, new_id, actor, digest, replaces=newest.id), at=at)
    return new_id


def mark_replaced(db: Database, family_id: str, winner_proposal_id: int, now: int | None = None) -> list[int]:
    """One member of the family confirmed: every other live member becomes
    ``replaced`` (DESIGN.md), and coins only they spent are free. Returns their ids."""
    at = int(time.time()) if now is None else now
    with write(db):
        members = family(db, family_id)
        winner = next((m for m in members if m.id == winner_proposal_id), None)
        if winner is None:
            raise NotFound("proposal_not_found", f"proposal {winner_proposal_id} is not in family {family_id}")
        losers = [m for m in members if m.id != winner.id and m.state in LIVE]
        for loser in losers:
            db.execute("UPDATE proposals SET state = 'replaced' WHERE id = ?", [loser.id])
            audit.append_to_wallet(db, loser.wallet_id, "proposal_replaced",
                                   {"proposal": loser.id, "by": winner.id}, "system", at)
            outbox.record(db, ProposalClosed(loser.wallet_id, loser.id, "replaced"), at=at)
        release_unheld(db, family_id, keep=spent_outpoints(winner))
    return [m.id for m in losers]


def _live(summary: Summary, wallet: Wallet) -> _Live:
    slack = SIGNATURE_SLACK * wallet.descriptor.threshold * summary.input_count  # witness bytes: 1 WU each
    return _Live(summary.fee, max(1, summary.vsize - -(-slack // sizes.WITNESS_SCALE)))


def _base(member: Proposal, wallet: Wallet) -> _Base:
    """The member's coins (amounts from their previous transactions) and outputs."""
    psbt = codec.parse(member.psbt)
    inputs = []
    for vin, scope in zip(psbt.tx.vin, psbt.inputs):
        path = next(iter(scope.bip32_derivations.values())).derivation
        inputs.append(Utxo.from_prev_tx(scope.non_witness_utxo.serialize(), vin.vout, path[-2], path[-1]))
    outputs = []
    for vout, scope in zip(psbt.tx.vout, psbt.outputs):
        index = next(iter(scope.bip32_derivations.values())).derivation[-1] \
            if is_change(scope, wallet.descriptor) else None
        outputs.append(Output(vout.script_pubkey.data, vout.value, index))
    return _Base(tuple(inputs), tuple(outputs), psbt.tx.locktime)


def _fund(db: Database, wallet: Wallet, base: _Base, rate: int, beaten: list[_Live], rng: random.Random) -> Bump:
    """Keep the change if it can pay; else give it all to the fee if that pays;
    else add the largest free confirmed coin and try again."""
    desc = wallet.descriptor
    input_weight = sizes.multisig_input_weight(desc.threshold, desc.n, desc.script_type)
    paid = [o for o in base.outputs if o.change_index is None]
    change = next((o for o in base.outputs if o.change_index is not None), None)
    if change is None:  # a new change output, somewhere among the others (privacy)
        index = addresses.change_index(db, wallet)
        change = Output(desc.script_pubkey(CHANGE, index).data, 0, index)
        with_change = list(paid)
        with_change.insert(rng.randrange(len(paid) + 1), change)
    else:
        with_change = list(base.outputs)
    min_change = max(dust_limit(change.script_pubkey), sizes.fee_for(-(-input_weight // 4),
                                                                     DEFAULT_POLICY.discard_fee_rate) + 1)
    coins, spare = list(base.inputs), _free_coins(db, wallet)
    amount = sum(o.value for o in paid)
    while True:
        total = sum(u.value for u in coins)
        fee = _fee(coins, with_change, input_weight, rate, beaten)
        if total - amount - fee >= min_change:
            outs = tuple(Output(o.script_pubkey, total - amount - fee, o.change_index) if o is change else o
                         for o in with_change)
            return Bump(tuple(coins), outs, fee, tuple(coins[len(base.inputs):]))
        if total - amount >= _fee(coins, paid, input_weight, rate, beaten):
            return Bump(tuple(coins), tuple(paid), total - amount, tuple(coins[len(base.inputs):]))
        if not spare:
            raise InvalidInput("insufficient_funds", f"the coins hold {total} sat; paying {amount} sat with the "
                               f"bumped fee of about {fee} sat needs more, and no free confirmed coin is left",
                               available=total, needed=amount + fee)
        coins.append(spare.pop(0))


def _fee(coins: list[Utxo], outputs: list[Output], input_weight: int, rate: int, beaten: list[_Live]) -> int:
    vsize = sizes.vsize(sizes.tx_weight([input_weight] * len(coins),
                                        [sizes.output_weight(o.script_pubkey) for o in outputs]))
    fee, least = sizes.fee_for(vsize, rate), max(b.least_fee(vsize) for b in beaten)
    if fee < least:
        need = -(-least * 1000 // vsize)
        raise InvalidInput("replacement_fee_too_low", f"{sat_per_vb(rate)} sat/vB does not outbid the transaction "
                           f"it replaces (BIP-125); bump to at least {sat_per_vb(need)} sat/vB",
                           min_fee_rate=need)
    return fee


def _free_coins(db: Database, wallet: Wallet) -> list[Utxo]:
    """Confirmed, unlocked, unfrozen coins (no coinbase, which may be immature), largest first."""
    held = set(locks.locked(db, wallet.id)) | set(coin_freeze.frozen(db, wallet.id))
    confirmed = {(u.txid, u.vout) for u in chain_store.utxos(db, wallet.id) if u.height is not None and not u.coinbase}
    free = [u for u in chain_store.coins(db, wallet.id) if (u.txid, u.vout) in confirmed - held]
    return sorted(free, key=lambda u: (-u.value, u.txid, u.vout))
