"""Coin locks: one active proposal family per outpoint, all or nothing, and
exactly one winner when proposals race for the same coin."""

from __future__ import annotations

import hashlib
import threading

import pytest

from coordinator.errors import Conflict
from coordinator.governance import locks
from coordinator.store import open_database, wallets

from .. import keys

PAIRS, BATCH = 200, 1  # 200 races, each of two proposals for one coin on their own connections


def _txid(i: int) -> str:
    return hashlib.sha256(f"coin {i}".encode()).hexdigest()


@pytest.fixture
def wallet_id(db) -> int:
    return wallets.add(db, "Vault", "testnet", keys.descriptor(2, 3)).id


def test_a_locked_coin_cannot_join_another_family(db, wallet_id):
    locks.lock(db, wallet_id, "family-a", [(_txid(1), 0)])

    with pytest.raises(Conflict) as err:
        locks.lock(db, wallet_id, "family-b", [(_txid(1), 0)])

    assert err.value.code == "coin_locked" and err.value.details["outpoint"] == f"{_txid(1)}:0"


def test_a_replacement_in_the_same_family_shares_the_lock(db, wallet_id):
    locks.lock(db, wallet_id, "family-a", [(_txid(1), 0)])

    locks.lock(db, wallet_id, "family-a", [(_txid(1), 0), (_txid(2), 1)])

    assert locks.locked(db, wallet_id) == {(_txid(1), 0): "family-a", (_txid(2), 1): "family-a"}


def test_locking_is_all_or_nothing(db, wallet_id):
    locks.lock(db, wallet_id, "family-a", [(_txid(2), 0)])

    with pytest.raises(Conflict):
        locks.lock(db, wallet_id, "family-b", [(_txid(1), 0), (_txid(2), 0), (_txid(3), 0)])

    assert locks.locked(db, wallet_id) == {(_txid(2), 0): "family-a"}


def test_unlocking_a_family_frees_its_coins_for_another(db, wallet_id):
    locks.lock(db, wallet_id, "family-a", [(_txid(1), 0), (_txid(1), 1)])

    assert locks.unlock_family(db, "family-a") == 2
    locks.lock(db, wallet_id, "family-b", [(_txid(1), 0)])
    assert locks.locked(db, wallet_id) == {(_txid(1), 0): "family-b"}


def _race(db_path, wallet_id: int, pairs: range) -> dict[int, list[str]]:
    """Two proposals per coin, each on its own connection, released together."""
    winners: dict[int, list[str]] = {i: [] for i in pairs}
    start = threading.Barrier(2 * len(pairs))
    failures: list[BaseException] = []

    def propose(i: int, family: str, db) -> None:
        try:
            start.wait()
            locks.lock(db, wallet_id, family, [(_txid(i), 0)])
            winners[i].append(family)
        except Conflict as err:
            assert err.code == "coin_locked"
        except BaseException as err:  # noqa: BLE001  (reported below)
            failures.append(err)
        finally:
            db.close()

    threads = [threading.Thread(target=propose, args=(i, f"{side}-{i}", open_database(db_path)))
               for i in pairs for side in "ab"]  # one connection per proposal, opened before the race
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    return winners


def test_of_200_racing_pairs_exactly_one_proposal_wins_each_coin(db, db_path, wallet_id):
    winners: dict[int, list[str]] = {}
    for first in range(0, PAIRS, BATCH):
        winners.update(_race(db_path, wallet_id, range(first, first + BATCH)))

    assert all(len(won) == 1 for won in winners.values()), {i: w for i, w in winners.items() if len(w) != 1}
    held = locks.locked(db, wallet_id)
    assert held == {(_txid(i), 0): won[0] for i, won in winners.items()}
