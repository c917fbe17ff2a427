"""Socket.IO: only signed-in users connect, only from the pinned origin; a
member joins their own wallet's room and no other; revoking a user cuts their
sockets."""

from __future__ import annotations

import pytest

from coordinator.governance import audit
from coordinator.web.realtime import NAMESPACE, socketio

from .conftest import ORIGIN, member


def _socket(app, browser=None, **kw):
    return socketio.test_client(app, namespace=NAMESPACE, flask_test_client=browser.client if browser else None,
                                **kw)


def test_a_signed_in_member_connects_and_joins_their_wallet(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "viewer", "Bob")
    client = _socket(app, bob, headers={"Origin": ORIGIN})

    assert client.is_connected(NAMESPACE)
    answer = client.emit("join", {"wallet_id": wallet_id}, namespace=NAMESPACE, callback=True)
    assert answer["joined"] == wallet_id
    assert answer["audit_head"] == audit.Head(3, answer["audit_head"].split(":")[1]).to_string()


def test_an_anonymous_socket_is_refused(app):
    assert not _socket(app).is_connected(NAMESPACE)


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"},
                                     {"Origin": "https://evil.example", "X-Forwarded-Host": "localhost:5000"},
                                     {"Origin": "http://localhost:5001", "Host": "localhost:5001"}],
                         ids=["foreign origin", "with X-Forwarded-Host", "other port"])
def test_a_socket_from_another_origin_is_refused_even_when_signed_in(app, admin, headers):
    assert not _socket(app, admin, headers=headers).is_connected(NAMESPACE)


def test_a_member_cannot_join_another_wallets_room(app, admin, wallet_id):
    from .test_accounts_flow import _other_wallet

    other = admin.post("/wallets/import", {"text": _other_wallet(), "name": "Other"}).get_json()["wallet"]["id"]
    eve = member(app, admin, other, "admin", "Eve")
    client = _socket(app, eve, headers={"Origin": ORIGIN})

    answer = client.emit("join", {"wallet_id": wallet_id}, namespace=NAMESPACE, callback=True)

    assert answer == {"error": {"code": "wallet_not_found", "message": "no such wallet"}}


@pytest.mark.parametrize("data", [None, "1", {"wallet_id": "1"}, {"wallet_id": True}])
def test_a_malformed_join_gets_the_error_shape(app, admin, wallet_id, data):
    client = _socket(app, admin, headers={"Origin": ORIGIN})

    answer = client.emit("join", data, namespace=NAMESPACE, callback=True)

    assert answer["error"]["code"] == "bad_json"


def test_the_agent_connects_with_an_api_token(app, admin, wallet_id):
    secret = admin.post("/tokens", {"scopes": ["agent"]}).get_json()["secret"]

    assert _socket(app, auth={"token": secret}).is_connected(NAMESPACE)
    assert not _socket(app, auth={"token": secret[:-1] + "x"}).is_connected(NAMESPACE)


def test_revoking_a_user_cuts_their_open_sockets(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    client = _socket(app, bob, headers={"Origin": ORIGIN})
    assert client.is_connected(NAMESPACE)

    admin.post(f"/users/{bob.user['id']}/revoke")

    assert not client.is_connected(NAMESPACE)


def _events(client) -> list[dict]:
    return [m["args"][0] for m in client.get_received(NAMESPACE) if m["name"] == "event"]


def test_members_in_the_room_see_a_new_member_join(app, admin, wallet_id):
    client = _socket(app, admin, headers={"Origin": ORIGIN})
    client.emit("join", {"wallet_id": wallet_id}, namespace=NAMESPACE, callback=True)

    bob = member(app, admin, wallet_id, "viewer", "Bob")

    events = _events(client)
    assert [e["type"] for e in events] == ["invite_created", "member_joined"]
    assert events[1]["data"] == {"wallet_id": wallet_id, "user": bob.user["id"], "name": "Bob", "role": "viewer"}
    assert events[1]["seq"] == events[0]["seq"] + 1
    head = admin.get(f"/wallets/{wallet_id}").headers["Huddle-Audit-Head"].split()[1]
    assert events[1]["audit_head"] == head


def test_outsiders_get_no_events_of_the_wallet(app, admin, wallet_id):
    from .test_accounts_flow import _other_wallet

    other = admin.post("/wallets/import", {"text": _other_wallet(), "name": "Other"}).get_json()["wallet"]["id"]
    eve = member(app, admin, other, "admin", "Eve")
    client = _socket(app, eve, headers={"Origin": ORIGIN})
    client.emit("join", {"wallet_id": other}, namespace=NAMESPACE, callback=True)

    member(app, admin, wallet_id, "viewer", "Bob")

    assert _events(client) == []


def test_a_reconnecting_member_catches_up_from_its_last_seq(app, admin, wallet_id):
    member(app, admin, wallet_id, "viewer", "Bob")
    member(app, admin, wallet_id, "viewer", "Carol")
    client = _socket(app, admin, headers={"Origin": ORIGIN})

    answer = client.emit("join", {"wallet_id": wallet_id, "since": 2}, namespace=NAMESPACE, callback=True)

    assert [(e["seq"], e["type"]) for e in answer["events"]] == [(3, "invite_created"), (4, "member_joined")]
    assert answer["events"][1]["data"]["name"] == "Carol"


def test_a_member_joining_after_another_writer_committed_gets_each_event_once(app, config, admin, wallet_id):
    """Events committed by a writer that never published (the CLI, or another process
    killed before it told anyone): a member joining now gets them in the answer, a
    member already in the room gets them live, and neither gets any of them twice."""
    from coordinator.governance import outbox
    from coordinator.governance.events import InviteCreated
    from coordinator.store import open_database

    bob = member(app, admin, wallet_id, "viewer", "Bob")
    present = _socket(app, admin, headers={"Origin": ORIGIN})
    present.emit("join", {"wallet_id": wallet_id}, namespace=NAMESPACE, callback=True)
    elsewhere = open_database(config.database)
    written = [outbox.record(elsewhere, InviteCreated(wallet_id, n, "viewer", 99)).seq for n in range(3)]
    elsewhere.close()

    joining = _socket(app, bob, headers={"Origin": ORIGIN})
    answer = joining.emit("join", {"wallet_id": wallet_id, "since": written[0] - 1}, namespace=NAMESPACE,
                          callback=True)
    member(app, admin, wallet_id, "viewer", "Carol")  # a later change, published by this process

    seen_by_joining = [e["seq"] for e in answer["events"]] + [e["seq"] for e in _events(joining)]
    seen_by_present = [e["seq"] for e in _events(present)]
    assert seen_by_joining == list(range(written[0], seen_by_joining[-1] + 1))
    assert seen_by_present == list(range(written[0], seen_by_present[-1] + 1))
    assert seen_by_joining[-1] == seen_by_present[-1] == written[-1] + 2  # Carol's invite and join
