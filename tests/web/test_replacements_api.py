"""Fee bumps over the API: a keyholder asks for a replacement at a higher rate;
it keeps the intent (the approvals given count for it), both proposals say how
they are linked, the chain records `proposal_created` with `replaces`, viewers
may not bump, and a rate that does not outbid the original is refused."""

from __future__ import annotations

from .conftest import member


def _approve(browser, path: str) -> None:
    options = browser.post(f"{path}/approvals/options").get_json()["options"]
    assert browser.post(f"{path}/approvals", {"credential": browser.passkey.get(options)}).status_code == 201


def test_a_keyholder_bumps_the_fee_and_the_approvals_carry_over(app, admin, wallet_id, proposal):
    bob, path = proposal
    _approve(bob, path)
    original = bob.get(path).get_json()["proposal"]

    made = bob.post(f"{path}/replacements", {"fee_rate": 3_000})

    assert made.status_code == 201, made.get_json()
    bumped = made.get_json()["proposal"]
    assert made.get_json()["psbt"].startswith("cHNidP8") and made.get_json()["psbt"] != bob.get(path).get_json()["psbt"]
    assert (bumped["replaces"], bumped["family_id"], bumped["intent_digest"]) == \
        (original["id"], original["family_id"], original["intent_digest"])
    new_path = f"/wallets/{wallet_id}/proposals/{bumped['id']}"
    assert bob.get(path).get_json()["proposal"]["replaced_by"] == bumped["id"]
    assert bob.get(new_path).get_json()["approved_by"] == [f"user:{bob.user['id']}"]
    created = [e for e in admin.get(f"/wallets/{wallet_id}/audit").get_json()["entries"]
               if e["type"] == "proposal_created"]
    assert [e["body"].get("replaces") for e in created] == [None, original["id"]]


def test_a_viewer_may_not_bump_and_a_stranger_finds_nothing(app, admin, wallet_id, proposal):
    _, path = proposal
    carol = member(app, admin, wallet_id, "viewer", "Carol")

    assert carol.post(f"{path}/replacements", {"fee_rate": 3_000}).status_code == 403
    assert admin.post(f"/wallets/{wallet_id}/proposals/99/replacements", {"fee_rate": 3_000}).status_code == 404


def test_a_rate_that_does_not_outbid_is_refused_with_the_least_rate(proposal):
    bob, path = proposal

    refused = bob.post(f"{path}/replacements", {"fee_rate": 2_000})

    assert refused.status_code == 400
    error = refused.get_json()["error"]
    assert error["code"] == "replacement_fee_too_low" and error["details"]["min_fee_rate"] > 2_000
    assert bob.post(f"{path}/replacements", {"fee_rate": "fast"}).get_json()["error"]["code"] == "bad_json"


def test_a_cancelled_proposal_cannot_be_bumped(proposal):
    bob, path = proposal
    assert bob.post(f"{path}/cancel").status_code == 200

    refused = bob.post(f"{path}/replacements", {"fee_rate": 3_000})

    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "proposal_closed"
