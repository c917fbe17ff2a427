"""The chain watcher: one per server (a lease row), syncing every wallet in the
background (docs/ceremony.md, "The chain watcher").

Each round it expires overdue proposals, finishes broadcasts a crash or an
outage left (and automatic ones), syncs each wallet of the server's network
(chain/sync.py), writes what the sync found to the wallet's room, follows
broadcast ceremonies to confirmed, and fails a family whose coins a foreign
transaction spent. Then ``on_change`` lets the web edge publish. Only the
lease holder works; another process takes over when a lease is not renewed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Callable

from sqlite_utils import Database

from ..chain.backend import ChainBackend
from ..chain.sync import sync_wallet
from ..errors import HuddleError
from ..governance import locks, proposals
from ..store import open_database
from ..store import wallets as wallet_store
from ..store.db import write
from ..store.wallets import Wallet
from . import broadcast, ceremony, events

log = logging.getLogger(__name__)
LEASE = "chain_watcher"


def take_lease(db: Database, holder: str, ttl: float, name: str = LEASE, now: float | None = None) -> bool:
    """Hold (or renew) the lease ``name`` until now + ttl, unless another holder's is still valid."""
    at = time.time() if now is None else now
    with write(db):
        cursor = db.execute(
            "INSERT INTO watcher_leases (name, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE "
            "SET holder = excluded.holder, expires_at = excluded.expires_at "
            "WHERE watcher_leases.holder = excluded.holder OR watcher_leases.expires_at < ?",
            [name, holder, at + ttl, at])
    return cursor.rowcount == 1


def release_lease(db: Database, holder: str, name: str = LEASE) -> None:
    with write(db):
        db.execute("DELETE FROM watcher_leases WHERE name = ? AND holder = ?", [name, holder])


def locked_outpoints(db: Database, wallet_id: int) -> dict[str, str | None]:
    """What sync calls ``locked``: each locked coin, and the txid its family broadcast (if any)."""
    sent = {row[0]: row[1] for row in db.execute(
        "SELECT p.family_id, c.txid FROM ceremonies c JOIN proposals p ON p.id = c.proposal_id "
        "WHERE c.wallet_id = ? AND c.txid IS NOT NULL ORDER BY c.updated_at", [wallet_id]).fetchall()}
    return {f"{txid}:{vout}": sent.get(family) for (txid, vout), family in locks.locked(db, wallet_id).items()}


def sync_one(db: Database, wallet: Wallet, backend: ChainBackend) -> int:
    """One wallet's round; returns how many events it wrote."""
    broadcast.resume(db, wallet, backend)
    result = sync_wallet(db, wallet, backend, locked=locked_outpoints(db, wallet.id))
    with write(db):
        for event in result.events:
            events.record_chain(db, event)
    moved = broadcast.follow(db, wallet)
    moved += broadcast.resend_missing(db, wallet, backend)
    failed = sum(_conflict(db, wallet, c.outpoint, c.spending_txid) for c in result.conflicts)
    return len(result.events) + len(moved) + failed + _flag_late_coins(db, wallet)


def _flag_late_coins(db: Database, wallet: Wallet) -> int:
    """A coin that reached a retired wallet is flagged in this round, not when someone looks."""
    from ..governance import successor  # a retired wallet is rare: import on use

    before = len(successor.late_coins(db, wallet.id))
    return len(successor.flag_late_coins(db, wallet.id)) - before


def _conflict(db: Database, wallet: Wallet, outpoint: str, spender: str) -> int:
    """A locked coin spent by a transaction no member of its family made: the family fails."""
    txid, _, vout = outpoint.partition(":")
    row = db.execute("SELECT family_id FROM coin_locks WHERE txid = ? AND vout = ?", [txid, int(vout)]).fetchone()
    if row is None:
        return 0
    family = proposals.family(db, row[0])
    ours = {c.txid for c in (ceremony.load(db, p.id) for p in family) if c is not None and c.txid}
    if spender in ours:
        return 0  # a fee bump of the family got there: follow() and the replacement handle it
    count = 0
    with write(db):
        for member in family:
            found = ceremony.of(db, member)
            if ceremony.can_move(found.state, ceremony.FAILED):
                broadcast.fail(db, found, f"coin {outpoint} was spent elsewhere, by {spender}")
                count += 1
        locks.unlock_family(db, row[0])
    return count


class Watcher:
    """The background thread; ``run_once`` is one round (tests call it directly)."""

    def __init__(self, database, backend: Callable[[], ChainBackend], network: str, interval: float = 30.0,
                 on_change: Callable[[], None] | None = None, holder: str | None = None) -> None:
        self.database, self.backend, self.network, self.interval = database, backend, network, interval
        self.on_change = on_change
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> bool:
        """One round if this process holds the lease; False when another does."""
        db = open_database(self.database)
        try:
            if not take_lease(db, self.holder, ttl=max(3 * self.interval, 10.0)):
                return False
            proposals.expire_due(db)
            backend = self.backend()
            try:
                for wallet in wallet_store.list_all(db):
                    if wallet.network == self.network:
                        self._sync_guarded(db, wallet, backend)
            finally:
                getattr(backend, "close", lambda: None)()
            return True
        finally:
            db.close()
            if self.on_change is not None:
                self.on_change()

    def _sync_guarded(self, db: Database, wallet: Wallet, backend: ChainBackend) -> None:
        try:
            sync_one(db, wallet, backend)
        except HuddleError as err:  # a backend outage or a bad answer: try again next round
            log.warning("chain watcher: wallet %s: %s: %s", wallet.id, err.code, err.message)

    def start(self) -> "Watcher":
        self._thread = threading.Thread(target=self._loop, name="huddle-chain-watcher", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except HuddleError as err:
                log.warning("chain watcher: %s: %s", err.code, err.message)
            self._stop.wait(self.interval)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current round and give the lease up."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        db = open_database(self.database)
        try:
            release_lease(db, self.holder)
        finally:
            db.close()
