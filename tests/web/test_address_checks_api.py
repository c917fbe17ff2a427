"""Asking one's own agent to show an address on the device (issue 13 Build 2, issue 12 Build 4),
in process: the REST route, the ``show_address`` the member's agent socket receives, and
what the server makes of the ``address_shown`` answer. The agent here is a Socket.IO test
client answering by hand, so each answer (right, wrong, foreign device, refused) is exact;
tests/hw/test_show_address_live.py has the real agent and its software device."""

from __future__ import annotations

import dataclasses

import pytest

from coordinator.governance.address_events import EVENTS
from coordinator.store import open_database
from coordinator.web.agent_socket import NAMESPACE as AGENT
from coordinator.web.realtime import NAMESPACE as WALLETS, socketio

from .. import keys
from ..conftest import REPO_ROOT
from .conftest import ORIGIN, member
from .test_agent_pairing import _code, _redeem

WALLET = keys.descriptor(2, 3)


def _agent(app, browser):
    token = _redeem(app, _code(browser)).get_json()["secret"]
    client = socketio.test_client(app, namespace=AGENT, auth={"token": token}, headers={"Origin": ORIGIN})
    client.get_received(AGENT)  # the welcome
    return client


def _watcher(app, browser, wallet_id):
    watcher = socketio.test_client(app, namespace=WALLETS, flask_test_client=browser.client,
                                   headers={"Origin": ORIGIN})
    watcher.emit("join", {"wallet_id": wallet_id}, namespace=WALLETS, callback=True)
    return watcher


def _events(watcher, kind: str) -> list[dict]:
    return [m["args"][0] for m in watcher.get_received(WALLETS) if m["name"] == "event" and m["args"][0]["type"] == kind]


def _asked(agent) -> list[dict]:
    return [m["args"][0] for m in agent.get_received(AGENT) if m["name"] == "show_address"]


def _ask(browser, wallet_id, branch="receive", index=0):
    return browser.post(f"/wallets/{wallet_id}/address-checks", {"branch": branch, "index": index})


def _audit_types(config, wallet_id) -> list[str]:
    db = open_database(config.database)
    try:
        return [r[0] for r in db.execute("SELECT type FROM audit_log WHERE chain = ? ORDER BY seq",
                                         [f"wallet:{wallet_id}"]).fetchall()]
    finally:
        db.close()


def test_only_the_callers_own_agent_is_asked_and_a_matching_answer_verifies_the_address(app, config, admin,
                                                                                         wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    bobs, adas = _agent(app, bob), _agent(app, admin)
    watcher = _watcher(app, admin, wallet_id)

    asked = _ask(bob, wallet_id, "change", 3)

    assert asked.status_code == 201, asked.get_json()
    expected = WALLET.address(1, 3, "regtest")
    assert asked.get_json() | {"request_id": "-"} == {"request_id": "-", "branch": "change", "index": 3,
                                                        "address": expected, "agents": 1}
    [request] = _asked(bobs)
    assert _asked(adas) == []  # never another member's agent
    # no address and no descriptor: the agent derives from what it pinned
    assert request == {"request_id": asked.get_json()["request_id"], "wallet_id": wallet_id,
                       "policy_id": WALLET.policy_id, "branch": "change", "index": 3, "fingerprint": None}

    ack = bobs.emit("address_shown", {"request_id": request["request_id"], "wallet_id": wallet_id,
                                      "branch": "change", "index": 3, "address": expected,
                                      "fingerprint": keys.fingerprint(1), "device": "trezor"},
                    namespace=AGENT, callback=True)

    assert ack == {"ok": True, "outcome": "verified", "reason": None}
    [event] = _events(watcher, "address_verified")
    assert event["data"] == {"wallet_id": wallet_id, "request": request["request_id"], "user": bob.user["id"],
                             "fingerprint": keys.fingerprint(1), "device": "trezor", "branch": "change",
                             "index": 3, "address": expected}
    [check] = admin.get(f"/wallets/{wallet_id}/address-checks").get_json()["checks"]
    assert (check["outcome"], check["name"], check["fingerprint"], check["address"], check["index"]) == (
        "verified", "Bob", keys.fingerprint(1), expected, 3)
    assert check["answered_at"] >= check["asked_at"]
    assert _audit_types(config, wallet_id)[-1] == "address_verified"


def test_an_address_other_than_the_servers_derivation_is_a_loud_mismatch_never_verified(app, config, admin,
                                                                                        wallet_id):
    agent = _agent(app, admin)
    watcher = _watcher(app, admin, wallet_id)
    request_id = _ask(admin, wallet_id, "receive", 0).get_json()["request_id"]
    other = keys.descriptor(2, 3, first=3).address(0, 0, "regtest")

    ack = agent.emit("address_shown", {"request_id": request_id, "branch": "receive", "index": 0, "address": other,
                                       "fingerprint": keys.fingerprint(0), "device": "coldcard"},
                     namespace=AGENT, callback=True)

    assert ack["outcome"] == "mismatch" and other in ack["reason"]
    [event] = _events(watcher, "address_mismatch")
    assert (event["data"]["expected"], event["data"]["shown"]) == (WALLET.address(0, 0, "regtest"), other)
    assert _events(watcher, "address_verified") == []
    assert [c["outcome"] for c in admin.get(f"/wallets/{wallet_id}/address-checks").get_json()["checks"]] == [
        "mismatch"]
    assert _audit_types(config, wallet_id)[-1] == "address_mismatch"


def test_the_right_address_from_a_device_that_is_not_a_cosigner_is_a_mismatch(app, admin, wallet_id):
    agent = _agent(app, admin)
    request_id = _ask(admin, wallet_id).get_json()["request_id"]

    ack = agent.emit("address_shown", {"request_id": request_id, "branch": "receive", "index": 0,
                                       "address": WALLET.address(0, 0, "regtest"), "fingerprint": keys.fingerprint(5),
                                       "device": "trezor"}, namespace=AGENT, callback=True)

    assert ack["outcome"] == "mismatch" and "not a cosigner" in ack["reason"]


def test_an_agents_refusal_is_an_event_and_the_check_is_answered_once(app, admin, wallet_id):
    agent = _agent(app, admin)
    watcher = _watcher(app, admin, wallet_id)
    request_id = _ask(admin, wallet_id).get_json()["request_id"]
    refusal = {"request_id": request_id, "branch": "receive", "index": 0,
               "refused": {"code": "device_declined", "message": "showing an address: declined on the device"}}

    assert agent.emit("address_shown", refusal, namespace=AGENT, callback=True)["outcome"] == "refused"
    again = agent.emit("address_shown", refusal, namespace=AGENT, callback=True)

    assert again["error"]["code"] == "address_check_answered"
    [event] = _events(watcher, "address_check_refused")
    assert (event["data"]["code"], event["data"]["message"]) == ("device_declined",
                                                                 "showing an address: declined on the device")


def test_an_agent_cannot_answer_another_members_check_or_one_never_asked(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    bobs, _ = _agent(app, bob), _agent(app, admin)
    adas_check = _ask(admin, wallet_id).get_json()["request_id"]
    answer = {"branch": "receive", "index": 0, "address": WALLET.address(0, 0, "regtest"),
              "fingerprint": keys.fingerprint(1), "device": "trezor"}

    for request_id in (adas_check, "0" * 24):
        ack = bobs.emit("address_shown", {"request_id": request_id, **answer}, namespace=AGENT, callback=True)
        assert ack["error"]["code"] == "address_check_unknown"
    assert admin.get(f"/wallets/{wallet_id}/address-checks").get_json()["checks"] == []


def test_no_agent_online_a_bad_index_or_branch_and_a_viewer_are_refused(app, admin, wallet_id):
    carol = member(app, admin, wallet_id, "viewer", "Carol")

    offline = _ask(admin, wallet_id)
    assert (offline.status_code, offline.get_json()["error"]["code"]) == (409, "agent_offline")
    _agent(app, admin)
    for branch, index, status, code in (("receive", -1, 400, "bad_index"), ("sideways", 0, 400, "bad_index"),
                                        ("receive", 2**31, 400, "bad_index"),
                                        ("receive", 20, 409, "gap_limit_reached"),
                                        ("change", 20, 409, "gap_limit_reached")):
        refused = _ask(admin, wallet_id, branch, index)
        assert (refused.status_code, refused.get_json()["error"]["code"]) == (status, code), (branch, index)
    assert _ask(admin, wallet_id, "receive", 19).status_code == 201  # the last one a restore would find
    assert _ask(carol, wallet_id).status_code == 403
    assert _ask(admin, wallet_id + 99).status_code == 404


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.__name__)
def test_every_address_check_event_is_documented(event):
    text = (REPO_ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    kind = event(**{f.name: 0 for f in dataclasses.fields(event)}).type
    assert f"### {kind}" in text
