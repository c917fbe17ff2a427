"""Through the API: the admin sets up with a passkey, imports a 2-of-3 wallet,
invites two members who join and sign in with passkeys; recovery codes, API
tokens and revocation work; the wallet's audit chain verifies and its head
rides on every member's response."""

from __future__ import annotations

import time

import pytest

from coordinator.accounts import invites
from coordinator.governance import audit
from coordinator.store import open_database
from coordinator.web import AUDIT_HEAD

from .conftest import Browser, invite, member


def test_the_admin_sets_up_once_with_the_printed_token(admin, app, config):
    assert admin.user["is_admin"] and len(admin.recovery_codes) == 10
    again = Browser(app.test_client()).post("/setup/options", {"token": "anything", "name": "Mallory"})

    assert again.status_code == 410 and again.get_json()["error"]["code"] == "setup_done"
    assert admin.get("/setup").get_json() == {"needs_setup": False}


def test_a_wrong_setup_token_is_refused(app, config):
    from .conftest import setup_token

    setup_token(config)
    response = Browser(app.test_client()).post("/setup/options", {"token": "guess", "name": "Mallory"})

    assert response.status_code == 401 and response.get_json()["error"]["code"] == "bad_setup_token"


def test_two_members_join_by_invite_and_sign_in_with_passkeys(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    carol = member(app, admin, wallet_id, "viewer", "Carol")

    for browser, role in ((bob, "keyholder"), (carol, "viewer")):
        browser.send("DELETE", "/session")
        assert browser.get("/session").status_code == 401
        browser.signed_in(browser.login())
        me = browser.get("/session").get_json()
        assert me["wallets"] == [{"id": wallet_id, "role": role}]
        shown = browser.get(f"/wallets/{wallet_id}").get_json()["wallet"]
        assert (shown["threshold"], shown["n"], shown["role"]) == (2, 3, role)


def test_the_wallet_chain_records_setup_steps_and_verifies(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")

    response = bob.get(f"/wallets/{wallet_id}/audit")
    entries = [audit.Entry.from_dict(e) for e in response.get_json()["entries"]]

    assert [e.type for e in entries] == ["wallet_created", "invite_created", "member_joined"]
    assert entries[0].body["policy_id"] == admin.get(f"/wallets/{wallet_id}").get_json()["wallet"]["policy_id"]
    head = audit.verify(entries)
    assert response.headers[AUDIT_HEAD] == f"wallet:{wallet_id} {head.to_string()}"
    later = bob.get(f"/wallets/{wallet_id}/audit?after=2").get_json()["entries"]
    assert [e["seq"] for e in later] == [3]


def test_the_audit_head_goes_only_to_members(app, admin, wallet_id):
    outsider_wallet = admin.post("/wallets/import", {"text": _other_wallet(), "name": "Other"}).get_json()
    eve = member(app, admin, outsider_wallet["wallet"]["id"], "admin", "Eve")

    refused = eve.get(f"/wallets/{wallet_id}/audit")

    assert refused.status_code == 404 and AUDIT_HEAD not in refused.headers
    assert AUDIT_HEAD not in eve.get("/session").headers


def _other_wallet() -> str:
    from .. import keys

    return keys.descriptor(2, 2, first=3).to_string()


def test_a_recovery_code_signs_in_once(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "viewer", "Bob")
    code = bob.recovery_codes[0]
    fresh = Browser(app.test_client())

    assert fresh.post("/session/recovery", {"code": code}).status_code == 201
    again = Browser(app.test_client()).post("/session/recovery", {"code": code})
    assert again.status_code == 401 and again.get_json()["error"]["code"] == "bad_recovery_code"


def test_an_api_token_reads_and_stops_when_revoked(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    made = bob.post("/tokens", {"scopes": ["agent"], "label": "laptop"}).get_json()
    agent = app.test_client()
    auth = {"Authorization": f"Bearer {made['secret']}"}

    assert agent.get(f"/api/v1/wallets/{wallet_id}", headers=auth).status_code == 200
    assert agent.get("/api/v1/tokens", headers=auth).status_code == 403  # a token cannot manage tokens
    assert bob.send("DELETE", f"/tokens/{made['token']['id']}").status_code == 200
    refused = agent.get(f"/api/v1/wallets/{wallet_id}", headers=auth)
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "bad_token"


def test_a_revoked_user_is_signed_out_everywhere(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")

    assert admin.post(f"/users/{bob.user['id']}/revoke").status_code == 200

    assert bob.get("/session").status_code == 401
    assert bob.login().status_code == 401


def test_invites_need_the_wallet_admin_role(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")

    refused = bob.post(f"/wallets/{wallet_id}/invites", {"role": "viewer"})

    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    assert "token" not in refused.get_json()


def test_a_used_invite_is_gone_and_an_expired_one_too(app, config, admin, wallet_id):
    token = invite(admin, wallet_id, "viewer")
    Browser(app.test_client()).register("/invites", token=token, name="Bob")

    reused = Browser(app.test_client()).post("/invites/check", {"token": token})
    assert reused.status_code == 410 and reused.get_json()["error"]["code"] == "invite_used"

    db = open_database(config.database)  # an invite made two minutes ago, good for one
    _, short = invites.create(db, wallet_id, "viewer", admin.user["id"], ttl=60, now=int(time.time()) - 120)
    db.close()
    expired = Browser(app.test_client()).post("/invites/check", {"token": short})
    assert expired.status_code == 410 and expired.get_json()["error"]["code"] == "invite_expired"


@pytest.mark.parametrize("fmt", ["descriptor", "bsms", "coldcard", "caravan", "specter"])
def test_members_download_the_backup_in_each_format_and_it_reads_back(app, admin, wallet_id, fmt):
    from coordinator.wallet import formats

    carol = member(app, admin, wallet_id, "viewer", "Carol")

    backup = carol.get(f"/wallets/{wallet_id}/backup?format={fmt}").get_json()

    assert backup["format"] == fmt
    assert formats.load(backup["text"], None, ()).descriptor.policy_id == \
        admin.get(f"/wallets/{wallet_id}").get_json()["wallet"]["policy_id"]


def test_an_unknown_backup_format_is_refused(admin, wallet_id):
    response = admin.get(f"/wallets/{wallet_id}/backup?format=pdf")

    assert response.status_code == 400 and response.get_json()["error"]["code"] == "unknown_format"
