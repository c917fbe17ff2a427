"""The ceremony's sockets through Flask-SocketIO's test client: join with catch-up,
presence coming and going, the agent's steps, results and heads, and errors as the
one JSON shape in an ``error`` event carrying the request's id."""

from __future__ import annotations

from coordinator.web.agent_socket import NAMESPACE as AGENT
from coordinator.web.realtime import NAMESPACE as WALLETS, socketio

from ..sessions.ceremony_env import signed_by
from .conftest import ORIGIN, member
from .test_agent_pairing import _code, _redeem


def _pwa(app, browser):
    return socketio.test_client(app, namespace=WALLETS, flask_test_client=browser.client, headers={"Origin": ORIGIN})


def _agent(app, browser):
    token = _redeem(app, _code(browser)).get_json()["secret"]
    return socketio.test_client(app, namespace=AGENT, auth={"token": token}, headers={"Origin": ORIGIN})


def _ids(path: str) -> tuple[int, int]:
    parts = path.split("/")
    return int(parts[2]), int(parts[4])


def _received(client, name: str, namespace: str = WALLETS) -> list:
    return [m["args"][0] for m in client.get_received(namespace) if m["name"] == name]


def test_joining_catches_up_and_announces_presence(app, proposal):
    bob, path = proposal
    wallet_id, proposal_id = _ids(path)
    psbt = bob.get(path).get_json()["psbt"]
    bob.post(f"{path}/signatures", {"psbt": signed_by(psbt, 1)})
    client = _pwa(app, bob)

    answer = client.emit("join_ceremony", {"wallet_id": wallet_id, "proposal_id": proposal_id}, namespace=WALLETS,
                         callback=True)

    assert answer["joined"] == proposal_id
    assert [e["type"] for e in answer["events"]] == ["signature_added"]
    joined = _received(client, "event")
    assert [(e["seq"], e["type"], e["data"]["via"]) for e in joined] == [(2, "signer_joined", "pwa")]
    later = client.emit("join_ceremony", {"wallet_id": wallet_id, "proposal_id": proposal_id, "since": 1},
                        namespace=WALLETS, callback=True)
    assert [e["seq"] for e in later["events"]] == [2]


def test_leaving_is_announced_to_those_still_there(app, admin, proposal):
    bob, path = proposal
    wallet_id, proposal_id = _ids(path)
    watcher, leaver = _pwa(app, admin), _pwa(app, bob)
    for client in (watcher, leaver):
        client.emit("join_ceremony", {"wallet_id": wallet_id, "proposal_id": proposal_id}, namespace=WALLETS,
                    callback=True)

    leaver.disconnect(namespace=WALLETS)

    types = [(e["type"], e["data"]["user"]) for e in _received(watcher, "event")]
    assert types[-1] == ("signer_left", bob.user["id"])
    assert list(app.extensions["huddle_socket_users"].values()) == [admin.user["id"]]  # the namespace forgot it too


def test_a_bad_join_gets_the_error_shape_as_ack_and_as_an_error_event_with_its_id(app, proposal):
    bob, path = proposal
    _, proposal_id = _ids(path)
    client = _pwa(app, bob)

    answer = client.emit("join_ceremony", {"wallet_id": "x", "proposal_id": proposal_id, "id": "req-7"},
                         namespace=WALLETS, callback=True)

    assert answer["error"]["code"] == "bad_socket_request"
    assert _received(client, "error") == [{"id": "req-7", **answer}]


def test_the_agent_steps_signs_and_reports_its_head_through_its_namespace(app, admin, proposal, wallet_id):
    bob, path = proposal
    _, proposal_id = _ids(path)
    carol = member(app, admin, wallet_id, "keyholder", "Carol")
    agent = _agent(app, carol)
    asked = admin.post(f"{path}/sign-requests", {"user": carol.user["id"]})
    assert asked.status_code == 201 and asked.get_json()["agents"] == 1
    (request,) = _received(agent, "sign_request", AGENT)
    ids = {"request_id": request["request_id"], "proposal_id": proposal_id}

    step = agent.emit("sign_step", {**ids, "step": "device_ready"}, namespace=AGENT, callback=True)
    result = agent.emit("sign_result", {**ids, "psbt": signed_by(request["psbt"], 2)}, namespace=AGENT,
                        callback=True)
    head = agent.emit("head", {"wallet_id": wallet_id, **request["audit_head"], "signature": "00" * 64},
                      namespace=AGENT, callback=True)

    assert (step, result, head) == ({"ok": True}, {"ok": True, "added": 1}, {"ok": True})
    shown = bob.get(f"{path}/ceremony").get_json()["ceremony"]["inputs"][0]["signed_by"]
    assert [(s["user"], s["channel"]) for s in shown] == [(carol.user["id"], "agent")]
    again = admin.post(f"{path}/sign-requests", {"user": bob.user["id"]})
    assert again.get_json()["agents"] == 0
    assert request["fingerprint"] is None  # an imported wallet has no slot owners
    assert set(request) == {"request_id", "wallet_id", "proposal_id", "policy_id", "psbt", "intent", "memo",
                            "approvals", "audit", "audit_head", "signed_heads", "fingerprint"}


def test_a_result_for_a_request_never_sent_is_refused_with_its_id(app, admin, proposal, wallet_id):
    bob, path = proposal
    _, proposal_id = _ids(path)
    agent = _agent(app, bob)

    answer = agent.emit("sign_result", {"request_id": "forged", "proposal_id": proposal_id, "psbt": "cHNidP8="},
                        namespace=AGENT, callback=True)

    assert answer["error"]["code"] == "sign_request_unknown"
    assert _received(agent, "error", AGENT) == [{"id": "forged", **answer}]


def test_a_refusal_becomes_a_declined_step(app, admin, proposal, wallet_id):
    bob, path = proposal
    wallet_id, proposal_id = _ids(path)
    agent = _agent(app, bob)
    admin.post(f"{path}/sign-requests", {"user": bob.user["id"]})
    (request,) = _received(agent, "sign_request", AGENT)
    watcher = _pwa(app, admin)
    watcher.emit("join_ceremony", {"wallet_id": wallet_id, "proposal_id": proposal_id}, namespace=WALLETS,
                 callback=True)

    answer = agent.emit("sign_result", {"request_id": request["request_id"], "proposal_id": proposal_id,
                                        "refused": {"code": "history_forked", "message": "the chain changed"}},
                        namespace=AGENT, callback=True)

    assert answer == {"ok": True, "added": 0}
    steps = [e["data"] for e in _received(watcher, "event") if e["type"] == "signer_step"]
    assert [(s["step"], s["reason"]) for s in steps] == [("declined", "history_forked: the chain changed")]
