"""Mempool acceptance in Bitcoin Core's order (MemPoolAccept::PreChecks and
friends), with Core's reject reasons. ``validate`` returns the fee and the
mempool transactions the new one replaces; it changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import policy as p
from .policy import Rejected
from .tx import Tx, TxOut
from .verify import Precomputed, Unsupported, input_failure

if TYPE_CHECKING:
    from .chain import Chain

SUPPORTED_PREVOUTS = ("v0_p2wpkh", "v0_p2wsh", "p2sh")
SEQUENCE_FINAL = 0xFFFFFFFF
MAX_BIP125_SEQUENCE = 0xFFFFFFFD


def validate(chain: "Chain", tx: Tx) -> tuple[int, list[TxOut], set[str]]:
    """(fee, prevouts, txids replaced) or ``Rejected``; the caller holds the lock."""
    p.check_transaction(tx)
    p.check_standard(tx)
    _check_final(chain, tx)
    _check_not_in_mempool(chain, tx)
    conflicts = _conflicts(chain, tx)
    prevouts, heights = _inputs(chain, tx)
    _check_sequence_locks(chain, tx, heights)
    fee = _check_amounts(chain, tx, prevouts, heights)
    _check_inputs_standard(tx, prevouts)
    vsize = tx.vsize
    if fee < p.fee_for(p.MIN_RELAY_SAT_PER_KVB, vsize):
        raise Rejected("min relay fee not met", f"{fee} < {p.fee_for(p.MIN_RELAY_SAT_PER_KVB, vsize)}")
    ancestors = chain.mempool_ancestors(tx)
    if len(ancestors) + 1 > p.MAX_ANCESTORS:
        raise Rejected("too-long-mempool-chain", f"too many unconfirmed ancestors [limit: {p.MAX_ANCESTORS}]")
    replaced = _check_replacement(chain, tx, fee, conflicts) if conflicts else set()
    _check_scripts(tx, prevouts)
    return fee, prevouts, replaced


def _check_final(chain: "Chain", tx: Tx) -> None:
    """Core's IsFinalTx for a block at tip+1 (time locks against the tip's MTP)."""
    if tx.locktime == 0 or all(i.sequence == SEQUENCE_FINAL for i in tx.vin):
        return
    limit = chain.height + 1 if tx.locktime < p.LOCKTIME_THRESHOLD else chain.median_time_past()
    if tx.locktime >= limit:
        raise Rejected("non-final")


def _check_not_in_mempool(chain: "Chain", tx: Tx) -> None:
    entry = chain.mempool.get(tx.txid)
    if entry is None:
        return
    if entry.tx.wtxid == tx.wtxid:
        raise Rejected("txn-already-in-mempool")
    raise Rejected("txn-same-nonwitness-data-in-mempool")


def _conflicts(chain: "Chain", tx: Tx) -> set[str]:
    found = set()
    for txin in tx.vin:
        spender = chain.mempool_spends.get(txin.outpoint)
        if spender is None:
            continue
        other = chain.mempool[spender[0]].tx
        if not chain.full_rbf and all(i.sequence > MAX_BIP125_SEQUENCE for i in other.vin):
            raise Rejected("txn-mempool-conflict")
        found.add(spender[0])
    return found


def _inputs(chain: "Chain", tx: Tx) -> tuple[list[TxOut], list[int | None]]:
    """The coins spent and their heights (None: in the mempool); missing -> Rejected."""
    prevouts, heights = [], []
    for txin in tx.vin:
        coin = chain.view_coin(txin.outpoint)
        if coin is None:
            if any(chain.view_coin((tx.txid, i)) for i in range(len(tx.vout))):
                raise Rejected("txn-already-known")
            raise Rejected("bad-txns-inputs-missingorspent", code=-25)
        prevouts.append(TxOut(coin.value, coin.script_pubkey))
        heights.append(coin.height)
    return prevouts, heights


def _check_sequence_locks(chain: "Chain", tx: Tx, heights: list[int | None]) -> None:
    """BIP-68 relative lock times, for a block at tip+1."""
    if tx.version < 2:
        return
    spend_height = chain.height + 1
    for txin, height in zip(tx.vin, heights):
        seq = txin.sequence
        if seq & (1 << 31):
            continue
        coin_height = spend_height if height is None else height
        value = seq & 0xFFFF
        if seq & (1 << 22):
            start = chain.median_time_past(max(coin_height - 1, 0))
            ok = start + (value << 9) - 1 < chain.median_time_past()
        else:
            ok = coin_height + value - 1 < spend_height
        if not ok:
            raise Rejected("non-BIP68-final")


def _check_amounts(chain: "Chain", tx: Tx, prevouts: list[TxOut], heights: list[int | None]) -> int:
    """Core's Consensus::CheckTxInputs: maturity, money range, in >= out."""
    spend_height = chain.height + 1
    total_in = 0
    for txin, prev, height in zip(tx.vin, prevouts, heights):
        if height is not None and chain.is_coinbase(txin.prev_txid) and spend_height - height < p.COINBASE_MATURITY:
            raise Rejected("bad-txns-premature-spend-of-coinbase",
                           f"tried to spend coinbase at depth {spend_height - height}")
        total_in += prev.value
        if not 0 <= prev.value <= p.MAX_MONEY or total_in > p.MAX_MONEY:
            raise Rejected("bad-txns-inputvalues-outofrange")
    total_out = sum(o.value for o in tx.vout)
    if total_in < total_out:
        raise Rejected("bad-txns-in-belowout",
                       f"value in ({p.format_money(total_in)}) < value out ({p.format_money(total_out)})")
    return total_in - total_out


def _check_inputs_standard(tx: Tx, prevouts: list[TxOut]) -> None:
    """AreInputsStandard and IsWitnessStandard, narrowed to what the sandbox verifies."""
    for txin, prev in zip(tx.vin, prevouts):
        kind = p.output_type(prev.script_pubkey)
        if kind not in SUPPORTED_PREVOUTS:
            raise Rejected("bad-txns-nonstandard-inputs",
                           f"the sandbox verifies only P2WPKH, P2WSH and P2SH-wrapped segwit, not {kind}")
        if kind in ("v0_p2wsh", "p2sh") and txin.witness:  # P2WSH limits (P2WPKH stays far below)
            script, items = txin.witness[-1], txin.witness[:-1]
            if len(script) > 3600 or len(items) > 100 or any(len(i) > 80 for i in items):
                raise Rejected("bad-witness-nonstandard")


def _check_replacement(chain: "Chain", tx: Tx, fee: int, conflicts: set[str]) -> set[str]:
    """BIP-125 rules 2-5 as Core 27 applies them (rule 1 is full-RBF's choice)."""
    txid = tx.txid
    evicted = chain.with_descendants(conflicts)
    if len(evicted) > p.MAX_REPLACEMENTS:
        raise Rejected("too many potential replacements",
                       f"rejecting replacement {txid}; too many potential replacements "
                       f"({len(evicted)} > {p.MAX_REPLACEMENTS})")
    conflict_parents = {i.prev_txid for c in conflicts for i in chain.mempool[c].tx.vin}
    for j, txin in enumerate(tx.vin):
        if txin.prev_txid in chain.mempool and txin.prev_txid not in conflict_parents:
            raise Rejected("replacement-adds-unconfirmed", f"replacement {txid} adds unconfirmed input, idx {j}")
    new_rate = fee * 1000 // tx.vsize
    for c in conflicts:
        old = chain.mempool[c]
        old_rate = old.fee * 1000 // old.vsize
        if new_rate <= old_rate:
            raise Rejected("insufficient fee", f"rejecting replacement {txid}; new feerate "
                           f"{p.format_feerate(new_rate)} <= old feerate {p.format_feerate(old_rate)}")
    old_fees = sum(chain.mempool[e].fee for e in evicted)
    if fee < old_fees:
        raise Rejected("insufficient fee", f"rejecting replacement {txid}, less fees than conflicting txs; "
                       f"{p.format_money(fee)} < {p.format_money(old_fees)}")
    relay = p.fee_for(p.INCREMENTAL_SAT_PER_KVB, tx.vsize)
    if fee - old_fees < relay:
        raise Rejected("insufficient fee", f"rejecting replacement {txid}, not enough additional fees to "
                       f"relay; {p.format_money(fee - old_fees)} < {p.format_money(relay)}")
    return evicted


def _check_scripts(tx: Tx, prevouts: list[TxOut]) -> None:
    pre = Precomputed.of(tx)
    for index, prev in enumerate(prevouts):
        try:
            reason = input_failure(tx, index, prev, pre)
        except Unsupported as exc:
            raise Rejected("bad-txns-nonstandard-inputs", f"sandbox: {exc}") from None
        if reason:
            raise Rejected(reason)
