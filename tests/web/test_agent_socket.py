"""The agent's namespace: only an agent token connects; it learns who it is and
the wallets it may sign for; members watching see it come and go; revoking the
user cuts it."""

from __future__ import annotations

from coordinator.web.agent_socket import NAMESPACE as AGENT
from coordinator.web.realtime import NAMESPACE as WALLETS, socketio

from .conftest import ORIGIN, member
from .test_agent_pairing import _code, _redeem


def _agent(app, token=None, **kw):
    return socketio.test_client(app, namespace=AGENT, auth={"token": token} if token else None,
                                headers={"Origin": ORIGIN}, **kw)


def _paired(app, browser) -> str:
    return _redeem(app, _code(browser)).get_json()["secret"]


def test_an_agent_token_connects_and_hears_who_it_is_and_its_wallets(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")

    client = _agent(app, _paired(app, bob))

    assert client.is_connected(AGENT)
    welcome = [m for m in client.get_received(AGENT) if m["name"] == "welcome"]
    assert welcome[0]["args"][0] == {"user": {"id": bob.user["id"], "name": "Bob", "is_admin": False},
                                     "wallets": [wallet_id]}


def test_a_viewers_agent_is_given_no_wallet_to_sign_for(app, admin, wallet_id):
    carol = member(app, admin, wallet_id, "viewer", "Carol")

    client = _agent(app, _paired(app, carol))

    assert client.get_received(AGENT)[0]["args"][0]["wallets"] == []


def test_a_session_a_read_token_or_nothing_is_refused(app, admin):
    read = admin.post("/tokens", {"scopes": ["read"]}).get_json()["secret"]

    assert not _agent(app, flask_test_client=admin.client).is_connected(AGENT)
    assert not _agent(app, read).is_connected(AGENT)
    assert not _agent(app, "hdl_" + "0" * 16 + "_" + "a" * 43).is_connected(AGENT)


def test_an_agent_from_another_origin_is_refused(app, admin):
    client = socketio.test_client(app, namespace=AGENT, auth={"token": _paired(app, admin)},
                                  headers={"Origin": "https://evil.example"})

    assert not client.is_connected(AGENT)


def test_members_watching_see_the_agent_come_and_go(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    watcher = socketio.test_client(app, namespace=WALLETS, flask_test_client=admin.client,
                                   headers={"Origin": ORIGIN})
    watcher.emit("join", {"wallet_id": wallet_id}, namespace=WALLETS, callback=True)

    agent = _agent(app, _paired(app, bob))
    agent.disconnect(namespace=AGENT)

    presence = [m["args"][0] for m in watcher.get_received(WALLETS) if m["name"] == "agent_presence"]
    bob_seen = {"id": bob.user["id"], "name": "Bob"}
    assert presence == [{"wallet_id": wallet_id, "user": bob_seen, "online": True},
                        {"wallet_id": wallet_id, "user": bob_seen, "online": False}]


def test_revoking_the_token_cuts_the_agent_connected_with_it(app, admin):
    agent = _agent(app, _paired(app, admin))
    token_id = admin.get("/tokens").get_json()["tokens"][0]["id"]

    assert admin.send("DELETE", f"/tokens/{token_id}").status_code == 200

    assert not agent.is_connected(AGENT)


def test_revoking_the_user_cuts_their_agent(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    agent = _agent(app, _paired(app, bob))
    assert agent.is_connected(AGENT)

    assert admin.post(f"/users/{bob.user['id']}/revoke").status_code == 200

    assert not agent.is_connected(AGENT)
