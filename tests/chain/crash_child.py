"""Broadcast one transaction and SIGKILL ourselves at a chosen point.

Run as ``python -m tests.chain.crash_child DB URL RAWHEX POINT``. The points:

- ``before_persist``: as SQLite starts the INSERT of the broadcasting row;
- ``before_network``: persisted, inside the backend call, before it sends;
- ``after_network``: the backend accepted it, before we mark it sent;
- ``after_mark``: ``broadcast`` returned (marked sent).

The kill comes from outside the production code: a wrapper around the
backend object and an SQLite trace callback, both set up here.
"""

from __future__ import annotations

import os
import signal
import sys

from coordinator.chain.broadcast import broadcast
from coordinator.chain.esplora import EsploraClient
from coordinator.store.db import open_database


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class KillingBackend:
    """Passes everything through; ``broadcast`` dies before or after the real call."""

    def __init__(self, inner: EsploraClient, point: str) -> None:
        self.inner = inner
        self.point = point
        self.network = inner.network

    def broadcast(self, raw: bytes) -> str:
        if self.point == "before_network":
            die()
        txid = self.inner.broadcast(raw)
        if self.point == "after_network":
            die()
        return txid

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


def main(db_path: str, url: str, raw_hex: str, point: str) -> None:
    db = open_database(db_path)
    if point == "before_persist":
        db.conn.set_trace_callback(lambda sql: die() if sql.startswith("INSERT INTO broadcasts") else None)
    backend = KillingBackend(EsploraClient(url, "regtest", retries=0), point)
    broadcast(db, backend, bytes.fromhex(raw_hex))
    if point == "after_mark":
        die()
    sys.exit(3)  # every point kills before this; reaching it is a test failure


if __name__ == "__main__":
    main(*sys.argv[1:5])
