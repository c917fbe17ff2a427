"""Stored chain state per wallet (transactions, coins, last tip) and the
broadcast log. One ``save_sync`` call replaces a wallet's view atomically, so a
crash mid-sync leaves the previous, consistent view."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from sqlite_utils import Database

from ..chain.model import Balance, HistoryEntry, SyncState, WalletUtxo
from ..errors import StorageError
from ..psbt.model import Utxo
from .db import write


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


# -- sync state ---------------------------------------------------------------

def sync_state(db: Database, wallet_id: int) -> SyncState | None:
    row = next(db["sync_state"].rows_where("wallet_id = ?", [wallet_id]), None)
    if row is None:
        return None
    balance = Balance(row["confirmed"], row["unconfirmed"], row["immature"])
    return SyncState(row["tip_height"], row["tip_hash"], balance, row["synced_at"])


def history(db: Database, wallet_id: int) -> list[HistoryEntry]:
    """Newest first: mempool, then by height descending."""
    rows = db.execute(
        "SELECT * FROM wallet_txs WHERE wallet_id = ?"
        " ORDER BY height IS NOT NULL, height DESC, first_seen DESC, txid", [wallet_id])
    names = [c[0] for c in rows.description]
    return [HistoryEntry.from_row(dict(zip(names, r))) for r in rows.fetchall()]


def utxos(db: Database, wallet_id: int) -> list[WalletUtxo]:
    rows = db["wallet_utxos"].rows_where("wallet_id = ?", [wallet_id], order_by="height IS NULL, height, txid, vout")
    return [WalletUtxo.from_row(r) for r in rows]


def coin_addresses(db: Database, wallet_id: int) -> dict[tuple[int, int], str]:
    """The address of each coin's (branch, index); sync marks them used, with
    their address, in the same transaction that stores the coins."""
    rows = db.execute(
        "SELECT a.branch, a.idx, a.address FROM wallet_utxos u JOIN addresses a"
        " ON a.wallet_id = u.wallet_id AND a.branch = u.branch AND a.idx = u.idx WHERE u.wallet_id = ?",
        [wallet_id]).fetchall()
    return {(branch, idx): address for branch, idx, address in rows}


def coins(db: Database, wallet_id: int, *, mature_at: int | None = None) -> list[Utxo]:
    """The wallet's unspent coins with their previous transactions, for spending.

    The raw transactions come from the synced history; ``Utxo.from_prev_tx``
    reads each value from them, so nothing is taken on trust. ``mature_at`` (the
    tip height) leaves out coinbase outputs with fewer than 100 confirmations:
    the next block may not spend them (consensus, COINBASE_MATURITY).
    """
    raws = {h.txid: h.raw for h in history(db, wallet_id)}
    out = []
    for u in utxos(db, wallet_id):
        if mature_at is not None and not u.is_mature(mature_at):
            continue
        raw = raws.get(u.txid)
        if raw is None:
            raise StorageError("database_error", f"the transaction of coin {u.txid}:{u.vout} is missing; "
                               "sync the wallet again")
        out.append(Utxo.from_prev_tx(raw, u.vout, u.branch, u.index))
    return out


def known_scripts(db: Database, wallet_id: int) -> tuple[dict[tuple[int, int], bytes], dict[int, int]]:
    """Script of every stored address, and the highest used index per branch."""
    scripts, last_used = {}, {}
    for row in db.execute("SELECT branch, idx, script_pubkey, used FROM addresses WHERE wallet_id = ?",
                          [wallet_id]).fetchall():
        branch, idx, spk, used = row
        scripts[(branch, idx)] = bytes.fromhex(spk)
        if used:
            last_used[branch] = max(last_used.get(branch, -1), idx)
    return scripts, last_used


@dataclass(frozen=True)
class SyncSnapshot:
    tip_height: int
    tip_hash: str
    history: list[HistoryEntry]
    utxos: list[WalletUtxo]
    balance: Balance


def save_sync(db: Database, wallet_id: int, snap: SyncSnapshot) -> None:
    """Replace the wallet's transactions, coins and tip in one transaction."""
    stamp = now()
    with write(db):
        seen = {r[0]: r[1] for r in db.execute(
            "SELECT txid, first_seen FROM wallet_txs WHERE wallet_id = ?", [wallet_id]).fetchall()}
        db.execute("DELETE FROM wallet_txs WHERE wallet_id = ?", [wallet_id])
        db.execute("DELETE FROM wallet_utxos WHERE wallet_id = ?", [wallet_id])
        _insert(db, "wallet_txs", [h.to_row(wallet_id, seen.get(h.txid, stamp)) for h in snap.history])
        _insert(db, "wallet_utxos", [u.to_row(wallet_id) for u in snap.utxos])
        db["sync_state"].upsert({
            "wallet_id": wallet_id, "tip_height": snap.tip_height, "tip_hash": snap.tip_hash,
            "confirmed": snap.balance.confirmed, "unconfirmed": snap.balance.unconfirmed,
            "immature": snap.balance.immature, "synced_at": stamp,
        }, pk="wallet_id")


def _insert(db: Database, table: str, rows: list[dict]) -> None:
    """Plain executemany: sqlite-utils' insert_all costs more than the insert for many rows."""
    if rows:
        names = list(rows[0])
        db.conn.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                            [[r[n] for n in names] for r in rows])


# -- broadcasts -----------------------------------------------------------------

@dataclass(frozen=True)
class BroadcastRow:
    """One raw form of a transaction. Rows are keyed by wtxid: the same txid
    with another witness is another row, sent on its own (BIP-141)."""

    wtxid: str
    txid: str
    raw: bytes
    state: str  # 'broadcasting' | 'sent' | 'failed'
    attempts: int
    last_error: str | None
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, row: dict) -> "BroadcastRow":
        return cls(row["wtxid"], row["txid"], bytes.fromhex(row["raw"]), row["state"], row["attempts"],
                   row["last_error"], row["created_at"], row["updated_at"])


def broadcast_row(db: Database, wtxid: str) -> BroadcastRow | None:
    row = next(db["broadcasts"].rows_where("wtxid = ?", [wtxid]), None)
    return None if row is None else BroadcastRow.from_row(row)


def broadcasts_of(db: Database, txid: str) -> list[BroadcastRow]:
    """Every raw form of ``txid`` ever broadcast, oldest first."""
    rows = db["broadcasts"].rows_where("txid = ?", [txid], order_by="created_at, rowid")
    return [BroadcastRow.from_row(r) for r in rows]


def broadcasts_in(db: Database, states: Iterable[str]) -> list[BroadcastRow]:
    wanted = list(states)
    marks = ",".join("?" * len(wanted))
    rows = db["broadcasts"].rows_where(f"state IN ({marks})", wanted, order_by="created_at, rowid")
    return [BroadcastRow.from_row(r) for r in rows]


def record_broadcast(db: Database, txid: str, wtxid: str, raw: bytes) -> BroadcastRow:
    """Persist the final transaction as 'broadcasting' (no-op if these bytes are recorded)."""
    stamp = now()
    with write(db):
        db.execute(
            "INSERT INTO broadcasts (wtxid, txid, raw, state, attempts, created_at, updated_at)"
            " VALUES (?, ?, ?, 'broadcasting', 0, ?, ?) ON CONFLICT (wtxid) DO NOTHING",
            [wtxid, txid, raw.hex(), stamp, stamp])
        row = broadcast_row(db, wtxid)
    return row


def set_broadcast_state(db: Database, wtxid: str, state: str, error: str | None = None,
                        attempted: bool = False) -> None:
    with write(db):
        db.execute(
            "UPDATE broadcasts SET state = ?, last_error = ?, attempts = attempts + ?, updated_at = ?"
            " WHERE wtxid = ?", [state, error, int(attempted), now(), wtxid])
