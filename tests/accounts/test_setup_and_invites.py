"""The first admin comes from a one-time setup link; members come from
single-use, hashed, expiring invites bound to a wallet and a role."""

from __future__ import annotations

import pytest

from coordinator.accounts import invites, roles, setup, tokens, users
from coordinator.errors import AccessDenied, Gone, NotFound, Unauthenticated
from coordinator.governance import audit

from .conftest import T0


def test_the_setup_link_makes_the_first_admin_once(db):
    token = setup.issue_token(db, now=T0)

    admin = setup.complete(db, token, "Ada", now=T0 + 5)

    assert admin.is_admin and not setup.needs_setup(db)
    assert setup.issue_token(db) is None
    with pytest.raises(Gone) as err:
        setup.complete(db, token, "Mallory")
    assert err.value.code == "setup_done"
    assert [e.type for e in audit.entries(db, audit.SERVER_CHAIN)] == ["admin_created"]


def test_a_restart_before_setup_replaces_the_setup_link(db):
    first = setup.issue_token(db, now=T0)
    second = setup.issue_token(db, now=T0 + 60)

    with pytest.raises(Unauthenticated) as err:
        setup.complete(db, first, "Ada")
    assert err.value.code == "bad_setup_token"
    assert setup.complete(db, second, "Ada").is_admin


def test_only_the_setup_tokens_hash_is_stored(db):
    token = setup.issue_token(db, now=T0)

    stored = db.execute("SELECT token_hash FROM setup_tokens").fetchone()[0]
    assert stored == tokens.hash_secret(token) and token not in stored


def _admin(db) -> users.User:
    return setup.complete(db, setup.issue_token(db, now=T0), "Ada", now=T0)


def test_an_invite_makes_a_member_with_its_role_in_its_wallet(db, wallet_id):
    admin = _admin(db)
    invite, token = invites.create(db, wallet_id, "keyholder", admin.id, now=T0)

    bob = invites.accept(db, token, "Bob", now=T0 + 10)

    assert roles.role_of(db, bob.id, wallet_id) == "keyholder"
    assert invites.Invite.from_row(next(db.query("SELECT * FROM invites"))).used_at == T0 + 10
    assert [e.type for e in audit.entries(db, audit.wallet_chain(wallet_id))] == [
        "wallet_created", "invite_created", "member_joined"]
    assert token not in str(list(db.query("SELECT * FROM invites")))


def test_a_used_invite_is_gone(db, wallet_id):
    admin = _admin(db)
    _, token = invites.create(db, wallet_id, "viewer", admin.id, now=T0)
    invites.accept(db, token, "Bob", now=T0 + 1)

    with pytest.raises(Gone) as err:
        invites.accept(db, token, "Carol", now=T0 + 2)
    assert err.value.code == "invite_used"
    assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 2


def test_an_expired_invite_is_gone(db, wallet_id):
    admin = _admin(db)
    _, token = invites.create(db, wallet_id, "viewer", admin.id, ttl=3600, now=T0)

    with pytest.raises(Gone) as err:
        invites.accept(db, token, "Bob", now=T0 + 3600)
    assert err.value.code == "invite_expired"
    assert invites.accept(db, invites.create(db, wallet_id, "viewer", admin.id, ttl=3600, now=T0)[1],
                          "Bob", now=T0 + 3599).name == "Bob"


def test_an_unknown_invite_is_not_found(db, wallet_id):
    with pytest.raises(NotFound) as err:
        invites.check(db, tokens.new_secret())
    assert err.value.code == "invite_not_found"


def test_a_failed_accept_leaves_the_invite_unused(db, wallet_id):
    admin = _admin(db)
    _, token = invites.create(db, wallet_id, "viewer", admin.id, now=T0)

    with pytest.raises(Exception):
        invites.accept(db, token, "Ada", now=T0 + 1)  # the name is taken

    assert invites.check(db, token, now=T0 + 2).used_at is None


def test_roles_rank_viewer_keyholder_admin(db, wallet_id):
    admin = _admin(db)
    viewer = invites.accept(db, invites.create(db, wallet_id, "viewer", admin.id, now=T0)[1], "Vi", now=T0)

    assert roles.require(db, viewer.id, wallet_id, "viewer") == "viewer"
    with pytest.raises(AccessDenied):
        roles.require(db, viewer.id, wallet_id, "keyholder")


def test_a_non_member_gets_the_same_answer_as_for_a_missing_wallet(db, wallet_id):
    stranger = users.create(db, "Eve")

    with pytest.raises(NotFound) as member_err:
        roles.require(db, stranger.id, wallet_id, "viewer")
    with pytest.raises(NotFound) as missing_err:
        roles.require(db, stranger.id, wallet_id + 1000, "viewer")
    assert member_err.value.to_dict() == missing_err.value.to_dict()


@pytest.mark.parametrize("name", ["", " ", "x" * 65, "Bob\u202e", "Bob\n"])
def test_odd_user_names_are_refused(db, name):
    with pytest.raises(users.InvalidInput) as err:
        users.create(db, name)
    assert err.value.code == "bad_user_name"
