"""Backups and restores through SQLite's online backup API, on real files: a backup
taken while another connection writes is one consistent moment, and a restore
refuses anything but a sound Huddle database before it replaces a thing."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from coordinator.errors import Conflict, InvalidInput
from coordinator.store import backup as store_backup
from coordinator.store import open_database, write


def _with_rows(path: Path, count: int) -> None:
    db = open_database(path)
    with write(db):
        db["ledger"].create({"n": int, "note": str}, pk="n", if_not_exists=True)
        db["ledger"].insert_all(({"n": n, "note": f"row {n}" * 20} for n in range(1, count + 1)), pk="n")
    db.close()


def _rows(path: Path) -> list[int]:
    conn = sqlite3.connect(path)
    try:
        return [n for (n,) in conn.execute("SELECT n FROM ledger ORDER BY n")]
    finally:
        conn.close()


def _integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as err:
        return str(err)
    finally:
        conn.close()


def test_a_backup_taken_while_another_connection_writes_is_one_consistent_moment(tmp_path):
    live = tmp_path / "huddle.sqlite3"
    _with_rows(live, 0)
    stop = threading.Event()

    def writer() -> None:
        # Each transaction adds a pair (n, -n): a torn copy would hold half a pair.
        db = open_database(live)
        n = 0
        while not stop.is_set():
            n += 1
            with write(db):
                db["ledger"].insert_all([{"n": n, "note": "x"}, {"n": -n, "note": "y"}], pk="n")
        db.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(_rows(live)) < 200:
            pass
        copies = [store_backup.backup(live, tmp_path / f"copy{i}.sqlite3") for i in range(3)]
    finally:
        stop.set()
        thread.join()

    for copy in copies:
        assert _integrity(copy) == "ok"
        rows = _rows(copy)
        high = max(rows)
        assert rows == sorted([-n for n in range(1, high + 1)] + list(range(1, high + 1)))
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert len(_rows(live)) > len(_rows(copies[0]))  # the writer carried on past the first copy


WRITER = """
import pathlib, sys, time
from coordinator.store import open_database, write
db = open_database(sys.argv[1])
stop = pathlib.Path(sys.argv[2])
n = 0
while not stop.exists():
    n += 1
    with write(db):
        db["ledger"].insert_all([{"n": n, "note": "x"}, {"n": -n, "note": "y"}], pk="n")
    time.sleep(0.01)  # about 100 write transactions a second
"""


def test_a_backup_taken_while_another_process_writes_100_times_a_second_restores_whole(tmp_path):
    live, stop = tmp_path / "huddle.sqlite3", tmp_path / "stop"
    _with_rows(live, 0)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(live), str(stop)])
    try:
        deadline = time.monotonic() + 30
        while len(_rows(live)) < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        saved = store_backup.backup(live, tmp_path / "saved.sqlite3")
        time.sleep(0.2)  # the writer carries on past the backup
    finally:
        stop.touch()
        assert writer.wait(timeout=30) == 0
    elsewhere = tmp_path / "new-server" / "huddle.sqlite3"
    elsewhere.parent.mkdir()

    kept = store_backup.restore(elsewhere, saved)

    assert kept is None and list(elsewhere.parent.iterdir()) == [elsewhere]  # nothing was there to keep
    assert _integrity(elsewhere) == "ok"
    rows = _rows(elsewhere)
    high = max(rows)
    assert high >= 100
    assert rows == sorted([-n for n in range(1, high + 1)] + list(range(1, high + 1)))
    assert len(_rows(live)) > len(rows)


def test_a_backup_refuses_to_overwrite_a_file_unless_forced(tmp_path):
    live = tmp_path / "huddle.sqlite3"
    _with_rows(live, 3)
    target = tmp_path / "backup.sqlite3"
    target.write_bytes(b"something precious")

    with pytest.raises(Conflict) as caught:
        store_backup.backup(live, target)

    assert caught.value.code == "backup_exists"
    assert target.read_bytes() == b"something precious"
    store_backup.backup(live, target, force=True)
    assert _rows(target) == [1, 2, 3]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no staging file left


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_a_backup_never_overwrites_the_database_itself_even_forced(tmp_path, suffix):
    live = tmp_path / "huddle.sqlite3"
    _with_rows(live, 3)
    before = live.read_bytes()

    with pytest.raises(Conflict) as caught:
        store_backup.backup(live, tmp_path / "sub" / ".." / f"huddle.sqlite3{suffix}", force=True)

    assert caught.value.code == "backup_exists" and "the database itself" in caught.value.message
    assert live.read_bytes() == before


def test_a_restore_replaces_the_database_and_keeps_the_old_one(tmp_path):
    live = tmp_path / "huddle.sqlite3"
    _with_rows(live, 5)
    saved = store_backup.backup(live, tmp_path / "saved.sqlite3")
    db = open_database(live)
    with write(db):
        db["ledger"].insert({"n": 6, "note": "after the backup"})
    db.close()

    kept = store_backup.restore(live, saved, now=datetime(2026, 12, 2, 1, 2, 3, tzinfo=timezone.utc))

    assert _rows(live) == [1, 2, 3, 4, 5]
    assert kept.name == "huddle.sqlite3.before-restore-20261202T010203Z"
    assert _rows(kept) == [1, 2, 3, 4, 5, 6]
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    open_database(live).close()  # still opens and migrates


def _refused(live: Path, bad: Path, words: str) -> None:
    before = live.read_bytes()
    with pytest.raises(InvalidInput) as caught:
        store_backup.restore(live, bad)
    assert caught.value.code == "bad_backup"
    assert words in caught.value.message and "\n" not in caught.value.message
    assert live.read_bytes() == before  # nothing was replaced
    assert not list(live.parent.glob("*.before-restore-*"))


def test_a_truncated_backup_is_refused(tmp_path):
    live = tmp_path / "huddle.sqlite3"
    _with_rows(live, 300)
    saved = store_backup.backup(live, tmp_path / "saved.sqlite3")
    saved.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])

    _refused(live, saved, "truncated")


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    live = tmp_path / "huddle.sqlite3"
    _with_rows(live, 1)
    bad = tmp_path / "wallet.txt"
    bad.write_text("wsh(sortedmulti(2,...))\n")

    _refused(live, bad, "not a SQLite database")


def test_a_sqlite_database_that_is_not_huddles_is_refused(tmp_path):
    live = tmp_path / "huddle.sqlite3"
    _with_rows(live, 1)
    other = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()

    _refused(live, other, "not Huddle's")


def test_a_backup_from_a_newer_huddle_is_refused(tmp_path):
    live = tmp_path / "huddle.sqlite3"
    _with_rows(live, 1)
    saved = store_backup.backup(live, tmp_path / "saved.sqlite3")
    conn = sqlite3.connect(saved)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('huddle', 'm999_from_the_future', '2099-01-01')")
    conn.commit()
    conn.close()

    _refused(live, saved, "newer Huddle (m999_from_the_future)")


def test_a_backup_with_a_corrupt_page_is_refused(tmp_path):
    live = tmp_path / "huddle.sqlite3"
    _with_rows(live, 300)
    saved = store_backup.backup(live, tmp_path / "saved.sqlite3")
    data = bytearray(saved.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    last_page = len(data) // page - 1
    data[last_page * page: last_page * page + 64] = bytes(range(64))  # a b-tree page's header, scrambled
    saved.write_bytes(bytes(data))

    _refused(live, saved, "saved.sqlite3")


def test_a_damaged_database_can_be_restored_over_and_is_kept(tmp_path):
    live = tmp_path / "huddle.sqlite3"
    _with_rows(live, 300)
    saved = store_backup.backup(live, tmp_path / "saved.sqlite3")
    data = bytearray(live.read_bytes())
    last_page = len(data) // 4096 - 1
    data[last_page * 4096: last_page * 4096 + 64] = bytes(range(64))
    live.write_bytes(bytes(data))
    assert _integrity(live) != "ok"

    kept = store_backup.restore(live, saved)

    assert _integrity(live) == "ok"
    assert _rows(live) == list(range(1, 301))
    assert kept.read_bytes()[100:] == bytes(data[100:])  # every page as it was, damage included
