"""The proposals API: keyholders propose and approve, viewers read, only the
proposer or an admin cancels, and an approval must come from the caller's own
passkey over this proposal's intent."""

from __future__ import annotations

from .conftest import member


def test_a_viewer_reads_the_proposal_with_its_checked_psbt(app, admin, wallet_id, proposal):
    _, path = proposal
    carol = member(app, admin, wallet_id, "viewer", "Carol")

    shown = carol.get(path).get_json()

    assert shown["proposal"]["memo"] == "paint" and shown["psbt"].startswith("cHNidP8")
    assert shown["proposal"]["intent"]["recipients"][0]["amount"] == 20_000
    assert carol.post(f"{path}/approvals/options").status_code == 403


def test_only_the_proposer_or_an_admin_cancels(app, admin, wallet_id, proposal):
    _, path = proposal
    dave = member(app, admin, wallet_id, "keyholder", "Dave")

    refused = dave.post(f"{path}/cancel")
    cancelled = admin.post(f"{path}/cancel")

    assert refused.status_code == 403 and cancelled.status_code == 200
    assert cancelled.get_json()["proposal"]["state"] == "cancelled"
    again = admin.post(f"{path}/cancel")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "proposal_closed"


def test_an_approval_with_someone_elses_passkey_is_refused(app, admin, wallet_id, proposal):
    bob, path = proposal
    dave = member(app, admin, wallet_id, "keyholder", "Dave")
    options = bob.post(f"{path}/approvals/options").get_json()["options"]

    response = dave.post(f"{path}/approvals", {"credential": bob.passkey.get(options)})

    assert response.status_code == 400 and response.get_json()["error"]["code"] == "approval_invalid"


def test_an_approval_over_another_challenge_is_refused(admin, proposal):
    bob, path = proposal

    response = bob.post(f"{path}/approvals", {"credential": bob.passkey.get({"challenge": "AAAA"})})

    assert response.status_code == 400 and response.get_json()["error"]["code"] == "approval_invalid"


def test_the_approval_options_name_the_intent_and_the_callers_passkeys(proposal):
    bob, path = proposal

    answer = bob.post(f"{path}/approvals/options").get_json()

    assert [c["id"] for c in answer["options"]["allowCredentials"]] == [bob.passkey.get({"challenge": ""})["id"]]
    assert answer["intent"]["recipients"][0]["amount"] == 20_000
