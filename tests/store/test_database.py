"""The SQLite database: pragmas, migrations, file mode, foreign keys and the
one way to write (``BEGIN IMMEDIATE``), tested on real files."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from embit.script import Script, Witness
from embit.transaction import Transaction, TransactionInput, TransactionOutput
from sqlite_utils import Database

from coordinator.chain.broadcast import wtxid_of
from coordinator.errors import StorageError
from coordinator.store import chain as chain_store
from coordinator.store import open_database, wallets, write
from coordinator.store.migrations import MIGRATIONS
from coordinator.wallet import addresses
from coordinator.wallet.descriptor import CHANGE, RECEIVE
from tests import keys

REPO_ROOT = Path(__file__).resolve().parents[2]
# Every migration this Huddle ships, in order (pending() on an empty database).
SHIPPED_MIGRATIONS = [m.name for m in MIGRATIONS.pending(Database(memory=True))]
# Bitcoin's first non-coinbase transaction (block 170): no witness.
LEGACY_TX = (
    "0100000001c997a5e56e104102fa209c6a852dd90660a20b2d9c352423edce25857fcd3704000000004847304402204e45e16932"
    "b8af514961a1d3a1a25fdf3f4f7732e9d624c6c61548ab5fb8cd410220181522ec8eca07de4860a4acdd12909d831cc56cbbac46"
    "22082221a8768d1d0901ffffffff0200ca9a3b00000000434104ae1a62fe09c5f51b13905f07f06b99a2f7159b2225f374cd378d"
    "71302fa28414e7aab37397f554a7df5f142c21c1b7303b8a0626f1baded5c72a704f7e6cd84cac00286bee0000000043410411db"
    "93e1dcdb8a016b49840f8c53bc1eb68a382e97b1482ecad7b148a6909a5cb2e0eaddfb84ccf9744464f82e160bfa9b8b64f9d4c0"
    "3f999b8643f656b412a3ac00000000")


def applied_names(db) -> list[str]:
    return [m.name for m in MIGRATIONS.applied(db)]


def count(db, sql: str, params=()) -> int:
    return db.execute(sql, params).fetchone()[0]


# -- opening -------------------------------------------------------------------


def test_a_file_database_runs_in_wal_mode_with_full_sync_and_foreign_keys(db):
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000


def test_the_database_file_is_created_readable_by_its_owner_only(db, db_path):
    with write(db):  # make sure the WAL and shared-memory files exist too
        db.execute("CREATE TABLE probe (x)")

    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    for sidecar in (db_path.with_name(db_path.name + "-wal"), db_path.with_name(db_path.name + "-shm")):
        assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600, sidecar.name


def test_a_directory_as_the_database_path_is_a_storage_error(tmp_path):
    with pytest.raises(StorageError) as caught:
        open_database(tmp_path)

    assert caught.value.code == "database_error"


def test_a_database_in_a_missing_directory_is_a_storage_error(tmp_path):
    with pytest.raises(StorageError) as caught:
        open_database(tmp_path / "no-such-dir" / "huddle.sqlite3")

    assert caught.value.code == "database_error"


def test_a_file_that_is_not_a_database_is_a_storage_error(db_path):
    db_path.write_bytes(b"this is a text file, not SQLite\n" * 100)

    with pytest.raises(StorageError) as caught:
        open_database(db_path)

    assert caught.value.code == "database_error"


# -- migrations ----------------------------------------------------------------


def test_a_new_database_gets_every_migration_once(db):
    assert applied_names(db) == SHIPPED_MIGRATIONS
    assert set(db.table_names()) >= {"wallets", "cosigners", "addresses"}


def test_reopening_applies_no_migration_twice(db_path):
    first = open_database(db_path)
    before = [(m.name, m.applied_at) for m in MIGRATIONS.applied(first)]
    first.close()

    again = open_database(db_path)
    again.close()
    third = open_database(db_path)

    assert [(m.name, m.applied_at) for m in MIGRATIONS.applied(third)] == before
    assert count(third, "SELECT COUNT(*) FROM _sqlite_migrations") == len(SHIPPED_MIGRATIONS)
    third.close()


def test_a_database_migrated_by_a_newer_huddle_is_refused(db_path):
    db = open_database(db_path)
    db["_sqlite_migrations"].insert(
        {"migration_set": "huddle", "name": "m999_from_the_future", "applied_at": "2099-01-01"}
    )
    db.close()

    with pytest.raises(StorageError) as caught:
        open_database(db_path)

    assert caught.value.code == "database_error"
    assert "m999_from_the_future" in caught.value.message


def test_migrations_of_another_migration_set_are_not_mistaken_for_newer_ones(db_path):
    db = open_database(db_path)
    db["_sqlite_migrations"].insert(
        {"migration_set": "some_plugin", "name": "p001_extra", "applied_at": "2024-01-01"}
    )
    db.close()

    reopened = open_database(db_path)

    assert applied_names(reopened) == SHIPPED_MIGRATIONS
    reopened.close()


def _segwit_tx(signature_byte: int) -> Transaction:
    """A real serialized segwit transaction; the witness byte changes only its wtxid."""
    vin = [TransactionInput(bytes.fromhex("11" * 32), 1, witness=Witness([b"", bytes([signature_byte]) * 71]))]
    return Transaction(version=2, vin=vin, vout=[TransactionOutput(90_000, Script(bytes.fromhex("0014" + "42" * 20)))])


def test_upgrading_a_database_of_the_previous_schema_keys_its_broadcasts_by_wtxid(db_path):
    before = Database(sqlite3.connect(str(db_path), isolation_level=None))
    MIGRATIONS.apply(before, stop_before="m003_broadcasts_by_wtxid")  # the schema Huddle 0.1 shipped
    sent, pending = _segwit_tx(0x30), Transaction.parse(bytes.fromhex(LEGACY_TX))
    for tx, state, attempts, error in ((sent, "sent", 1, None), (pending, "broadcasting", 2, "timeout")):
        before.execute("INSERT INTO broadcasts (txid, raw, state, attempts, last_error, created_at, updated_at)"
                       " VALUES (?, ?, ?, ?, ?, '2026-01-01T00:00:00+00:00', '2026-01-02T00:00:00+00:00')",
                       [tx.txid().hex(), tx.serialize().hex(), state, attempts, error])
    before.conn.close()

    db = open_database(db_path)

    assert applied_names(db) == SHIPPED_MIGRATIONS
    carried = {r.txid: r for r in chain_store.broadcasts_in(db, ["sent", "broadcasting"])}
    assert set(carried) == {sent.txid().hex(), pending.txid().hex()}
    assert carried[sent.txid().hex()].wtxid == wtxid_of(sent.serialize()) != sent.txid().hex()
    assert carried[pending.txid().hex()].wtxid == pending.txid().hex()  # no witness: wtxid is the txid
    assert (carried[pending.txid().hex()].attempts, carried[pending.txid().hex()].last_error) == (2, "timeout")
    assert carried[sent.txid().hex()].raw == sent.serialize()
    corrected = _segwit_tx(0x31)  # same txid, another witness: a row of its own
    chain_store.record_broadcast(db, corrected.txid().hex(), wtxid_of(corrected.serialize()), corrected.serialize())
    assert [r.state for r in chain_store.broadcasts_of(db, sent.txid().hex())] == ["sent", "broadcasting"]
    db.close()


# -- foreign keys ----------------------------------------------------------------


def test_removing_a_wallet_removes_its_cosigners_and_addresses(db):
    kept = wallets.add(db, "kept", "testnet", keys.descriptor(2, 2, first=5))
    gone = wallets.add(db, "gone", "testnet", keys.descriptor(2, 3))
    for wallet in (kept, gone):
        addresses.issue(db, wallet, RECEIVE)
        addresses.issue(db, wallet, CHANGE)
        addresses.mark_used(db, wallet, RECEIVE, 7)

    wallets.remove(db, "gone")

    assert count(db, "SELECT COUNT(*) FROM cosigners WHERE wallet_id = ?", [gone.id]) == 0
    assert count(db, "SELECT COUNT(*) FROM addresses WHERE wallet_id = ?", [gone.id]) == 0
    assert count(db, "SELECT COUNT(*) FROM cosigners WHERE wallet_id = ?", [kept.id]) == 2
    assert count(db, "SELECT COUNT(*) FROM addresses WHERE wallet_id = ?", [kept.id]) == 3


def test_rows_pointing_at_no_wallet_are_refused(db):
    with pytest.raises(sqlite3.IntegrityError):
        with write(db):
            db.execute(
                "INSERT INTO addresses (wallet_id, branch, idx, address, script_pubkey)"
                " VALUES (12345, 0, 0, 'addr', '00')"
            )


# -- write() ---------------------------------------------------------------------


class Boom(Exception):
    pass


def test_a_failed_write_leaves_nothing_half_written(db):
    with write(db):
        db.execute("CREATE TABLE ledger (n INTEGER)")

    with pytest.raises(Boom):
        with write(db):
            db.execute("INSERT INTO ledger VALUES (1)")
            db.execute("INSERT INTO ledger VALUES (2)")
            raise Boom()

    assert count(db, "SELECT COUNT(*) FROM ledger") == 0
    assert not db.conn.in_transaction
    with write(db):
        db.execute("INSERT INTO ledger VALUES (3)")
    assert [r[0] for r in db.execute("SELECT n FROM ledger")] == [3]


def test_a_failed_wallet_insert_leaves_no_orphan_rows(db):
    wallets.add(db, "first", "testnet", keys.descriptor(2, 3))

    with pytest.raises(Exception):
        wallets.add(db, "first", "testnet", keys.descriptor(2, 2, first=6))

    assert count(db, "SELECT COUNT(*) FROM wallets") == 1
    assert count(db, "SELECT COUNT(*) FROM cosigners") == 3


def test_a_nested_write_that_fails_rolls_back_only_its_own_part(db):
    with write(db):
        db.execute("CREATE TABLE ledger (n INTEGER)")

    with write(db):
        db.execute("INSERT INTO ledger VALUES (1)")
        with pytest.raises(Boom):
            with write(db):
                db.execute("INSERT INTO ledger VALUES (2)")
                raise Boom()
        db.execute("INSERT INTO ledger VALUES (3)")

    assert [r[0] for r in db.execute("SELECT n FROM ledger ORDER BY n")] == [1, 3]


def test_a_write_is_invisible_to_another_connection_until_it_commits(db, db_path):
    with write(db):
        db.execute("CREATE TABLE ledger (n INTEGER)")
    reader = open_database(db_path)

    with write(db):
        db.execute("INSERT INTO ledger VALUES (1)")
        assert count(reader, "SELECT COUNT(*) FROM ledger") == 0
    assert count(reader, "SELECT COUNT(*) FROM ledger") == 1
    reader.close()


# -- several processes -----------------------------------------------------------

_OPENER = """
import sys, time
from coordinator.store import open_database
path, go = sys.argv[1], float(sys.argv[2])
while time.time() < go:
    time.sleep(0.001)
open_database(path).close()
print("opened")
"""

_INCREMENTER = """
import sys, time
from coordinator.store import open_database, write
path, go, n, who = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
db = open_database(path)
while time.time() < go:
    time.sleep(0.001)
for _ in range(n):
    with write(db):
        (value,) = db.execute("SELECT value FROM counter WHERE id = 1").fetchone()
        db.execute("UPDATE counter SET value = ? WHERE id = 1", [value + 1])
        db.execute("INSERT INTO log (seen, who) VALUES (?, ?)", [value, who])
    time.sleep(0.0005)  # work outside the lock, as a real server does between requests
db.close()
print("done")
"""


def run_together(script: str, args_per_process: list[list[str]], timeout: float = 30) -> list[str]:
    workers = [
        subprocess.Popen([sys.executable, "-c", script, *args], cwd=REPO_ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for args in args_per_process
    ]
    outputs = []
    for worker in workers:
        out, err = worker.communicate(timeout=timeout)
        assert worker.returncode == 0, f"a worker failed:\n{err}"
        outputs.append(out)
    return outputs


def test_processes_opening_a_fresh_database_at_once_all_succeed_and_migrate_once(db_path):
    go = repr(time.time() + 0.8)

    outputs = run_together(_OPENER, [[str(db_path), go] for _ in range(4)])

    assert [o.strip() for o in outputs] == ["opened"] * 4
    db = open_database(db_path)
    assert applied_names(db) == SHIPPED_MIGRATIONS
    db.close()


def test_two_writing_processes_never_deadlock_nor_lose_an_update(db, db_path):
    with write(db):
        db.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
        db.execute("INSERT INTO counter VALUES (1, 0)")
        db.execute("CREATE TABLE log (seen INTEGER NOT NULL, who TEXT NOT NULL)")
    per_process = 300
    go = repr(time.time() + 0.8)

    run_together(_INCREMENTER, [[str(db_path), go, str(per_process), who] for who in ("a", "b")])

    total = 2 * per_process
    assert count(db, "SELECT value FROM counter WHERE id = 1") == total
    # Every transaction read a different value: none worked on a stale read.
    assert sorted(r[0] for r in db.execute("SELECT seen FROM log")) == list(range(total))
    # ...and the writers really did take turns, so the test tested something.
    order = [r[0] for r in db.execute("SELECT who FROM log ORDER BY seen")]
    switches = sum(1 for x, y in zip(order, order[1:]) if x != y)
    assert switches >= 2, "the two writers never interleaved"
