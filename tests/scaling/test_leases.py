"""The lease row (sessions/watcher.py) between two real processes: the chain
watcher and automatic broadcast run in one process at a time (DESIGN.md)."""

from __future__ import annotations

import multiprocessing

from coordinator.sessions.watcher import release_lease, take_lease
from coordinator.store import open_database

ROUNDS = 200


def _contend(database: str, holder: str, barrier, wins) -> None:
    """Each round, both processes reach for a fresh lease at the same moment."""
    db = open_database(database)
    for r in range(ROUNDS):
        barrier.wait()
        if take_lease(db, holder, ttl=3600, name=f"round-{r}"):
            wins.put((r, holder))
    db.close()


def test_of_two_processes_reaching_for_a_lease_at_once_exactly_one_holds_it(tmp_path):
    database = str(tmp_path / "huddle.sqlite3")
    open_database(database).close()
    spawn = multiprocessing.get_context("spawn")
    barrier, wins = spawn.Barrier(2), spawn.Queue()
    workers = [spawn.Process(target=_contend, args=(database, name, barrier, wins)) for name in ("a", "b")]
    for w in workers:
        w.start()
    won = [wins.get(timeout=120) for _ in range(ROUNDS)]
    for w in workers:
        w.join(timeout=60)

    assert sorted(r for r, _ in won) == list(range(ROUNDS))  # one winner per round, never two
    assert wins.empty() and all(w.exitcode == 0 for w in workers)


def _try(database: str, holder: str, out) -> None:
    db = open_database(database)
    out.put(take_lease(db, holder, ttl=3600))
    db.close()


def test_a_held_lease_passes_to_the_other_process_only_once_released(tmp_path):
    database = str(tmp_path / "huddle.sqlite3")
    db = open_database(database)
    spawn = multiprocessing.get_context("spawn")
    out = spawn.Queue()

    def other() -> bool:
        process = spawn.Process(target=_try, args=(database, "b", out))
        process.start()
        process.join(timeout=60)
        return out.get(timeout=10)

    assert take_lease(db, "a", ttl=3600)
    assert other() is False
    assert take_lease(db, "a", ttl=3600)  # the holder renews
    release_lease(db, "a")
    assert other() is True
    assert take_lease(db, "a", ttl=3600) is False
    db.close()
