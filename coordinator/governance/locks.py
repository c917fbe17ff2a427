"""Coin locks: an outpoint belongs to at most one active proposal family.

A family is a proposal and its fee-bump replacements; they share the lock
(DESIGN.md, "Coins, locks and replacements"). The ``coin_locks`` primary key
enforces it, so two proposals racing for the same coin cannot both win, in one
process or several. Locking is all or nothing.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Iterable

from sqlite_utils import Database

from ..errors import Conflict
from ..store.db import write

Outpoint = tuple[str, int]  # (txid, vout)


def lock(db: Database, wallet_id: int, family_id: str, outpoints: Iterable[Outpoint],
         at: int | None = None) -> None:
    """Lock every outpoint for ``family_id``, or none (``coin_locked``)."""
    stamp = int(time.time()) if at is None else at
    with write(db):
        for txid, vout in outpoints:
            try:
                db.execute("INSERT INTO coin_locks (txid, vout, wallet_id, family_id, locked_at) VALUES (?, ?, ?, ?, ?)",
                           [txid, vout, wallet_id, family_id, stamp])
            except sqlite3.IntegrityError:
                holder = db.execute("SELECT family_id FROM coin_locks WHERE txid = ? AND vout = ?",
                                    [txid, vout]).fetchone()
                if holder is None or holder[0] != family_id:
                    raise Conflict("coin_locked", f"coin {txid}:{vout} is already in another active proposal",
                                   outpoint=f"{txid}:{vout}") from None


def unlock_family(db: Database, family_id: str) -> int:
    """Free the family's coins (cancelled, expired or failed); returns how many."""
    with write(db):
        return db.execute("DELETE FROM coin_locks WHERE family_id = ?", [family_id]).rowcount


def locked(db: Database, wallet_id: int) -> dict[Outpoint, str]:
    """The wallet's locked outpoints and the family holding each."""
    rows = db.execute("SELECT txid, vout, family_id FROM coin_locks WHERE wallet_id = ?", [wallet_id]).fetchall()
    return {(txid, vout): family for txid, vout, family in rows}
