"""Sweeps: moving every coin of a retired wallet into its successor (issue 15,
docs/successor.md "The sweep").

A sweep is an ordinary proposal of the old wallet (its approvals, threshold and
signers apply) that spends the chosen coins to one fresh receive address of the
successor, with no change. Bitcoin Core relays no transaction over 100,000 vbytes
(400,000 weight units, MAX_STANDARD_TX_WEIGHT), so a wallet with more coins than
fit is swept in several proposals; inputs are counted by the weight of a signed
multisig input of the wallet's own shape (psbt/sizes.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

from sqlite_utils import Database

from ..accounts import roles
from ..errors import Conflict
from ..psbt import sizes
from ..psbt.model import Recipient as Payment
from ..psbt.spend import MAX_STANDARD_TX_WEIGHT
from ..store import chain as chain_store
from ..store import wallets
from ..store.db import write
from ..wallet import addresses
from . import audit, coin_freeze, locks, outbox, proposals, successor
from .successor_errors import SweepProposed

MARGIN_WEIGHT = 400  # room for varint growth and a signature a byte longer than estimated


@dataclass(frozen=True)
class Shape:
    """What every sweep transaction of a wallet shares."""

    input_weight: int
    output_weight: int
    limit: int = MAX_STANDARD_TX_WEIGHT - MARGIN_WEIGHT

    def weight(self, inputs: int) -> int:
        return sizes.tx_weight([self.input_weight] * inputs, [self.output_weight])

    def max_inputs(self) -> int:
        """The most inputs one standard sweep transaction can hold."""
        count = max(1, (self.limit - self.weight(0)) // self.input_weight)
        while count > 1 and self.weight(count) > self.limit:
            count -= 1
        return count


def batches(count: int, shape: Shape) -> list[range]:
    """Pure: split ``count`` coins (in their given order) into the fewest standard sweeps."""
    per = shape.max_inputs()
    return [range(start, min(start + per, count)) for start in range(0, count, per)]


def shape_of(wallet: wallets.Wallet, script_pubkey: bytes, max_weight: int = MAX_STANDARD_TX_WEIGHT) -> Shape:
    d = wallet.descriptor
    return Shape(sizes.multisig_input_weight(d.threshold, d.n, d.script_type), sizes.output_weight(script_pubkey),
                 max_weight - MARGIN_WEIGHT)


def worth_sweeping(values: Sequence[int], shape: Shape, fee_rate: int) -> tuple[list[int], list[int]]:
    """Indexes of the coins worth more than the fee their input costs at ``fee_rate``
    (sat/kvB), and of those left behind (dust at that rate)."""
    cost = -(-shape.input_weight * fee_rate // (1000 * sizes.WITNESS_SCALE))
    keep = [i for i, v in enumerate(values) if v > cost]
    return keep, [i for i, v in enumerate(values) if v <= cost]


def propose(db: Database, wallet_id: int, user_id: int, fee_rate: int, now: int | None = None,
            max_weight: int = MAX_STANDARD_TX_WEIGHT) -> dict:
    """Sweep proposals for every coin of the retired wallet that no proposal spends yet,
    each transaction within ``max_weight`` (Core's standard limit unless a test asks less)."""
    at = int(time.time()) if now is None else now
    with write(db):
        roles.require(db, user_id, wallet_id, "keyholder")
        found = successor.retired(db, wallet_id)
        if found is None:
            raise Conflict("not_retired", "this wallet is not retired: start a successor and activate it first")
        successor.flag_late_coins(db, wallet_id, at)
        old, new = (_wallet(db, w) for w in (wallet_id, found.new_wallet_id))
        # Frozen coins and immature coinbases stay behind, unswept (docs/errors-coins.md).
        held = set(locks.locked(db, wallet_id)) | set(coin_freeze.frozen(db, wallet_id))
        state = chain_store.sync_state(db, wallet_id)
        tip = state.tip_height if state else 0
        free = sorted((u for u in chain_store.utxos(db, wallet_id) if (u.txid, u.vout) not in held
                       and u.is_mature(tip)), key=lambda u: (-u.value, u.txid, u.vout))
        shape = shape_of(old, new.descriptor.script_pubkey(0, 0).data, max_weight)
        keep, dust = worth_sweeping([u.value for u in free], shape, fee_rate)
        if not keep:
            raise Conflict("nothing_to_sweep", "every coin is already in a proposal, frozen, an immature coinbase, "
                           "or worth less than the fee to spend it at this rate", left_behind=[f"{free[i].txid}:{free[i].vout}" for i in dust])
        coins = [free[i] for i in keep]
        split = batches(len(coins), shape)
        made = [_one(db, old, new, user_id, [coins[i] for i in part], n, len(split), fee_rate, at)
                for n, part in enumerate(split, 1)]
    return {"proposals": made, "left_behind": [f"{free[i].txid}:{free[i].vout}" for i in dust]}


def _wallet(db: Database, wallet_id: int) -> wallets.Wallet:
    return wallets.get(db, db.execute("SELECT name FROM wallets WHERE id = ?", [wallet_id]).fetchone()[0])


def _one(db: Database, old: wallets.Wallet, new: wallets.Wallet, user_id: int, coins: list, batch: int,
         total: int, fee_rate: int, at: int) -> dict:
    address = addresses.issue(db, new)
    memo = (f"Sweep {batch} of {total}: every coin of retired wallet {old.name!r} into its successor "
            f"{new.name!r} at {address.address}")
    proposal = proposals.create(db, old, user_id, [Payment(address.address, 0)], memo, fee_rate,
                                coins=[f"{u.txid}:{u.vout}" for u in coins], sweep=True, now=at)
    db.execute("INSERT INTO sweeps (proposal_id, old_wallet_id, new_wallet_id, address, batch, batches) "
               "VALUES (?, ?, ?, ?, ?, ?)", [proposal.id, old.id, new.id, address.address, batch, total])
    audit.append_to_wallet(db, old.id, "sweep_proposed", {
        "proposal": proposal.id, "batch": batch, "batches": total, "coins": len(coins),
        "successor": {"wallet": new.id, "policy_id": new.descriptor.policy_id, "address": address.address}},
        f"user:{user_id}", at)
    outbox.record(db, SweepProposed(old.id, proposal.id, batch, total), at=at)
    return {**proposal.to_dict(), "sweep": {"batch": batch, "batches": total, "address": address.address,
                                            "coins": len(coins)}}


def status(db: Database, wallet_id: int, now: int | None = None) -> dict:
    """A wallet's place in a succession: retired or not, its successor or predecessor,
    its sweeps and their states, late coins, and coins not yet in any sweep."""
    late = successor.flag_late_coins(db, wallet_id, now)
    found, before = successor.retired(db, wallet_id), successor.predecessor(db, wallet_id)
    held = locks.locked(db, wallet_id)
    sweeps = [{"proposal": p, "batch": b, "batches": n, "address": a, "state": s} for p, b, n, a, s in db.execute(
        "SELECT s.proposal_id, s.batch, s.batches, s.address, p.state FROM sweeps s JOIN proposals p "
        "ON p.id = s.proposal_id WHERE s.old_wallet_id = ? ORDER BY s.proposal_id", [wallet_id]).fetchall()]
    unswept = [f"{u.txid}:{u.vout}" for u in chain_store.utxos(db, wallet_id) if (u.txid, u.vout) not in held]
    return {"wallet_id": wallet_id, "retired": found is not None,
            "succession": found.to_dict() if found else None,
            "predecessor": before.to_dict() if before else None,
            "sweeps": sweeps, "late_coins": late, "unswept": unswept if found else []}
