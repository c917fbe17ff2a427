"""Guessing is slow: sign-in, setup and invite routes answer 429 after
AUTH_LIMIT tries a minute from one address, and API tokens have their own
budget."""

from __future__ import annotations

import dataclasses

from coordinator.accounts import tokens
from coordinator.web import WebConfig, create_app

from .conftest import API, Browser, invite, setup_token

ALLOWED = int(WebConfig.auth_limit.split()[0])


def test_guessing_invites_gets_429_and_the_error_shape(app, admin, wallet_id):
    real = invite(admin, wallet_id, "viewer")
    guesser = Browser(app.test_client())

    answers = [guesser.post("/invites/check", {"token": tokens.new_secret()}) for _ in range(ALLOWED)]
    blocked = guesser.post("/invites/check", {"token": real})

    assert {a.status_code for a in answers} == {404}
    assert blocked.status_code == 429 and blocked.get_json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in blocked.headers


def test_guessing_recovery_codes_gets_429(app):
    guesser = Browser(app.test_client())

    statuses = [guesser.post("/session/recovery", {"code": "aaaa-bbbb-cccc-dddd"}).status_code
                for _ in range(ALLOWED + 1)]

    assert statuses == [401] * ALLOWED + [429]


def test_other_addresses_are_not_blocked_by_one_guesser(app, admin, wallet_id):
    real = invite(admin, wallet_id, "viewer")
    guesser = Browser(app.test_client())
    for _ in range(ALLOWED + 1):
        guesser.post("/invites/check", {"token": "guess"}, environ_base={"REMOTE_ADDR": "203.0.113.9"})

    assert guesser.post("/invites/check", {"token": real}).status_code == 200


def test_a_token_has_its_own_budget(config):
    config = dataclasses.replace(config, token_limit="5 per minute")
    app = create_app(config)
    admin = Browser(app.test_client()).register("/setup", token=setup_token(config), name="Ada")
    secret = admin.post("/tokens", {"scopes": ["read"]}).get_json()["secret"]
    agent = app.test_client()

    statuses = [agent.get(f"{API}/wallets", headers={"Authorization": f"Bearer {secret}"}).status_code
                for _ in range(6)]

    assert statuses == [200] * 5 + [429]
    assert admin.get("/wallets").status_code == 200  # the session is not the token
