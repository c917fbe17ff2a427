"""Writers of one process queue for the database instead of racing SQLite's busy
handler: a burst of threads, each on its own connection, never gets database_busy."""

from __future__ import annotations

import threading
import time

from coordinator.store import open_database
from coordinator.store.db import write


def test_a_burst_of_writers_on_separate_connections_all_commit(db_path):
    open_database(db_path).close()
    connections = [open_database(db_path) for _ in range(16)]
    for db in connections:  # a busy handler far shorter than the burst: only the queue can save them
        db.conn.execute("PRAGMA busy_timeout = 20")
    connections[0].execute("CREATE TABLE tally (writer INTEGER)")
    failures: list[Exception] = []
    start = threading.Barrier(len(connections))

    def writer(number: int, db) -> None:
        start.wait()
        try:
            for _ in range(5):
                with write(db):
                    db.execute("INSERT INTO tally VALUES (?)", [number])
                    time.sleep(0.01)  # hold the write lock like a real request does
        except Exception as err:  # noqa: BLE001  (collected and asserted below)
            failures.append(err)

    threads = [threading.Thread(target=writer, args=(n, db)) for n, db in enumerate(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert connections[0].execute("SELECT count(*) FROM tally").fetchone()[0] == 16 * 5
    for db in connections:
        db.close()
