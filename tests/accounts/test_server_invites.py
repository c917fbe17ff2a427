"""A fresh server has no wallet to invite people to: the server's admin invites
them to the server alone, and they join as plain users who can own a draft's slots."""

from __future__ import annotations

import sqlite3

import pytest
from sqlite_utils import Database

from coordinator.accounts import invites, roles, setup, users
from coordinator.errors import Gone, InvalidInput
from coordinator.governance import audit, wallet_setup
from coordinator.store import open_database
from coordinator.store.migrations import MIGRATIONS

from .conftest import T0


def _admin(db) -> users.User:
    return setup.complete(db, setup.issue_token(db, now=T0), "Ada", now=T0)


def test_a_server_invite_makes_a_plain_user_in_no_wallet(db):
    admin = _admin(db)
    invite, token = invites.create(db, None, None, admin.id, now=T0)

    bob = invites.accept(db, token, "Bob", now=T0 + 10)

    assert (invite.wallet_id, invite.role) == (None, None)
    assert roles.wallets_of(db, bob.id) == [] and not bob.is_admin
    assert [(e.type, e.body.get("user")) for e in audit.entries(db, audit.SERVER_CHAIN)] == [
        ("admin_created", admin.id), ("invite_created", None), ("user_joined", bob.id)]
    assert token not in str(list(db.query("SELECT * FROM invites")))


def test_a_server_invite_is_single_use_and_expires(db):
    admin = _admin(db)
    _, used = invites.create(db, None, None, admin.id, now=T0)
    _, stale = invites.create(db, None, None, admin.id, ttl=3600, now=T0)
    invites.accept(db, used, "Bob", now=T0 + 1)

    with pytest.raises(Gone) as reused:
        invites.accept(db, used, "Carol", now=T0 + 2)
    with pytest.raises(Gone) as expired:
        invites.accept(db, stale, "Carol", now=T0 + 3600)
    assert (reused.value.code, expired.value.code) == ("invite_used", "invite_expired")
    assert [u.name for u in users.list_all(db)] == ["Ada", "Bob"]


def test_an_invite_names_a_wallet_and_a_role_or_neither(db, wallet_id):
    admin = _admin(db)

    for wallet, role in ((wallet_id, None), (None, "keyholder")):
        with pytest.raises(InvalidInput) as err:
            invites.create(db, wallet, role, admin.id, now=T0)
        assert err.value.code == "bad_role"
    assert db.execute("SELECT count(*) FROM invites").fetchone()[0] == 0


def test_the_schema_refuses_a_wallet_invite_without_a_role(db, wallet_id):
    admin = _admin(db)

    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO invites (token_hash, wallet_id, role, created_by, created_at, expires_at) "
                   "VALUES ('h', ?, NULL, ?, 0, 1)", [wallet_id, admin.id])


def test_users_who_joined_by_server_invite_can_own_a_drafts_slots(db):
    admin = _admin(db)
    joined = [invites.accept(db, invites.create(db, None, None, admin.id, now=T0)[1], name, now=T0 + 1)
              for name in ("Bob", "Carol")]

    draft = wallet_setup.create(db, admin.id, "Fresh vault", "testnet", "wsh", 2, [u.id for u in joined])

    assert [s.user_id for s in draft.slots] == [u.id for u in joined]


def test_upgrading_keeps_the_wallet_invites_made_before(db_path):
    before = Database(sqlite3.connect(str(db_path), isolation_level=None))
    MIGRATIONS.apply(before, stop_before="m013_server_invites")
    before.execute("INSERT INTO users (id, name, is_admin, created_at) VALUES (1, 'Ada', 1, 0)")
    before.execute("INSERT INTO wallets (id, name, network, descriptor, policy_id, script_type, threshold, n, created_at) "
                   "VALUES (5, 'Old', 'testnet', 'd', 'p', 'wsh', 2, 3, '2026-01-01')")
    before.execute("INSERT INTO invites (token_hash, wallet_id, role, created_by, created_at, expires_at, used_at) "
                   "VALUES ('hash', 5, 'viewer', 1, 10, 20, 15)")
    before.conn.close()

    db = open_database(db_path)

    kept = invites.Invite.from_row(next(db.query("SELECT * FROM invites")))
    assert (kept.wallet_id, kept.role, kept.created_at, kept.expires_at, kept.used_at) == (5, "viewer", 10, 20, 15)
    db.close()
