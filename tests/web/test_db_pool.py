"""Requests and socket events share a small pool of SQLite connections per app
(coordinator/web/db.py): a burst never opens more than CONNECTIONS, every writer
queues for its turn instead of racing SQLite's busy handler, and a connection
comes back clean."""

from __future__ import annotations

import threading
import time

from coordinator.store import open_database
from coordinator.store.db import write
from coordinator.web.db import CONNECTIONS, get_db


def _tally(config) -> None:
    db = open_database(config.database)
    db.execute("CREATE TABLE tally (writer INTEGER)")
    db.close()


def _burst(app, work, threads: int = 3 * CONNECTIONS) -> list[Exception]:
    failures: list[Exception] = []
    start = threading.Barrier(threads)

    def one(number: int) -> None:
        start.wait()
        try:
            with app.app_context():
                work(number, get_db())
        except Exception as err:  # noqa: BLE001  (collected and asserted by the caller)
            failures.append(err)

    running = [threading.Thread(target=one, args=(n,)) for n in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    return failures


def test_a_burst_of_writers_through_the_app_all_commit(app, config):
    _tally(config)

    def writer(number: int, db) -> None:
        db.conn.execute("PRAGMA busy_timeout = 20")  # far shorter than the burst: only the queue can save them
        for _ in range(3):
            with write(db):
                db.execute("INSERT INTO tally VALUES (?)", [number])
                time.sleep(0.01)  # hold the write lock like a real request does

    assert _burst(app, writer) == []
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM tally").fetchone()[0] == 3 * CONNECTIONS * 3


def test_a_burst_of_requests_opens_at_most_the_pool_s_connections(app, config):
    used, guard = [], threading.Lock()

    def reader(number: int, db) -> None:
        with guard:
            used.append(db)  # kept alive, so that two distinct connections never share an id
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        time.sleep(0.01)

    assert _burst(app, reader) == []
    assert len(used) == 3 * CONNECTIONS
    assert len({id(db.conn) for db in used}) <= CONNECTIONS


def test_a_connection_left_inside_a_transaction_comes_back_rolled_back(app, config):
    _tally(config)
    with app.app_context():
        first = get_db()
        first.conn.execute("BEGIN IMMEDIATE")
        first.execute("INSERT INTO tally VALUES (1)")
    with app.app_context():
        again = get_db()
        assert again.conn is first.conn and not again.conn.in_transaction
        assert again.execute("SELECT count(*) FROM tally").fetchone()[0] == 0
