"""`huddle audit export` and `huddle audit verify`, run as the real script: a
chain verifies; an edited row makes verify fail and name the entry."""

from __future__ import annotations

import json

from coordinator.accounts import invites, setup
from coordinator.governance import agent_keys, audit
from coordinator.store import open_database, wallets
from coordinator.web import WebConfig, create_app

from .. import keys
from ..cli.runner import Huddle, fails, huddle, ok, run  # noqa: F401  (fixtures)
from ..web.conftest import ORIGIN
from ..web.funding import faucet_address, fund_and_sync
from ..web.roster_world import ceremony, group


def _chain(run) -> str:
    run.data_dir.mkdir(parents=True, exist_ok=True)
    db = open_database(run.database)
    admin = setup.complete(db, setup.issue_token(db), "Ada")
    wallet = wallets.add(db, "Co-op vault", "testnet", keys.descriptor(2, 3))
    for role in ("keyholder", "keyholder", "viewer"):
        invites.create(db, wallet.id, role, admin.id)
    db.close()
    return f"wallet:{wallet.id}"


def test_an_exported_chain_verifies(run, tmp_path):
    chain = _chain(run)
    exported = tmp_path / "chain.jsonl"
    exported.write_text(ok(run("audit", "export", chain)))

    out = json.loads(ok(run("audit", "verify", str(exported), "--json")))

    assert out["chain"] == chain and out["entries"] == 4 and out["head"].startswith("4:")


def test_an_edited_row_fails_verify_naming_the_entry(run, tmp_path):
    chain = _chain(run)
    db = open_database(run.database)
    db.execute("DROP TRIGGER audit_log_no_update")
    db.execute("UPDATE audit_log SET body = replace(body, 'viewer', 'admin') WHERE chain = ? AND seq = 4", [chain])
    db.close()
    exported = tmp_path / "chain.jsonl"
    exported.write_text(ok(run("audit", "export", chain)))

    line = fails(run("audit", "verify", str(exported)), 3, "audit_chain_broken")

    assert "breaks at entry 4" in line


def test_an_entry_cut_from_the_file_is_named(run, tmp_path):
    lines = ok(run("audit", "export", _chain(run))).splitlines()
    exported = tmp_path / "chain.jsonl"
    exported.write_text("\n".join([lines[0], lines[2]]) + "\n")

    assert "breaks at entry 3" in fails(run("audit", "verify", str(exported)), 3, "audit_chain_broken")


def test_a_file_that_is_not_a_chain_is_refused(run, tmp_path):
    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"not": "an entry"}\n')

    fails(run("audit", "verify", str(junk)), 3, "audit_malformed")


# Version 2 rosters: the roster pinned at the setup ceremony, agent approvals and
# roster changes, checked from the exported chain on the member's own machine.

def _agent_world(huddle, tmp_path):
    """A ceremony with agents, a proposal approved by two agents, and the threshold
    raised to 2 by two keyholders' agents; the runner and the people."""
    run = Huddle(huddle, tmp_path / "data", network="regtest")
    run.data_dir.mkdir()
    config = WebConfig(run.database, "s" * 32, ORIGIN, network="regtest")
    people = group(create_app(config), config)
    wallet_id = ceremony(people)
    fund_and_sync(config, wallet_id)
    proposal = people[1].browser.post(f"/wallets/{wallet_id}/proposals", {
        "payments": [{"address": faucet_address(), "amount": 20_000}], "memo": "roof", "fee_rate": 2_000}).get_json()
    path = f"/wallets/{wallet_id}/proposals/{proposal['proposal']['id']}"
    for person in people[1:]:
        answer = person.as_agent("POST", f"{path}/approvals/agent",
                                 {"signature": person.sign("approval", proposal["proposal"]["intent"])})
        assert answer.status_code == 201, answer.get_json()
    change = f"/wallets/{wallet_id}/roster/change"
    pending = people[0].browser.post(change, {"threshold": 2}).get_json()["change"]
    body = agent_keys.roster_change_body(wallet_id, pending["from"], pending["to"])
    for person in people[:2]:
        answer = person.browser.post(f"{change}/confirm", {"signature": person.sign("roster-change", body)})
        assert answer.status_code == 200, answer.get_json()
    return run, wallet_id, people


def _export(run, tmp_path, chain: str, roster_text: str):
    chain_file, roster_file = tmp_path / "chain.jsonl", tmp_path / "roster.json"
    chain_file.write_text(ok(run("audit", "export", chain)))
    roster_file.write_text(roster_text)
    return str(chain_file), str(roster_file)


def _setup_roster(run, wallet_id: int) -> str:
    """The roster the ceremony pinned, as each member's agent kept it (version 1 of the wallet's)."""
    db = open_database(run.database)
    body = db.execute("SELECT body FROM pinned_rosters WHERE wallet_id = ? AND version = 1", [wallet_id]).fetchone()
    db.close()
    return body[0]


def test_agent_approvals_and_a_roster_change_verify_against_the_pinned_roster(huddle, tmp_path):
    run, wallet_id, _ = _agent_world(huddle, tmp_path)
    files = _export(run, tmp_path, f"wallet:{wallet_id}", _setup_roster(run, wallet_id))

    out = json.loads(ok(run("audit", "verify", *files[:1], "--roster", files[1], "--json")))

    assert (out["approvals"], out["agent_approvals"], out["roster_changes"], out["anchored_at"]) == (0, 2, 1, 1)
    latest = ok(run("audit", "roster", "Co-op", "--origin", ORIGIN))
    assert json.loads(latest)["policy"]["threshold"] == 2
    later = _export(run, tmp_path, f"wallet:{wallet_id}", latest)
    assert json.loads(ok(run("audit", "verify", later[0], "--roster", later[1], "--json")))["anchored_at"] > 1


def test_an_agent_approval_row_with_a_bad_signature_fails_verify_naming_the_entry(huddle, tmp_path):
    run, wallet_id, people = _agent_world(huddle, tmp_path)
    db = open_database(run.database)
    family = db.execute("SELECT family_id, id FROM proposals WHERE wallet_id = ?", [wallet_id]).fetchone()
    forged = audit.append_to_wallet(db, wallet_id, "agent_approval_added", {
        "proposal": family[1], "family": family[0], "member": people[0].id,
        "agent_key": db.execute("SELECT public_key FROM agent_keys WHERE user_id = ?", [people[0].id]).fetchone()[0],
        "signature": "11" * 64}, actor=f"user:{people[0].id}")
    db.close()
    files = _export(run, tmp_path, f"wallet:{wallet_id}", _setup_roster(run, wallet_id))

    line = fails(run("audit", "verify", files[0], "--roster", files[1]), 3, "audit_approval_invalid")

    assert f"audit entry {forged.seq} (agent_approval_added)" in line


def test_a_roster_change_confirmed_by_a_forged_signature_fails_verify_naming_the_entry(huddle, tmp_path):
    run, wallet_id, people = _agent_world(huddle, tmp_path)
    db = open_database(run.database)
    proposed = [e for e in audit.entries(db, f"wallet:{wallet_id}") if e.type == "roster_change_proposed"][0]
    for_it = {"change": 99, "from": proposed.body["to"], "to": proposed.body["to"], "roster": proposed.body["roster"],
              "summary": []}
    audit.append_to_wallet(db, wallet_id, "roster_change_proposed", for_it, actor=f"user:{people[0].id}")
    key = db.execute("SELECT public_key FROM agent_keys WHERE user_id = ?", [people[2].id]).fetchone()[0]
    forged = audit.append_to_wallet(db, wallet_id, "roster_change_confirmed", {
        "change": 99, "from": for_it["from"], "to": for_it["to"], "member": people[2].id, "agent_key": key,
        "signature": "22" * 64}, actor=f"user:{people[2].id}")
    db.close()
    files = _export(run, tmp_path, f"wallet:{wallet_id}", _setup_roster(run, wallet_id))

    line = fails(run("audit", "verify", files[0], "--roster", files[1]), 3, "audit_roster_invalid")

    assert f"audit entry {forged.seq} (roster_change_confirmed)" in line


def test_a_roster_the_keyholders_never_pinned_fails_verify(huddle, tmp_path):
    run, wallet_id, _ = _agent_world(huddle, tmp_path)
    other = json.loads(_setup_roster(run, wallet_id))
    other["origin"] = "https://evil.example"
    files = _export(run, tmp_path, f"wallet:{wallet_id}", json.dumps(other))

    line = fails(run("audit", "verify", files[0], "--roster", files[1]), 3, "audit_roster_invalid")

    assert "none of the rosters this chain put in force" in line


def test_the_setup_chains_agent_confirmations_verify_against_the_pinned_roster(huddle, tmp_path):
    run, wallet_id, _ = _agent_world(huddle, tmp_path)
    files = _export(run, tmp_path, "setup:1", _setup_roster(run, wallet_id))

    out = json.loads(ok(run("audit", "verify", files[0], "--roster", files[1], "--json")))

    assert out["agent_confirmations"] == 3 and out["safety_code"].count(" ") == 5
