"""Over the API, a fresh server's admin invites the future slot owners to the
server alone, lists the users to pick them, and drafts a wallet for them."""

from __future__ import annotations

from .conftest import Browser


def _server_invite(admin: Browser, **extra) -> str:
    response = admin.post("/invites", extra)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["invite"]["wallet_id"] is None and body["invite"]["role"] is None
    assert body["link"].endswith("/join#" + body["token"])
    return body["token"]


def test_a_fresh_servers_admin_invites_slot_owners_and_drafts_their_wallet(app, admin):
    token = _server_invite(admin)
    assert admin.post("/invites/check", {"token": token}).get_json()["role"] is None
    bob = Browser(app.test_client()).register("/invites", token=token, name="Bob")
    carol = Browser(app.test_client()).register("/invites", token=_server_invite(admin, ttl=3600), name="Carol")

    listed = admin.get("/users")

    assert listed.status_code == 200
    assert listed.get_json()["users"] == [
        {"id": admin.user["id"], "name": "Ada", "is_admin": True, "revoked": False},
        {"id": bob.user["id"], "name": "Bob", "is_admin": False, "revoked": False},
        {"id": carol.user["id"], "name": "Carol", "is_admin": False, "revoked": False}]
    assert bob.get("/session").get_json()["wallets"] == []
    drafted = admin.post("/drafts", {"name": "Fresh vault", "script_type": "wsh", "threshold": 2,
                                     "slots": [bob.user["id"], carol.user["id"]]})
    assert drafted.status_code == 201, drafted.get_json()
    assert [d["name"] for d in bob.get("/drafts").get_json()["drafts"]] == ["Fresh vault"]


def test_a_server_invite_works_once(app, admin):
    token = _server_invite(admin)
    Browser(app.test_client()).register("/invites", token=token, name="Bob")

    again = Browser(app.test_client()).post("/invites/check", {"token": token})

    assert again.status_code == 410 and again.get_json()["error"]["code"] == "invite_used"


def test_only_the_servers_admin_invites_to_the_server_or_lists_users(app, admin):
    bob = Browser(app.test_client()).register("/invites", token=_server_invite(admin), name="Bob")
    anonymous = Browser(app.test_client())

    for browser, status in ((bob, 403), (anonymous, 401)):
        assert browser.post("/invites", {}).status_code == status
        listed = browser.get("/users")
        assert listed.status_code == status and "Ada" not in listed.get_data(as_text=True)


def test_the_user_list_shows_who_is_revoked(app, admin):
    bob = Browser(app.test_client()).register("/invites", token=_server_invite(admin), name="Bob")
    assert admin.post(f"/users/{bob.user['id']}/revoke").status_code == 200

    listed = admin.get("/users").get_json()["users"]

    assert [(u["name"], u["revoked"]) for u in listed] == [("Ada", False), ("Bob", True)]
