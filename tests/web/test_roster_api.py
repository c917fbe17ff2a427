"""Agent keys, the roster pinned at the setup ceremony, safety codes, agent
approvals, roster changes and the approval threshold, over real HTTP (Flask's
test client): agents are the test's own BIP-340 keys behind agent-scoped tokens."""

from __future__ import annotations

import pytest

from coordinator.errors import Conflict
from coordinator.governance import agent_keys, quorum
from coordinator.store import open_database

from .conftest import ORIGIN
from .funding import faucet_address, fund_and_sync
from .roster_world import agent_key, ceremony, confirm, draft, group, pair


def _propose(config, people, wallet_id: int) -> tuple[str, dict]:
    fund_and_sync(config, wallet_id)
    made = people[1].browser.post(f"/wallets/{wallet_id}/proposals", {
        "payments": [{"address": faucet_address(), "amount": 20_000}], "memo": "roof", "fee_rate": 2_000})
    assert made.status_code == 201, made.get_json()
    proposal = made.get_json()["proposal"]
    return f"/wallets/{wallet_id}/proposals/{proposal['id']}", proposal


def _agent_approve(person, path: str, intent: dict):
    return person.as_agent("POST", f"{path}/approvals/agent",
                           {"signature": person.sign("approval", intent)})


def test_every_member_sees_the_same_roster_and_safety_code_and_it_is_the_roster_hash(app, config):
    people = group(app, config)
    base = draft(people)
    shown = [p.browser.get(f"{base}/roster").get_json() for p in people]

    assert len({(s["hash"], s["safety_code"]) for s in shown}) == 1
    roster = shown[0]["roster"]
    assert shown[0]["safety_code"] == agent_keys.safety_code(roster) and len(shown[0]["safety_code"].split()) == 6
    assert [(m["user"], m["role"], m["slot"], m["agent_key"]) for m in roster["members"]] == [
        (p.id, "admin" if i == 0 else "keyholder", i, agent_keys.public_key(agent_key(i)))
        for i, p in enumerate(people)]
    assert (roster["rp_id"], roster["origin"], roster["policy"]) == (
        "localhost", ORIGIN, {"threshold": 0, "approvers": [p.id for p in people]})


def test_the_ceremony_pins_the_roster_the_agents_signed_in_the_wallets_first_entry(app, config):
    people = group(app, config)
    base = draft(people)
    signed = people[0].browser.get(f"{base}/roster").get_json()
    wallet_id = ceremony_rest(people, base)

    pinned = people[2].browser.get(f"/wallets/{wallet_id}/roster").get_json()
    genesis = people[2].browser.get(f"/wallets/{wallet_id}/audit").get_json()["entries"][0]
    assert pinned["pinned"]["hash"] == signed["hash"] and pinned["version"] == 1
    assert pinned["server_roster_differs"] is False
    assert genesis["type"] == "wallet_created"
    assert genesis["body"]["roster"] == {"version": 1, "hash": signed["hash"], "body": signed["roster"]}


def ceremony_rest(people, base: str) -> int:
    for position, person in enumerate(people):
        answer = confirm(person, base, position)
        assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["draft"]["wallet_id"]


def test_a_keyholder_with_an_agent_key_must_confirm_with_it(app, config):
    people = group(app, config)
    base = draft(people)
    first = people[1].browser.get(f"{base}/roster").get_json()["first_address"]

    plain = people[1].browser.post(f"{base}/slots/1/confirm", {"address": first})
    forged = people[1].browser.post(f"{base}/slots/1/confirm/agent", {
        "address": first, "signature": people[2].sign("roster-confirm", {"v": 1})})

    assert plain.status_code == 400 and plain.get_json()["error"]["code"] == "agent_confirmation_required"
    assert forged.status_code == 400 and forged.get_json()["error"]["code"] == "bad_agent_signature"


def test_a_qr_only_keyholder_confirms_without_a_signature_and_is_pinned_without_an_agent_key(app, config):
    people = group(app, config, agents=(0, 1))
    base = draft(people)
    first = people[2].browser.get(f"{base}/roster").get_json()["first_address"]

    signed = people[2].browser.post(f"{base}/slots/2/confirm/agent", {"address": first, "signature": "00" * 64})
    wallet_id = ceremony_rest(people, base)

    assert signed.status_code == 400 and signed.get_json()["error"]["code"] == "agent_key_not_registered"
    members = people[0].browser.get(f"/wallets/{wallet_id}/roster").get_json()["pinned"]["roster"]["members"]
    assert [m["agent_key"] is None for m in members] == [False, False, True]
    shown = people[0].browser.get(f"/wallets/{wallet_id}/roster").get_json()["pinned"]
    assert shown["keyholders_without_agent"] == [people[2].id] and shown["warning"] is None


def test_the_roster_warns_when_m_keyholders_have_no_agent(app, config):
    people = group(app, config, agents=(0,))
    base = draft(people)

    shown = people[0].browser.get(f"{base}/roster").get_json()

    assert shown["keyholders_without_agent"] == [people[1].id, people[2].id]
    assert "skips every agent check" in shown["warning"]


def test_a_signature_over_an_older_roster_is_refused_and_a_moved_roster_withdraws_confirmations(app, config):
    people = group(app, config, agents=(1, 2))
    base = draft(people)
    assert confirm(people[1], base, 1).status_code == 200
    stale = people[2].browser.get(f"{base}/roster").get_json()
    pair(people[0], agent_key(0))  # Ada's agent registers a key: the roster moves

    refused = confirm_with(people[2], base, 2, stale)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "roster_moved"
    assert confirm(people[2], base, 2).status_code == 200
    last = confirm(people[0], base, 0)

    assert last.status_code == 200 and last.get_json()["draft"]["state"] == "confirming"
    assert [s["confirmed"] for s in last.get_json()["draft"]["slots"]] == [True, False, True]
    assert confirm(people[1], base, 1).get_json()["draft"]["state"] == "active"


def confirm_with(person, base: str, position: int, shown: dict):
    draft_id = int(base.rsplit("/", 1)[1])
    signature = person.sign("roster-confirm", agent_keys.roster_confirm_body(draft_id, shown["hash"],
                                                                             shown["first_address"]))
    return person.browser.post(f"{base}/slots/{position}/confirm/agent", {
        "address": shown["first_address"], "signature": signature, "roster_hash": shown["hash"]})


def test_agent_keys_are_registered_only_by_an_agent_token_and_belong_to_one_user(app, config):
    people = group(app, config, agents=(1,))
    key = agent_keys.public_key(agent_key(1))

    by_session = people[2].browser.post("/agent/keys", {"public_key": agent_keys.public_key(agent_key(2))})
    taken = pair_attempt(people[2], key)
    off_curve = people[1].as_agent("POST", "/agent/keys", {"public_key": "ff" * 32})

    assert by_session.status_code == 403
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "agent_key_taken"
    assert off_curve.status_code == 400 and off_curve.get_json()["error"]["code"] == "bad_agent_key"


def pair_attempt(person, public_key: str):
    made = person.browser.post("/tokens", {"scopes": ["agent"]}).get_json()
    person.token = made["secret"]
    return person.as_agent("POST", "/agent/keys", {"public_key": public_key})


def test_replacing_a_pinned_agent_key_names_the_wallets_that_need_a_roster_change(app, config):
    people = group(app, config)
    wallet_id = ceremony(people)

    replaced = people[1].as_agent("POST", "/agent/keys", {"public_key": agent_keys.public_key(agent_key(9))})

    assert replaced.status_code == 201
    assert replaced.get_json()["replaced"] == agent_keys.public_key(agent_key(1))
    assert replaced.get_json()["roster_change_needed"] == [wallet_id]
    assert people[0].browser.get(f"/wallets/{wallet_id}/roster").get_json()["server_roster_differs"] is True


def test_an_agent_approval_is_stored_audited_and_counted_and_a_forged_one_is_refused(app, config):
    people = group(app, config)
    wallet_id = ceremony(people)
    path, proposal = _propose(config, people, wallet_id)

    forged = people[2].as_agent("POST", f"{path}/approvals/agent",
                                {"signature": people[1].sign("approval", proposal["intent"])})
    approved = _agent_approve(people[1], path, proposal["intent"])
    again = _agent_approve(people[1], path, proposal["intent"])

    assert forged.status_code == 400 and forged.get_json()["error"]["code"] == "bad_agent_signature"
    assert approved.status_code == 201 and approved.get_json() == {"approved_by": [people[1].id], "threshold": 0}
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_approved"
    entries = people[0].browser.get(f"/wallets/{wallet_id}/audit").get_json()["entries"]
    assert [e["type"] for e in entries][-1] == "agent_approval_added"
    assert entries[-1]["body"]["member"] == people[1].id
    shown = people[0].browser.get(f"{path}/quorum").get_json()
    assert shown["approved_by"] == [people[1].id] and shown["approvals"][0]["kind"] == "agent"
    # the proposal itself lists agent approvals too, not only passkey ones (the PWA reads it)
    assert people[0].browser.get(path).get_json()["approved_by"] == [f"user:{people[1].id}"]


def test_a_member_pinned_with_an_agent_cannot_approve_with_a_passkey(app, config):
    people = group(app, config)
    wallet_id = ceremony(people)
    path, _ = _propose(config, people, wallet_id)
    options = people[2].browser.post(f"{path}/approvals/options").get_json()["options"]

    answer = people[2].browser.post(f"{path}/approvals", {"credential": people[2].browser.passkey.get(options)})

    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "approval_wrong_kind"


def test_the_threshold_is_raised_only_by_m_keyholder_agents_and_then_gates_signing(app, config):
    people = group(app, config)
    wallet_id = ceremony(people)
    change = f"/wallets/{wallet_id}/roster/change"

    by_keyholder = people[1].browser.post(change, {"threshold": 2})
    proposed = people[0].browser.post(change, {"threshold": 2})
    assert by_keyholder.status_code == 403 and proposed.status_code == 201, proposed.get_json()
    pending = people[2].browser.get(change).get_json()["change"]
    assert pending["summary"] == ["threshold 0 -> 2"] and pending["needed"] == 2
    body = agent_keys.roster_change_body(wallet_id, pending["from"], pending["to"])
    first = people[1].browser.post(f"{change}/confirm", {"signature": people[1].sign("roster-change", body),
                                                         "to": pending["to"]})
    assert first.get_json()["change"]["state"] == "pending"
    assert people[0].browser.get(f"/wallets/{wallet_id}/roster").get_json()["pinned"]["roster"]["policy"][
        "threshold"] == 0
    second = people[2].browser.post(f"{change}/confirm", {"signature": people[2].sign("roster-change", body)})
    assert second.get_json()["change"]["state"] == "applied"
    pinned = people[0].browser.get(f"/wallets/{wallet_id}/roster").get_json()
    assert pinned["version"] == 2 and pinned["pinned"]["roster"]["policy"]["threshold"] == 2

    path, proposal = _propose(config, people, wallet_id)
    db = open_database(config.database)
    try:
        with pytest.raises(Conflict) as gated:
            quorum.require_approved(db, wallet_id, proposal["id"])
        assert gated.value.code == "approvals_needed" and gated.value.details["have"] == 0
        _agent_approve(people[1], path, proposal["intent"])
        _agent_approve(people[2], path, proposal["intent"])
        quorum.require_approved(db, wallet_id, proposal["id"])
    finally:
        db.close()


def test_a_roster_change_confirmation_by_a_non_keyholder_or_a_wrong_key_is_refused(app, config):
    people = group(app, config)
    wallet_id = ceremony(people)
    change = f"/wallets/{wallet_id}/roster/change"
    pending = people[0].browser.post(change, {"threshold": 1}).get_json()["change"]
    body = agent_keys.roster_change_body(wallet_id, pending["from"], pending["to"])

    wrong_key = people[1].browser.post(f"{change}/confirm", {"signature": people[2].sign("roster-change", body)})
    wrong_purpose = people[1].browser.post(f"{change}/confirm", {"signature": people[1].sign("roster-confirm", body)})
    stale = people[1].browser.post(f"{change}/confirm", {"signature": people[1].sign("roster-change", body),
                                                         "to": "00" * 32})

    assert wrong_key.get_json()["error"]["code"] == "bad_agent_signature"
    assert wrong_purpose.get_json()["error"]["code"] == "bad_agent_signature"
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "roster_moved"
    assert people[2].browser.get(change).get_json()["change"]["confirmed_by"] == []


def test_a_threshold_above_the_approvers_and_an_empty_change_are_refused(app, config):
    people = group(app, config)
    wallet_id = ceremony(people)
    change = f"/wallets/{wallet_id}/roster/change"

    too_high = people[0].browser.post(change, {"threshold": 4})
    empty = people[0].browser.post(change, {})
    nobody = people[0].browser.get(change)

    assert too_high.status_code == 400 and too_high.get_json()["error"]["code"] == "bad_roster_change"
    assert empty.status_code == 409 and empty.get_json()["error"]["code"] == "roster_change_empty"
    assert nobody.status_code == 404 and nobody.get_json()["error"]["code"] == "roster_change_not_found"
