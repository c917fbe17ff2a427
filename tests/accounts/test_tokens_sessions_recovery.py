"""API tokens, login sessions and recovery codes: hashed at rest, scoped,
single-use where they should be, and cut off when a user is revoked."""

from __future__ import annotations

import pytest

from coordinator.accounts import api_tokens, recovery, sessions, tokens, users
from coordinator.errors import AccessDenied, NotFound, Unauthenticated

from .conftest import T0


def test_an_api_token_authenticates_its_user_within_its_scope(db):
    bob = users.create(db, "Bob")
    token, text = api_tokens.create(db, bob.id, ["read"], label="laptop", now=T0)

    user, found = api_tokens.authenticate(db, text, "read", now=T0)

    assert user.id == bob.id and found.id == token.id and text.startswith(f"hdl_{token.id}_")
    with pytest.raises(AccessDenied):
        api_tokens.authenticate(db, text, "agent", now=T0)
    secret = text[len(f"hdl_{token.id}_"):]  # base64url: it may itself hold "_"
    assert len(secret) == 43 and secret not in str(list(db.query("SELECT * FROM api_tokens")))


def test_an_agent_token_may_also_read(db):
    bob = users.create(db, "Bob")
    _, text = api_tokens.create(db, bob.id, ["agent"], now=T0)

    assert api_tokens.authenticate(db, text, "read", now=T0)[0].id == bob.id


@pytest.mark.parametrize("mangle", [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: t[:-1],
                                    lambda t: "", lambda t: t.replace("hdl_", "hdl-")],
                         ids=["wrong secret", "short", "empty", "bad prefix"])
def test_a_wrong_api_token_is_refused(db, mangle):
    bob = users.create(db, "Bob")
    _, text = api_tokens.create(db, bob.id, ["read"], now=T0)

    with pytest.raises(Unauthenticated) as err:
        api_tokens.authenticate(db, mangle(text), "read", now=T0)
    assert err.value.code == "bad_token"


def test_revoked_and_expired_api_tokens_stop_working(db):
    bob = users.create(db, "Bob")
    revoked, revoked_text = api_tokens.create(db, bob.id, ["read"], now=T0)
    _, expiring_text = api_tokens.create(db, bob.id, ["read"], ttl=60, now=T0)
    api_tokens.revoke(db, bob.id, revoked.id, now=T0 + 1)

    for text, at in ((revoked_text, T0 + 2), (expiring_text, T0 + 60)):
        with pytest.raises(Unauthenticated):
            api_tokens.authenticate(db, text, "read", now=at)
    assert api_tokens.authenticate(db, expiring_text, "read", now=T0 + 59)


def test_a_user_cannot_revoke_another_users_token(db):
    bob, eve = users.create(db, "Bob"), users.create(db, "Eve")
    token, text = api_tokens.create(db, bob.id, ["read"], now=T0)

    with pytest.raises(NotFound):
        api_tokens.revoke(db, eve.id, token.id)
    assert api_tokens.authenticate(db, text, "read", now=T0)


@pytest.mark.parametrize("scopes", [[], ["admin"], ["read", "root"]])
def test_unknown_scopes_are_refused(db, scopes):
    bob = users.create(db, "Bob")
    with pytest.raises(api_tokens.InvalidInput) as err:
        api_tokens.create(db, bob.id, scopes)
    assert err.value.code == "bad_scope"


def test_a_session_lives_until_it_ends_or_expires(db):
    bob = users.create(db, "Bob")
    token, session = sessions.start(db, bob.id, now=T0)

    assert sessions.resolve(db, token, now=T0 + 1).user.id == bob.id
    assert sessions.resolve(db, token, now=T0 + sessions.TTL) is None
    sessions.end(db, token)
    assert sessions.resolve(db, token, now=T0 + 1) is None
    assert sessions.resolve(db, tokens.new_secret(), now=T0) is None
    assert session.csrf_token and token not in str(list(db.query("SELECT * FROM login_sessions")))


def test_revoking_a_user_ends_their_sessions_and_tokens(db):
    bob = users.create(db, "Bob")
    session_token, _ = sessions.start(db, bob.id, now=T0)
    _, api_text = api_tokens.create(db, bob.id, ["agent"], now=T0)

    users.revoke(db, bob.id, now=T0 + 1)

    assert sessions.resolve(db, session_token, now=T0 + 2) is None
    with pytest.raises(Unauthenticated):
        api_tokens.authenticate(db, api_text, "agent", now=T0 + 2)


def test_each_recovery_code_works_once(db):
    bob = users.create(db, "Bob")
    codes = recovery.issue(db, bob.id)

    assert len(set(codes)) == recovery.COUNT
    assert recovery.redeem(db, codes[0].upper().replace("-", " "), now=T0) == bob.id
    with pytest.raises(Unauthenticated) as err:
        recovery.redeem(db, codes[0], now=T0)
    assert err.value.code == "bad_recovery_code"
    assert recovery.remaining(db, bob.id) == recovery.COUNT - 1


def test_new_recovery_codes_void_the_old_ones(db):
    bob = users.create(db, "Bob")
    old = recovery.issue(db, bob.id)
    recovery.issue(db, bob.id)

    with pytest.raises(Unauthenticated):
        recovery.redeem(db, old[1])
