"""The authorization sweep, generated from the OpenAPI document: every operation,
called as anonymous, as a member of another wallet, and as a viewer where more is
needed, is refused (401/403/404) and leaks 0 bytes of the wallet's data. Marker
strings (the wallet's name, its xpubs, its policy id, a proposal's memo and comment, an
imported BIP-329 label) are planted and looked for in every body and header, and in
Socket.IO answers."""

from __future__ import annotations

import re

import pytest

from coordinator.web.openapi import document
from coordinator.web.realtime import NAMESPACE, socketio


from .. import keys
from .conftest import API, ORIGIN, Browser, member
from .funding import fund_and_sync, faucet_address

TARGET = keys.descriptor(2, 3)
OTHER = keys.descriptor(2, 2, first=3)
MEMO = "Marker-Memo-91c2: the roof fund"
COMMENT = "Marker-Comment-3b8e: ask the roofer first"
LABEL = "Marker-Label-5d1e: the roofer's address"
MARKERS = ["Marker-Vault-7f3a", TARGET.policy_id, MEMO, COMMENT, LABEL, *(c.xpub for c in TARGET.cosigners)]
ROLE_RANK = ("viewer", "keyholder", "admin")
LAST = [("/users/{user_id}/revoke", "post"), ("/session", "delete")]  # they may end sessions: run them last


def _value(schema: dict) -> object:
    if "enum" in schema:
        return schema["enum"][-1]
    return {"string": "x", "integer": 60, "object": {}, "array": ["read"]}[schema["type"]]


def _operations() -> list[tuple[str, str, dict]]:
    ops = [(path, method, op) for path, methods in document()["paths"].items() for method, op in methods.items()]
    return sorted(ops, key=lambda o: (LAST.index(o[:2]) if o[:2] in LAST else -1, o[0], o[1]))


@pytest.fixture
def world(app, config, admin):
    """Ada (server admin) holds the marked wallet and another; Bob is its keyholder
    with an agent token and an open proposal with a comment, Carol its viewer; Eve is the admin of
    the other wallet only. Ada also drafts a marked wallet with a slot for Bob,
    which he filled with a marked key; Carol and Eve are not part of it."""
    target = admin.post("/wallets/import", {"text": TARGET.to_string(), "name": MARKERS[0]}).get_json()["wallet"]
    other = admin.post("/wallets/import", {"text": OTHER.to_string(), "name": "Other"}).get_json()["wallet"]
    bob = member(app, admin, target["id"], "keyholder", "Bob")
    token = bob.post("/tokens", {"scopes": ["agent"]}).get_json()["token"]
    fund_and_sync(config, target["id"])
    proposed = bob.post(f"/wallets/{target['id']}/proposals", {
        "payments": [{"address": faucet_address(), "amount": 20_000}], "memo": MEMO, "fee_rate": 2_000})
    assert proposed.status_code == 201, proposed.get_json()
    proposal_path = f"/wallets/{target['id']}/proposals/{proposed.get_json()['proposal']['id']}"
    assert bob.post(f"{proposal_path}/comments", {"text": COMMENT}).status_code == 201
    funding = bob.get(f"/wallets/{target['id']}/ledger").get_json()["ledger"]["entries"][0]["txid"]
    label = f'{{"type": "tx", "ref": "{funding}", "label": "{LABEL}"}}'  # in the ledger, its CSV and labels
    assert bob.post(f"/wallets/{target['id']}/labels", {"text": label}).status_code == 200
    draft = admin.post("/drafts", {"name": f"{MARKERS[0]} draft", "script_type": "wsh", "threshold": 2,
                                   "slots": [bob.user["id"], admin.user["id"]]}).get_json()["draft"]
    filled = bob.post(f"/drafts/{draft['id']}/slots/0", {"key": TARGET.cosigners[0].key_expression()})
    assert filled.status_code == 200, filled.get_json()
    return {"wallet_id": target["id"], "token_id": token["id"], "user_id": bob.user["id"],
            "proposal_id": proposed.get_json()["proposal"]["id"], "draft_id": draft["id"], "position": 0,
            "carol": member(app, admin, target["id"], "viewer", "Carol"),
            "eve": member(app, admin, other["id"], "admin", "Eve")}


def _call(browser: Browser, path: str, method: str, op: dict, world: dict):
    concrete = re.sub(r"\{([a-z_]+)\}", lambda m: str(world[m.group(1)]), path)
    schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    body = {name: _value(sub) for name, sub in schema["properties"].items() if name in schema["required"]} \
        if schema else None
    return browser.send(method.upper(), concrete, body)


def _leaks(response) -> list[str]:
    text = response.get_data(as_text=True) + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return [m for m in MARKERS if m in text]


def _expected(caller: str, access: str) -> set[int] | None:
    """The statuses a refusal may have, or None where the caller may call it."""
    if access == "anyone":
        return None
    if caller == "anonymous":
        return {401}
    if caller == "eve":
        return {404} if access in ROLE_RANK else ({403} if access == "server_admin" else None)
    if access in ROLE_RANK and ROLE_RANK.index(access) > 0:  # carol is a viewer
        return {403}
    return {403} if access == "server_admin" else None


@pytest.mark.parametrize("caller", ["anonymous", "eve", "carol"])
def test_every_operation_refuses_outsiders_and_leaks_nothing(app, world, caller):
    browser = Browser(app.test_client()) if caller == "anonymous" else world[caller]
    refused = 0
    for path, method, op in _operations():
        response = _call(browser, path, method, op, world)
        expected = _expected(caller, op["x-huddle-access"])
        if expected is not None:
            assert response.status_code in expected, (caller, method, path, response.get_json())
            refused += 1
        if caller != "carol" or expected is not None:
            assert _leaks(response) == [], (caller, method, path)
    assert refused >= {"anonymous": 15, "eve": 10, "carol": 6}[caller]


def test_the_markers_are_there_for_a_member_to_see(world):
    wallet = world["carol"].get(f"/wallets/{world['wallet_id']}")
    proposal = world["carol"].get(f"/wallets/{world['wallet_id']}/proposals/{world['proposal_id']}")
    said = world["carol"].get(f"/wallets/{world['wallet_id']}/proposals/{world['proposal_id']}/comments")
    ledger = [world["carol"].get(f"/wallets/{world['wallet_id']}/{path}")
              for path in ("ledger", "ledger.csv", "labels")]

    assert sorted(set(_leaks(wallet)) | set(_leaks(proposal)) | set(_leaks(said)) | {LABEL}) == sorted(MARKERS)
    assert all(LABEL in _leaks(response) for response in ledger)


@pytest.mark.parametrize("caller", ["anonymous", "eve"])
def test_socket_room_joins_refuse_outsiders_and_leak_nothing(app, world, caller):
    browser = world.get(caller)
    client = socketio.test_client(app, namespace=NAMESPACE, headers={"Origin": ORIGIN},
                                  flask_test_client=browser.client if browser else None)
    if caller == "anonymous":
        assert not client.is_connected(NAMESPACE)
        return
    answer = client.emit("join", {"wallet_id": world["wallet_id"]}, namespace=NAMESPACE, callback=True)
    received = client.get_received(NAMESPACE)

    assert answer["error"]["code"] == "wallet_not_found"
    assert not [m for m in MARKERS if m in repr(answer) + repr(received)]


def test_the_sweep_covers_every_documented_operation():
    assert {(p, m) for p, m, _ in _operations()} == {(p, m) for p, ops in document()["paths"].items() for m in ops}
    assert API == "/api/v1"
