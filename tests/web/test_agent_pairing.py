"""Pairing the signer agent: a member's code becomes an agent-scoped token of
that member, once, within minutes; nobody else sees or steers it; guessing is
rate-limited; the agent can revoke its own token."""

from __future__ import annotations

from coordinator.accounts import pairing
from coordinator.store import open_database

from .conftest import API, Browser, member
from .test_limits import ALLOWED


def _code(browser: Browser) -> str:
    made = browser.post("/agent/pairings")
    assert made.status_code == 201, made.get_json()
    return made.get_json()["code"]


def _redeem(app, code: str, label: str = "laptop", **extra):
    return Browser(app.test_client()).post("/agent/pairings/redeem", {"code": code, "label": label, **extra})


def _bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def test_a_pairing_code_becomes_an_agent_token_of_its_maker(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")

    redeemed = _redeem(app, _code(bob), "Bob's laptop")

    assert redeemed.status_code == 201, redeemed.get_json()
    body = redeemed.get_json()
    assert body["user"]["name"] == "Bob" and body["token"]["scopes"] == ["agent"]
    assert body["token"]["label"] == "agent: Bob's laptop"
    agent = app.test_client()
    assert agent.get(f"{API}/wallets/{wallet_id}", headers=_bearer(body["secret"])).status_code == 200
    assert [t["id"] for t in bob.get("/tokens").get_json()["tokens"]] == [body["token"]["id"]]


def test_a_code_typed_in_lower_case_without_dashes_still_pairs(app, admin):
    code = _code(admin)

    assert _redeem(app, code.replace("-", " ").lower()).status_code == 201


def test_a_pairing_code_works_once(app, admin):
    code = _code(admin)
    first = _redeem(app, code)

    second = _redeem(app, code)

    assert first.status_code == 201
    assert second.status_code == 410 and second.get_json()["error"]["code"] == "pairing_used"
    assert "hdl_" not in second.get_data(as_text=True)


def test_an_expired_pairing_code_is_refused(app, config, admin):
    db = open_database(config.database)
    _, code = pairing.create(db, admin.user["id"], now=pairing.tokens.now() - pairing.TTL)
    db.close()

    answer = _redeem(app, code)

    assert answer.status_code == 410 and answer.get_json()["error"]["code"] == "pairing_expired"


def test_a_code_of_a_revoked_member_no_longer_pairs(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    code = _code(bob)
    assert admin.post(f"/users/{bob.user['id']}/revoke").status_code == 200

    answer = _redeem(app, code)

    assert answer.status_code == 410 and answer.get_json()["error"]["code"] == "pairing_expired"


def test_a_wrong_code_is_not_found(app, admin):
    _code(admin)

    answer = _redeem(app, "0000-0000-0000-0000-0000")

    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "pairing_not_found"


def test_members_see_only_their_own_codes_and_cannot_choose_whose_token(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    eve = member(app, admin, wallet_id, "viewer", "Eve")
    bobs = _code(bob)

    assert eve.get("/agent/pairings").get_json()["pairings"] == []
    assert len(bob.get("/agent/pairings").get_json()["pairings"]) == 1
    assert bobs not in bob.get("/agent/pairings").get_data(as_text=True)  # stored hashed, shown once
    steered = _redeem(app, bobs, user_id=eve.user["id"])
    assert steered.status_code == 400 and steered.get_json()["error"]["code"] == "bad_json"
    assert _redeem(app, bobs).get_json()["user"]["name"] == "Bob"


def test_a_token_cannot_make_pairing_codes_or_tokens(app, admin):
    secret = _redeem(app, _code(admin)).get_json()["secret"]
    agent = Browser(app.test_client())

    assert agent.post("/agent/pairings", headers=_bearer(secret)).status_code == 403
    assert agent.post("/tokens", {"scopes": ["agent"]}, headers=_bearer(secret)).status_code == 403


def test_the_agent_revokes_its_own_token_and_a_session_cannot(app, admin, wallet_id):
    secret = _redeem(app, _code(admin)).get_json()["secret"]
    agent = Browser(app.test_client())

    assert admin.send("DELETE", "/agent/token").status_code == 403
    assert agent.send("DELETE", "/agent/token", headers=_bearer(secret)).status_code == 200
    after = agent.get(f"/wallets/{wallet_id}", headers=_bearer(secret))
    assert after.status_code == 401 and after.get_json()["error"]["code"] == "bad_token"


def test_a_read_token_cannot_revoke_itself_as_an_agent(app, admin):
    secret = admin.post("/tokens", {"scopes": ["read"]}).get_json()["secret"]

    answer = Browser(app.test_client()).send("DELETE", "/agent/token", headers=_bearer(secret))

    assert answer.status_code == 403


def test_guessing_pairing_codes_gets_429(app, admin):
    real = _code(admin)
    guesser = Browser(app.test_client())

    statuses = [guesser.post("/agent/pairings/redeem", {"code": f"{i:020d}", "label": "x"}).status_code
                for i in range(ALLOWED)]
    blocked = guesser.post("/agent/pairings/redeem", {"code": real, "label": "x"})

    assert set(statuses) == {404}
    assert blocked.status_code == 429 and blocked.get_json()["error"]["code"] == "rate_limited"


def test_a_label_must_be_printable(app, admin):
    answer = _redeem(app, _code(admin), "bad\nlabel")

    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "bad_input"
