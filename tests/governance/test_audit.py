"""The audit log is a hash chain: appends link, edits and removals are caught
and named, and nothing commits half a state change."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from coordinator import canonical
from coordinator.governance import audit
from coordinator.governance.errors import ChainBroken
from coordinator.store.db import write


def _three_entries(db) -> list[audit.Entry]:
    return [audit.append(db, "wallet:7", kind, {"n": i}, actor="user:1", at=1_767_225_600 + i)
            for i, kind in enumerate(("wallet_created", "member_joined", "proposal_created"))]


def _tamper(db, sql: str, args: list) -> None:
    """What someone with the database file can do: drop the guard, edit."""
    db.execute("DROP TRIGGER audit_log_no_update")
    db.execute("DROP TRIGGER audit_log_no_delete")
    db.execute(sql, args)


def test_each_entry_hashes_its_predecessor_and_its_canonical_form(db):
    first, second, _ = _three_entries(db)

    assert first.prev_hash == audit.GENESIS and second.prev_hash == first.hash
    expected = hashlib.sha256(bytes.fromhex(first.hash) + canonical.encode({
        "v": 1, "chain": "wallet:7", "seq": 2, "prev": first.hash, "at": 1_767_225_601,
        "actor": "user:1", "type": "member_joined", "body": {"n": 1}})).hexdigest()
    assert second.hash == expected


def test_a_stored_chain_verifies_and_its_head_is_the_last_entry(db):
    entries = _three_entries(db)

    head = audit.verify(audit.entries(db, "wallet:7"))

    assert head == audit.head(db, "wallet:7") == audit.Head(3, entries[-1].hash)
    assert audit.head(db, "wallet:8") == audit.EMPTY


def test_chains_are_separate(db):
    _three_entries(db)
    other = audit.append(db, "wallet:8", "wallet_created", {}, actor="user:2", at=1)

    assert other.seq == 1 and other.prev_hash == audit.GENESIS
    assert audit.chains(db) == ["wallet:7", "wallet:8"]


def test_the_database_refuses_edits_and_deletes_of_audit_rows(db):
    _three_entries(db)

    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE audit_log SET body = '{}' WHERE seq = 2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM audit_log WHERE seq = 3")


def test_an_edited_body_breaks_the_chain_at_that_entry(db):
    _three_entries(db)
    _tamper(db, "UPDATE audit_log SET body = ? WHERE chain = 'wallet:7' AND seq = 2", ['{"n":99}'])

    with pytest.raises(ChainBroken) as err:
        audit.verify(audit.entries(db, "wallet:7"))

    assert err.value.details["seq"] == 2 and "edited" in err.value.message


def test_an_entry_rehashed_after_an_edit_breaks_the_link_from_the_next(db):
    _three_entries(db)
    forged = audit.entries(db, "wallet:7")[1]
    forged = audit.Entry(**{**forged.__dict__, "body": {"n": 99}, "hash": ""})
    _tamper(db, "UPDATE audit_log SET body = ?, hash = ? WHERE chain = 'wallet:7' AND seq = 2",
            ['{"n":99}', forged.computed_hash()])

    with pytest.raises(ChainBroken) as err:
        audit.verify(audit.entries(db, "wallet:7"))

    assert err.value.details["seq"] == 3


def test_a_removed_entry_is_named(db):
    _three_entries(db)
    _tamper(db, "DELETE FROM audit_log WHERE chain = 'wallet:7' AND seq = 2", [])

    with pytest.raises(ChainBroken) as err:
        audit.verify(audit.entries(db, "wallet:7"))

    assert err.value.details["seq"] == 3


def test_entries_since_a_remembered_head_must_extend_it(db):
    entries = _three_entries(db)
    remembered = audit.Head(1, entries[0].hash)

    assert audit.verify(audit.entries(db, "wallet:7", after=1), start=remembered).seq == 3
    with pytest.raises(ChainBroken):
        audit.verify(audit.entries(db, "wallet:7", after=1), start=audit.Head(1, "11" * 32))


def test_an_append_rolls_back_with_the_state_change_it_records(db):
    with pytest.raises(RuntimeError), write(db):
        audit.append(db, "server", "admin_created", {"user": 1}, actor="system")
        raise RuntimeError("the state change failed after its audit entry")

    assert audit.head(db, "server") == audit.EMPTY


def test_exported_entries_read_back_and_verify(db):
    _three_entries(db)
    exported = [e.to_dict() for e in audit.entries(db, "wallet:7")]

    assert audit.verify(audit.Entry.from_dict(d) for d in exported).seq == 3


@pytest.mark.parametrize("change", [{"v": 2}, {"seq": "2"}, {"hash": "XY"}, {"extra": 1}, {"body": []}],
                         ids=["version", "seq as text", "bad hash", "extra field", "body not an object"])
def test_malformed_exported_entries_are_refused(db, change):
    _three_entries(db)
    data = {**audit.entries(db, "wallet:7")[0].to_dict(), **change}

    with pytest.raises(audit.InvalidInput) as err:
        audit.Entry.from_dict(data)
    assert err.value.code == "audit_malformed"


def test_a_wallet_chain_begins_with_the_wallets_policy_id(db):
    from coordinator.store import wallets

    from .. import keys

    wallet = wallets.add(db, "Vault", "testnet", keys.descriptor(2, 3))  # as `huddle wallet import` does
    audit.append_to_wallet(db, wallet.id, "member_joined", {"user": 1}, actor="user:1")

    first, second = audit.entries(db, audit.wallet_chain(wallet.id))
    assert (first.seq, first.type, first.actor) == (1, "wallet_created", "system")
    assert first.body == {"policy_id": wallet.descriptor.policy_id, "network": "testnet", "name": "Vault"}
    assert second.type == "member_joined"
    audit.start_wallet_chain(db, wallet.id, actor="user:1")
    assert audit.head(db, audit.wallet_chain(wallet.id)).seq == 2


def test_a_new_wallet_never_inherits_a_removed_wallets_chain(db):
    """SQLite reuses the highest rowid after a delete; the chain is named by the id,
    so a reused id would show the new wallet's members the old wallet's history."""
    from coordinator.store import wallets
    from tests import keys

    old = wallets.add(db, "old", "testnet", keys.descriptor(2, 3, True, "wsh"))
    audit.append_to_wallet(db, old.id, "proposal_created", {"memo_hash": "00" * 32}, actor="user:1")
    wallets.remove(db, "old")

    new = wallets.add(db, "new", "testnet", keys.descriptor(2, 3, True, "sh-wsh"))

    assert new.id != old.id
    assert audit.entries(db, audit.wallet_chain(new.id)) == []
    audit.start_wallet_chain(db, new.id, "user:1")
    (genesis,) = audit.entries(db, audit.wallet_chain(new.id))
    assert genesis.type == "wallet_created" and genesis.body["policy_id"] == new.descriptor.policy_id


def test_upgrading_retires_the_ids_of_wallets_removed_before_it(db_path):
    """A database from before m012 may hold the chain of a wallet already removed:
    the upgrade retires that id too."""
    from sqlite_utils import Database

    from coordinator.store import open_database, wallets
    from coordinator.store.migrations import MIGRATIONS
    from tests import keys

    before = Database(sqlite3.connect(str(db_path), isolation_level=None))
    MIGRATIONS.apply(before, stop_before="m012_wallet_ids_never_reused")
    for wallet_id, script_type in ((1, "wsh"), (2, "sh-wsh")):  # as the old wallets.add stored them
        row = wallets.Wallet(0, f"w{wallet_id}", "testnet", keys.descriptor(2, 3, True, script_type),
                             "2026-01-01T00:00:00+00:00", None).to_row()
        before["wallets"].insert({"id": wallet_id, **row})
    audit.append(before, audit.wallet_chain(2), "wallet_created", {"policy_id": "p"}, actor="user:1")
    before.execute("DELETE FROM wallets WHERE id = 2")
    before.conn.close()

    db = open_database(db_path)
    third = wallets.add(db, "third", "testnet", keys.descriptor(3, 5, True, "wsh"))

    assert third.id == 3
    assert audit.entries(db, audit.wallet_chain(third.id)) == []
    db.close()
