"""Passkeys through the webauthn package, against a software authenticator with
real ES256 signatures; the RP ID and origin are the pinned ones."""

from __future__ import annotations

import pytest

from coordinator.accounts import passkeys, users
from coordinator.errors import Unauthenticated

from ..authenticator import UP, UV, SoftAuthenticator
from .conftest import T0

RP = passkeys.RelyingParty("huddle.example.org", "https://huddle.example.org")


def _registered(db) -> tuple[users.User, SoftAuthenticator]:
    bob = users.create(db, "Bob")
    device = SoftAuthenticator(RP.origin, RP.rp_id)
    options = passkeys.registration_options(db, RP, "user:bob", "Bob", now=T0)
    passkeys.add(db, bob.id, passkeys.finish_registration(db, RP, "user:bob", device.create(options), now=T0))
    return bob, device


def test_a_registered_passkey_logs_its_user_in(db):
    bob, device = _registered(db)

    answer = device.get(passkeys.login_options(db, RP, now=T0))

    assert passkeys.finish_login(db, RP, answer, now=T0 + 1) == bob.id
    assert passkeys.public_keys(db, bob.id)[0][1] == device.cose_public_key()


def test_a_login_challenge_works_once(db):
    _, device = _registered(db)
    answer = device.get(passkeys.login_options(db, RP, now=T0))
    passkeys.finish_login(db, RP, answer, now=T0 + 1)

    with pytest.raises(Unauthenticated) as err:
        passkeys.finish_login(db, RP, answer, now=T0 + 2)
    assert err.value.code == "challenge_expired"


def test_an_expired_challenge_is_refused(db):
    _, device = _registered(db)
    answer = device.get(passkeys.login_options(db, RP, now=T0))

    with pytest.raises(Unauthenticated) as err:
        passkeys.finish_login(db, RP, answer, now=T0 + passkeys.CHALLENGE_TTL)
    assert err.value.code == "challenge_expired"


@pytest.mark.parametrize("override", [
    {"origin": "https://evil.example"}, {"rp_id": "evil.example"}, {"kind": "webauthn.create"},
    {"flags": UV}, {"cross_origin": True}],
    ids=["foreign origin", "wrong rp id hash", "create instead of get", "user not present", "cross-origin"])
def test_assertions_that_do_not_match_the_pinned_party_are_refused(db, override):
    _, device = _registered(db)
    answer = device.get(passkeys.login_options(db, RP, now=T0), **override)

    with pytest.raises(Unauthenticated) as err:
        passkeys.finish_login(db, RP, answer, now=T0 + 1)
    assert err.value.code == "passkey_rejected"


def test_a_signature_by_another_key_is_refused(db):
    _, device = _registered(db)
    impostor = SoftAuthenticator(RP.origin, RP.rp_id)
    impostor.credential_id = device.credential_id  # claims Bob's passkey, signs with its own key

    with pytest.raises(Unauthenticated) as err:
        passkeys.finish_login(db, RP, impostor.get(passkeys.login_options(db, RP, now=T0)), now=T0 + 1)
    assert err.value.code == "passkey_rejected"


def test_an_unknown_passkey_is_refused(db):
    _registered(db)
    stranger = SoftAuthenticator(RP.origin, RP.rp_id)

    with pytest.raises(Unauthenticated):
        passkeys.finish_login(db, RP, stranger.get(passkeys.login_options(db, RP, now=T0)), now=T0 + 1)


def test_a_registration_for_another_subject_or_origin_is_refused(db):
    device = SoftAuthenticator(RP.origin, RP.rp_id)
    options = passkeys.registration_options(db, RP, "invite:1:Bob", "Bob", now=T0)

    with pytest.raises(Unauthenticated):
        passkeys.finish_registration(db, RP, "invite:2:Bob", device.create(options), now=T0)
    options = passkeys.registration_options(db, RP, "invite:1:Bob", "Bob", now=T0)
    with pytest.raises(Unauthenticated) as err:
        passkeys.finish_registration(db, RP, "invite:1:Bob", device.create(options, origin="https://evil.example"),
                                     now=T0)
    assert err.value.code == "passkey_rejected"


@pytest.mark.parametrize("credential", [None, "x", {}, {"id": 1}, {"response": {"clientDataJSON": "!!"}}],
                         ids=["null", "text", "empty", "id not text", "bad base64"])
def test_malformed_passkey_answers_are_refused_cleanly(db, credential):
    with pytest.raises(Unauthenticated):
        passkeys.finish_login(db, RP, credential)
    with pytest.raises(Unauthenticated):
        passkeys.finish_registration(db, RP, "s", credential)


def test_the_sign_count_is_recorded(db):
    _, device = _registered(db)
    for _ in range(2):
        passkeys.finish_login(db, RP, device.get(passkeys.login_options(db, RP, now=T0)), now=T0)

    assert db.execute("SELECT sign_count FROM passkeys").fetchone()[0] == 2
