"""Wallet sync: discover used addresses, then rebuild coins, balance and history.

Discovery scans both branches together and never asks for a script it does
not need: each round asks exactly for the indexes up to ``last used + gap``
that have not been asked yet, so the scan stops after ``gap`` unused addresses
in a row on each branch, as BDK, Sparrow and Core do when they restore.

Every sync re-reads every used script, so it sees confirmations, reorgs and
dropped transactions alike; the result replaces the stored view in one
transaction (``store/chain.py``), and the differences become events.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Mapping

from sqlite_utils import Database

from ..store import chain as store
from ..store.db import write
from ..store.wallets import Wallet
from ..wallet import addresses
from ..wallet.descriptor import MultisigDescriptor
from .backend import BadResponse, ChainBackend, ChainTx
from .events import (
    BalanceChanged,
    ChainEvent,
    ChainReorged,
    ConflictDetected,
    Listener,
    TxConfirmed,
    TxDropped,
    TxReorged,
    TxSeen,
)
from .model import Balance, HistoryEntry, WalletUtxo

Position = tuple[int, int]  # (branch, index)
BRANCHES = (0, 1)


@dataclass(frozen=True)
class SyncResult:
    tip_height: int
    tip_hash: str
    balance: Balance
    utxos: list[WalletUtxo]
    history: list[HistoryEntry]
    used: dict[int, int]  # branch -> highest index with history now
    events: list[ChainEvent]
    conflicts: list[ConflictDetected]


def sync_wallet(db: Database, wallet: Wallet, backend: ChainBackend, *,
                locked: Mapping[str, str | None] | None = None, gap: int = addresses.GAP_LIMIT,
                on_event: Listener | None = None) -> SyncResult:
    """Sync one wallet, store the result, and report what changed.

    ``locked`` maps outpoints ("txid:vout") reserved by pending proposals to the
    txid each proposal will broadcast (None if not final yet); a spend of such
    a coin by any other transaction is reported as ``ConflictDetected``.
    """
    height, tip_hash = backend.tip()
    prior = store.sync_state(db, wallet.id)
    old_txs = {h.txid: h for h in store.history(db, wallet.id)}
    events: list[ChainEvent] = []
    if prior is not None:
        events += _tip_reorg(backend, wallet.id, prior.tip_height, prior.tip_hash, height, tip_hash)
    scripts, txs, used_at = _discover(db, wallet, backend, gap)
    _check_prevouts(txs)
    owned = {spk: pos for pos, spk in scripts.items()}
    history = [_entry(tx, owned) for tx in txs.values()]
    utxos = _unspent(txs, owned)
    balance = Balance.of(utxos, height)
    events += _tx_events(wallet.id, old_txs, {h.txid: h for h in history})
    conflicts = _conflicts(wallet.id, txs, locked or {})
    events += conflicts
    old_balance = prior.balance if prior else Balance()
    if balance != old_balance:
        events.append(BalanceChanged(wallet.id, *_fields(balance), *_fields(old_balance)))
    snap = store.SyncSnapshot(height, tip_hash, history, utxos, balance)
    with write(db):  # the new view and the used flags land together, or not at all
        addresses.mark_used_many(db, wallet, [(b, i, scripts[(b, i)]) for b, i in sorted(used_at)])
        store.save_sync(db, wallet.id, snap)
    if on_event is not None:
        for event in events:
            on_event(event)
    used: dict[int, int] = {}
    for branch, index in used_at:
        used[branch] = max(used.get(branch, -1), index)
    return SyncResult(height, tip_hash, balance, utxos, store.history(db, wallet.id), used,
                      events, conflicts)


def _discover(db: Database, wallet: Wallet, backend: ChainBackend, gap: int):
    """Scan until ``gap`` unused scripts follow the last used one on each branch.

    Returns the scripts (asked for, stored, or derived ahead), the
    transactions found, and the positions that have any history now. While a
    round is on the network, the scripts the next round may need are derived
    in a helper thread, so the server never waits for our arithmetic.
    """
    known, last_used = store.known_scripts(db, wallet.id)
    scripts: dict[Position, bytes] = dict(known)
    txs: dict[str, ChainTx] = {}
    used: set[Position] = set()
    last = {b: last_used.get(b, -1) for b in BRANCHES}
    asked = {b: 0 for b in BRANCHES}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="derive") as ahead:
        while True:
            batch = [(b, i) for b in BRANCHES for i in range(asked[b], last[b] + gap + 1)]
            if not batch:
                break
            for b in BRANCHES:
                asked[b] = max(asked[b], last[b] + gap + 1)
            scripts.update(_derive(wallet.descriptor, batch, scripts))
            upcoming = [(b, i) for b in BRANCHES for i in range(asked[b], asked[b] + gap)]
            derived = ahead.submit(_derive, wallet.descriptor, upcoming, dict(scripts))
            found = backend.script_history([scripts[pos] for pos in batch])
            scripts.update(derived.result())
            for pos in batch:
                for tx in found[scripts[pos]]:
                    txs[tx.txid] = tx
                if found[scripts[pos]]:
                    used.add(pos)
                    last[pos[0]] = max(last[pos[0]], pos[1])
    return scripts, txs, used


def _derive(descriptor: MultisigDescriptor, positions: list[Position],
            have: Mapping[Position, bytes]) -> dict[Position, bytes]:
    return {pos: descriptor.script_pubkey(*pos).data for pos in positions if pos not in have}


def _check_prevouts(txs: Mapping[str, ChainTx]) -> None:
    """Prevouts are the server's word, not covered by the txid: where we hold
    the funding transaction (txid-checked), they must match it."""
    for tx in txs.values():
        for txin, prevout in zip(tx.inputs, tx.prevouts):
            funding = txs.get(txin.txid)
            if funding is not None and (txin.vout >= len(funding.outputs) or funding.outputs[txin.vout] != prevout):
                raise BadResponse(f"{tx.txid} spends {txin.txid}:{txin.vout} with a prevout that is not its output")


def _entry(tx: ChainTx, owned: Mapping[bytes, Position]) -> HistoryEntry:
    received = sum(o.value for o in tx.outputs if o.script_pubkey in owned)
    spent = sum(p.value for p in tx.prevouts if p is not None and p.script_pubkey in owned)
    return HistoryEntry(tx.txid, received - spent, tx.fee, tx.status.block_height, tx.status.block_hash,
                        tx.status.block_time, tx.raw)


def _unspent(txs: Mapping[str, ChainTx], owned: Mapping[bytes, Position]) -> list[WalletUtxo]:
    spent = {(i.txid, i.vout) for tx in txs.values() for i in tx.inputs}
    out = []
    for tx in txs.values():
        coinbase = len(tx.prevouts) == 1 and tx.prevouts[0] is None
        for vout, o in enumerate(tx.outputs):
            pos = owned.get(o.script_pubkey)
            if pos is not None and (tx.txid, vout) not in spent:
                out.append(WalletUtxo(tx.txid, vout, o.value, pos[0], pos[1], tx.status.block_height, coinbase))
    return sorted(out, key=lambda u: (u.height is None, u.height or 0, u.txid, u.vout))


def _tip_reorg(backend: ChainBackend, wallet_id: int, old_height: int, old_hash: str,
               height: int, tip_hash: str) -> list[ChainEvent]:
    """Is the last synced tip still in the best chain? One request, at most."""
    if old_height == height:
        now_hash = tip_hash
    elif old_height > height:
        now_hash = None
    else:
        now_hash = backend.block_hash(old_height)
    if now_hash == old_hash:
        return []
    return [ChainReorged(wallet_id, old_height, old_hash, now_hash)]


def _tx_events(wallet_id: int, old: Mapping[str, HistoryEntry], new: Mapping[str, HistoryEntry]) -> list[ChainEvent]:
    events: list[ChainEvent] = []
    for txid in sorted(old.keys() | new.keys()):
        before, after = old.get(txid), new.get(txid)
        if before is None:
            events.append(TxSeen(wallet_id, txid, after.net, after.fee, after.height))
        elif after is None:
            events.append(TxDropped(wallet_id, txid, before.height))
        elif before.block_hash is not None and before.block_hash != after.block_hash:
            events.append(TxReorged(wallet_id, txid, before.height, after.height))
        elif before.height is None and after.height is not None:
            events.append(TxConfirmed(wallet_id, txid, after.height))
    return events


def _conflicts(wallet_id: int, txs: Mapping[str, ChainTx],
               locked: Mapping[str, str | None]) -> list[ConflictDetected]:
    found = []
    for tx in sorted(txs.values(), key=lambda t: t.txid):
        for txin in tx.inputs:
            outpoint = f"{txin.txid}:{txin.vout}"
            if outpoint in locked and locked[outpoint] != tx.txid:
                found.append(ConflictDetected(wallet_id, outpoint, tx.txid, locked[outpoint],
                                              tx.status.block_height))
    return found


def _fields(balance: Balance) -> tuple[int, int, int]:
    return balance.confirmed, balance.unconfirmed, balance.immature
