"""Coin control over HTTP, seen live by the other members: a freeze, an unfreeze and a
BIP-329 label import each reach the wallet's room over Socket.IO (coin_frozen,
coin_unfrozen, labels_changed; docs/events.md), refused ones send nothing, and outsiders
hear none of it."""

from __future__ import annotations

from coordinator.web.realtime import NAMESPACE, socketio

from .coin_funding import fund_coins_and_sync
from .conftest import ORIGIN, member
from .funding import faucet_address
from .test_accounts_flow import _other_wallet


def _joined(app, browser, wallet_id: int):
    client = socketio.test_client(app, namespace=NAMESPACE, flask_test_client=browser.client,
                                  headers={"Origin": ORIGIN})
    assert client.emit("join", {"wallet_id": wallet_id}, namespace=NAMESPACE, callback=True)["joined"] == wallet_id
    client.get_received(NAMESPACE)  # only what comes after joining
    return client


def _events(client) -> list[dict]:
    return [m["args"][0] for m in client.get_received(NAMESPACE) if m["name"] == "event"]


def test_a_viewer_in_the_room_sees_a_keyholder_freeze_and_an_admin_unfreeze_a_coin(app, config, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    carol = member(app, admin, wallet_id, "viewer", "Carol")
    first, _ = fund_coins_and_sync(config, wallet_id)
    watching = _joined(app, carol, wallet_id)

    assert bob.post(f"/wallets/{wallet_id}/coins/freeze", {"outpoint": first}).status_code == 200
    frozen = _events(watching)
    head = carol.get(f"/wallets/{wallet_id}").headers["Huddle-Audit-Head"].split()[1]
    assert admin.post(f"/wallets/{wallet_id}/coins/unfreeze", {"outpoint": first}).status_code == 200
    thawed = _events(watching)

    assert [(e["room"], e["type"], e["data"]) for e in frozen] == [
        (f"wallet:{wallet_id}", "coin_frozen",
         {"wallet_id": wallet_id, "outpoint": first, "by": bob.user["id"], "via": "member"})]
    assert frozen[0]["audit_head"] == head  # the chain's head with the coin_frozen entry
    assert [(e["type"], e["data"]["by"], e["seq"]) for e in thawed] == [
        ("coin_unfrozen", admin.user["id"], frozen[0]["seq"] + 1)]


def test_refused_and_unchanged_freezes_send_no_event(app, config, admin, wallet_id):
    carol = member(app, admin, wallet_id, "viewer", "Carol")
    first, second = fund_coins_and_sync(config, wallet_id)
    held = admin.post(f"/wallets/{wallet_id}/proposals", {
        "payments": [{"address": faucet_address(), "amount": 20_000}], "memo": "paint", "fee_rate": 2_000,
        "coins": [second]})
    assert held.status_code == 201
    assert admin.post(f"/wallets/{wallet_id}/coins/freeze", {"outpoint": first}).status_code == 200
    watching = _joined(app, admin, wallet_id)

    answers = [carol.post(f"/wallets/{wallet_id}/coins/freeze", {"outpoint": first}),  # a viewer: 403
               admin.post(f"/wallets/{wallet_id}/coins/freeze", {"outpoint": second}),  # held: coin_locked
               admin.post(f"/wallets/{wallet_id}/coins/freeze", {"outpoint": first})]  # frozen already

    assert [a.status_code for a in answers] == [403, 409, 200]
    assert answers[2].get_json()["changed"] is False
    assert _events(watching) == []


def test_a_label_import_sends_labels_changed_and_outsiders_hear_nothing(app, config, admin, wallet_id):
    carol = member(app, admin, wallet_id, "viewer", "Carol")
    other = admin.post("/wallets/import", {"text": _other_wallet(), "name": "Other"}).get_json()["wallet"]["id"]
    eve = member(app, admin, other, "admin", "Eve")
    first, _ = fund_coins_and_sync(config, wallet_id)
    watching, outsider = _joined(app, carol, wallet_id), _joined(app, eve, other)
    text = "\n".join([f'{{"type": "output", "ref": "{first}", "label": "dust?", "spendable": false}}',
                      f'{{"type": "tx", "ref": "{first.split(":")[0]}", "label": "from the fair"}}'])

    assert admin.post(f"/wallets/{wallet_id}/labels", {"text": text}).status_code == 200
    assert admin.post(f"/wallets/{wallet_id}/labels", {"text": text}).status_code == 200  # changes nothing

    seen = _events(watching)
    assert [(e["type"], e["data"]) for e in seen] == [
        ("labels_changed", {"wallet_id": wallet_id, "count": 2, "by": admin.user["id"]})]
    assert "dust?" not in str(seen)  # the labels are fetched, never in the event
    assert _events(outsider) == []
