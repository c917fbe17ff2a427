"""Members over the API and Socket.IO: every member lists them, a wallet admin
changes roles and removes members, a member may leave; the wallet keeps an
admin; a removed member's sockets are cut at once and its room no longer
reaches them; a slot owner stays at least a keyholder, and removing one says
which key the wallet still depends on."""

from __future__ import annotations

from coordinator.web.realtime import NAMESPACE, socketio

from .. import keys
from .conftest import ORIGIN, Browser, member


def _socket(browser: Browser):
    client = socketio.test_client(browser.client.application, namespace=NAMESPACE, flask_test_client=browser.client,
                                  headers={"Origin": ORIGIN})
    assert client.is_connected(NAMESPACE)
    return client


def _events(client) -> list[dict]:
    return [m["args"][0] for m in client.get_received(NAMESPACE) if m["name"] == "event"]


def test_a_viewer_lists_the_members_and_is_told_the_wallet_has_one_admin(app, admin, wallet_id):
    member(app, admin, wallet_id, "keyholder", "Bob")
    carol = member(app, admin, wallet_id, "viewer", "Carol")

    listed = carol.get(f"/wallets/{wallet_id}/members")

    assert listed.status_code == 200
    body = listed.get_json()
    assert [(m["name"], m["role"]) for m in body["members"]] == [("Ada", "admin"), ("Bob", "keyholder"),
                                                                ("Carol", "viewer")]
    assert "Ada is this wallet's only admin" in body["warning"]


def test_a_wallet_admin_changes_roles_and_never_leaves_the_wallet_without_one(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    carol = member(app, admin, wallet_id, "viewer", "Carol")
    bob_path = f"/wallets/{wallet_id}/members/{bob.user['id']}"

    assert carol.send("PATCH", bob_path, {"role": "viewer"}).status_code == 403
    alone = admin.send("PATCH", f"/wallets/{wallet_id}/members/{admin.user['id']}", {"role": "keyholder"})
    assert alone.status_code == 409 and alone.get_json()["error"]["code"] == "last_admin"
    assert admin.send("PATCH", bob_path, {"role": "owner"}).get_json()["error"]["code"] == "bad_role"
    missing = admin.send("PATCH", f"/wallets/{wallet_id}/members/999", {"role": "viewer"})
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "member_not_found"

    promoted = admin.send("PATCH", bob_path, {"role": "admin"})

    assert promoted.status_code == 200, promoted.get_json()
    assert promoted.get_json()["member"]["role"] == "admin" and promoted.get_json()["warning"] is None
    entry = admin.get(f"/wallets/{wallet_id}/audit").get_json()["entries"][-1]
    assert (entry["type"], entry["body"]) == ("role_changed", {"user": bob.user["id"], "from": "keyholder",
                                                               "to": "admin"})


def test_a_removed_member_is_cut_off_at_once_and_the_room_no_longer_reaches_them(app, admin, wallet_id):
    carol = member(app, admin, wallet_id, "viewer", "Carol")
    theirs, ours = _socket(carol), _socket(admin)
    for client in (theirs, ours):
        assert client.emit("join", {"wallet_id": wallet_id}, namespace=NAMESPACE, callback=True)["joined"] == wallet_id
        client.get_received(NAMESPACE)

    removed = admin.send("DELETE", f"/wallets/{wallet_id}/members/{carol.user['id']}")

    assert removed.status_code == 200, removed.get_json()
    assert removed.get_json()["removed"] == carol.user["id"] and removed.get_json()["wallet_still_depends_on"] == []
    assert not theirs.is_connected(NAMESPACE)
    assert [(e["type"], e["data"]["user"]) for e in _events(ours)] == [("member_removed", carol.user["id"])]
    again = _socket(carol)  # still a user of the server: she may reconnect, but not to this wallet
    refused = again.emit("join", {"wallet_id": wallet_id}, namespace=NAMESPACE, callback=True)
    assert refused["error"]["code"] == "wallet_not_found"
    assert carol.get(f"/wallets/{wallet_id}").status_code == 404
    member(app, admin, wallet_id, "viewer", "Dan")  # the room goes on without her
    assert _events(again) == [] and [e["type"] for e in _events(ours)] == ["invite_created", "member_joined"]


def test_a_member_may_leave_but_another_keyholder_may_not_remove_them(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    dave = member(app, admin, wallet_id, "keyholder", "Dave")
    path = f"/wallets/{wallet_id}/members/{bob.user['id']}"

    assert dave.send("DELETE", path).status_code == 403
    left = bob.send("DELETE", path)

    assert left.status_code == 200 and left.get_json()["left"] is True
    assert bob.get(f"/wallets/{wallet_id}/members").status_code == 404


def _key(i: int) -> str:
    return f"[{keys.fingerprint(i)}/{keys.path(True, 'wsh')[2:]}]{keys.xpub(i)}"


def _joined(app, admin: Browser, name: str) -> Browser:
    token = admin.post("/invites", {}).get_json()["token"]
    return Browser(app.test_client()).register("/invites", token=token, name=name)


def test_a_slot_owner_stays_a_keyholder_and_removing_them_names_the_key_the_wallet_needs(app, admin):
    bob, carol = _joined(app, admin, "Bob"), _joined(app, admin, "Carol")
    people = (admin, bob, carol)
    base = "/drafts/%d" % admin.post("/drafts", {"name": "Roof fund", "script_type": "wsh", "threshold": 2, "slots": [
        p.user["id"] for p in people]}).get_json()["draft"]["id"]
    for position, person in enumerate(people):
        assert person.post(f"{base}/slots/{position}", {"key": _key(position)}).status_code == 200
    first = admin.get(base).get_json()["draft"]["first_address"]
    for position, person in enumerate(people):
        done = person.post(f"{base}/slots/{position}/confirm", {"address": first})
    wallet_id = done.get_json()["draft"]["wallet_id"]
    path = f"/wallets/{wallet_id}/members/{bob.user['id']}"
    bobs_key = admin.get(f"/wallets/{wallet_id}/members").get_json()["members"][1]["slots"][0]["key"]

    demoted = admin.send("PATCH", path, {"role": "viewer"})
    removed = admin.send("DELETE", path)

    assert demoted.status_code == 409 and demoted.get_json()["error"]["code"] == "member_holds_key"
    assert bobs_key.startswith(f"[{keys.fingerprint(1)}/48h/1h/0h/2h]")
    assert removed.status_code == 200
    assert removed.get_json()["wallet_still_depends_on"] == [{"position": 1, "key": bobs_key}]
    assert "still depends on their key" in removed.get_json()["message"]
