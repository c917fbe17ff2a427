"""Issue 15's story on the sandbox, through the API: a 2-of-3 wallet (Ada, Bob and Carol,
each with an agent key) loses Carol's key; Ada starts a successor that keeps Ada's
and Bob's slots and gives Carol a slot for her new key; the three compare safety codes
and confirm the first address at their agents (checked here with embit apart from
Huddle); the sweep is approved by Ada's and Bob's agents, signed with their real
keys, uploaded, broadcast and confirmed; the old wallet is retired with its ledger
linked to the successor's both ways; a coin sent to it afterwards is flagged and
offered for the next sweep. The last test runs the story again with each member's
real ``huddle agent`` (software devices) approving and signing live."""

from __future__ import annotations

import base64

import pytest
from embit.descriptor import Descriptor
from embit.networks import NETWORKS

from coordinator.chain.esplora import EsploraClient
from coordinator.chain.sandbox import faucet
from coordinator.governance import audit, roster_audit, sweep
from coordinator.governance.roster import PinnedRoster
from coordinator.psbt import codec, sizes
from coordinator.sessions.watcher import sync_one
from coordinator.store import open_database, wallets
from coordinator.web import WebConfig, create_app

from ..cli.runner import ok
from ..hw.test_agent_ceremony import AgentCli, _set_up, _sign_live
from ..hw.test_agent_connection import Served
from ..sessions.ceremony_env import fund, signed_by, start_sandbox
from .conftest import ORIGIN, Browser, setup_token
from .funding import faucet_address
from .roster_world import Person, confirm, group, join, key_text

NEW_KEY = 3  # Carol lost seed 2 with her device; her new device holds seed 3


@pytest.fixture
def sandbox():
    server = start_sandbox()
    yield server
    server.stop()


def _sync(config, sandbox, wallet_id: int) -> None:
    """One round of the chain watcher for the wallet."""
    db = open_database(config.database)
    try:
        name = db.execute("SELECT name FROM wallets WHERE id = ?", [wallet_id]).fetchone()[0]
        with EsploraClient(sandbox.url, "regtest", retries=1) as backend:
            sync_one(db, wallets.get(db, name), backend)
    finally:
        db.close()


def _setup_wallet(people) -> int:
    made = people[0].browser.post("/drafts", {"name": "Co-op", "script_type": "wsh", "threshold": 2,
                                              "slots": [p.id for p in people]})
    base = f"/drafts/{made.get_json()['draft']['id']}"
    for position, person in enumerate(people):
        assert person.browser.post(f"{base}/slots/{position}", {"key": key_text(position)}).status_code == 200
    for position, person in enumerate(people):
        answer = confirm(person, base, position)
    return answer.get_json()["draft"]["wallet_id"]


def _successor(people, old_id: int) -> int:
    """Ada keeps slots 0 and 1; Carol fills slot 2 with her new key; safety codes and first addresses."""
    ada, bob, carol = people
    started = ada.browser.post(f"/wallets/{old_id}/successor", {
        "slots": [{"keep": 0}, {"keep": 1}, {"owner": carol.id}], "threshold": 2})
    assert started.status_code == 201, started.get_json()
    draft = started.get_json()["draft"]
    assert [s["key"] for s in draft["slots"]][:2] == [key_text(0), key_text(1)] and draft["slots"][2]["key"] is None
    base = f"/drafts/{draft['id']}"
    filled = carol.browser.post(f"{base}/slots/2", {"key": key_text(NEW_KEY)})
    assert filled.status_code == 200, filled.get_json()
    shown = [p.browser.get(f"{base}/roster").get_json() for p in people]
    assert len({s["safety_code"] for s in shown}) == 1  # read aloud on the call: the same six words
    inner = ",".join(f"{key_text(i)}/0/*" for i in (0, 1, NEW_KEY))
    first = Descriptor.from_string(f"wsh(sortedmulti(2,{inner}))").derive(0).address(NETWORKS["regtest"])
    assert shown[0]["first_address"] == first  # what each device shows, derived apart from Huddle
    for position, person in enumerate(people):
        answer = confirm(person, base, position)
        assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["draft"]["state"] == "active"
    return answer.get_json()["draft"]["wallet_id"]


def _sweep(app, people, old_id: int) -> str:
    ada, bob, _ = people
    made = bob.browser.post(f"/wallets/{old_id}/sweeps", {"fee_rate": 2_000})
    assert made.status_code == 201, made.get_json()
    [proposal] = made.get_json()["proposals"]
    path = f"/wallets/{old_id}/proposals/{proposal['id']}"
    for person in (ada, bob):  # the two keyholders whose keys remain approve at their agents
        approved = person.as_agent("POST", f"{path}/approvals/agent",
                                   {"signature": person.sign("approval", proposal["intent"])})
        assert approved.status_code == 201, approved.get_json()
    unsigned = bob.browser.get(f"{path}/psbt")
    assert unsigned.status_code == 200
    raw = base64.b64encode(unsigned.data).decode()
    for person, seed in ((ada, 0), (bob, 1)):  # real signatures from the two remaining keys
        sent = person.browser.post(f"{path}/signatures", {"psbt": signed_by(raw, seed)})
        assert sent.status_code in (200, 201), sent.get_json()
    broadcast = bob.browser.post(f"{path}/broadcast")
    assert broadcast.status_code == 200, broadcast.get_json()
    return path


def test_a_lost_key_successor_sweep_retirement_and_a_late_coin(app, config, sandbox):
    app.config["HUDDLE_CHAIN"] = f"esplora:{sandbox.url}"
    people = group(app, config)
    ada, bob, carol = people
    old_id = _setup_wallet(people)
    fund(sandbox, config.database, old_id, 120_000, index=0)
    fund(sandbox, config.database, old_id, 80_000, index=1)

    pending = bob.browser.post(f"/wallets/{old_id}/proposals", {
        "payments": [{"address": faucet_address(), "amount": 20_000}], "memo": "roof", "fee_rate": 2_000})
    assert pending.status_code == 201, pending.get_json()

    new_id = _successor(people, old_id)  # Carol's seed 2 is lost
    closed = bob.browser.get(f"/wallets/{old_id}/proposals/{pending.get_json()['proposal']['id']}").get_json()
    assert closed["proposal"]["state"] == "cancelled"  # its coin goes to the sweep
    refused = bob.browser.post(f"/wallets/{old_id}/proposals", {
        "payments": [{"address": "bcrt1qg3pyysjzgfpyysjzgfpyysjzgfpyysjzyedenw", "amount": 10_000}],
        "memo": "anything", "fee_rate": 2_000})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "wallet_retired"

    path = _sweep(app, people, old_id)
    sandbox.chain.mine(1)
    _sync(config, sandbox, old_id)
    _sync(config, sandbox, new_id)
    shown = bob.browser.get(f"{path}/ceremony").get_json()
    assert shown["ceremony"]["state"] == "confirmed", shown
    balances = {w["id"]: w["balance"]["confirmed"] for w in ada.browser.get("/wallets").get_json()["wallets"]}
    assert balances[old_id] == 0 and 199_000 < balances[new_id] < 200_000

    old_ledger = ada.browser.get(f"/wallets/{old_id}/ledger").get_json()["ledger"]
    new_ledger = ada.browser.get(f"/wallets/{new_id}/ledger").get_json()["ledger"]
    assert old_ledger["retired"] and old_ledger["successor"]["wallet_id"] == new_id
    assert new_ledger["predecessor"]["wallet_id"] == old_id and not new_ledger["retired"]
    assert new_ledger["successor"] is None and old_ledger["predecessor"] is None
    assert {old_ledger["successor"]["policy_id"], new_ledger["predecessor"]["policy_id"]} == {
        wallets_descriptor(config, new_id).policy_id, wallets_descriptor(config, old_id).policy_id}
    db = open_database(config.database)
    old_chain = [e.type for e in audit.entries(db, audit.wallet_chain(old_id))]
    new_chain = {e.type: e.body for e in audit.entries(db, audit.wallet_chain(new_id))}
    db.close()
    assert "successor_started" in old_chain and "wallet_retired" in old_chain and "sweep_proposed" in old_chain
    assert new_chain["successor_of"]["predecessor"]["wallet"] == old_id
    for wallet_id in (old_id, new_id):  # each chain checks out against the roster its agents pinned at setup
        pinned = ada.browser.get(f"/wallets/{wallet_id}/roster").get_json()["pinned"]["roster"]
        db = open_database(config.database)
        checked = roster_audit.verify_wallet_chain(audit.entries(db, audit.wallet_chain(wallet_id)),
                                                   PinnedRoster.from_dict(pinned))
        db.close()
        assert checked["agent_approvals"] == (2 if wallet_id == old_id else 0), checked

    late = wallets_descriptor(config, old_id).script_pubkey(0, 5).data
    faucet.pay(sandbox.chain, late, 30_000, confirm=True)
    _sync(config, sandbox, old_id)
    status = carol.browser.get(f"/wallets/{old_id}/succession").get_json()
    [flagged] = status["late_coins"]
    assert flagged["value"] == 30_000 and flagged["outpoint"] in status["unswept"]
    assert ada.browser.get(f"/wallets/{old_id}/ledger").get_json()["ledger"]["late_coins"][0]["outpoint"] == flagged["outpoint"]
    again = bob.browser.post(f"/wallets/{old_id}/sweeps", {"fee_rate": 2_000})
    assert again.status_code == 201 and again.get_json()["proposals"][0]["sweep"]["coins"] == 1


def wallets_descriptor(config, wallet_id: int):
    db = open_database(config.database)
    try:
        name = db.execute("SELECT name FROM wallets WHERE id = ?", [wallet_id]).fetchone()[0]
        return wallets.get(db, name).descriptor
    finally:
        db.close()


def test_coins_that_do_not_fit_one_transaction_are_swept_in_several_proposals(app, config, sandbox):
    """Five coins, and a relay limit (lowered for the test) that fits two inputs: three
    sweep proposals, each within the limit, to three fresh successor addresses."""
    people = group(app, config)
    old_id = _setup_wallet(people)
    for index, amount in enumerate((50_000, 40_000, 30_000, 20_000, 10_000)):
        fund(sandbox, config.database, old_id, amount, index=index)
    new_id = _successor(people, old_id)
    db = open_database(config.database)
    try:
        old = wallets.get(db, db.execute("SELECT name FROM wallets WHERE id = ?", [old_id]).fetchone()[0])
        new = wallets.get(db, db.execute("SELECT name FROM wallets WHERE id = ?", [new_id]).fetchone()[0])
        shape = sweep.shape_of(old, new.descriptor.script_pubkey(0, 0).data)
        limit = shape.weight(2) + sweep.MARGIN_WEIGHT
        made = sweep.propose(db, old_id, people[1].id, 2_000, max_weight=limit)
    finally:
        db.close()
    parts = made["proposals"]
    assert [(p["sweep"]["batch"], p["sweep"]["batches"], p["sweep"]["coins"]) for p in parts] == [
        (1, 3, 2), (2, 3, 2), (3, 3, 1)]
    assert len({p["sweep"]["address"] for p in parts}) == 3
    spent = set()
    for p in parts:
        psbt = codec.parse(people[1].browser.get(f"/wallets/{old_id}/proposals/{p['id']}/psbt").data)
        spent |= {(i.txid.hex(), i.vout) for i in psbt.tx.vin}
        weight = sizes.tx_weight([shape.input_weight] * len(psbt.tx.vin), [shape.output_weight])
        assert weight <= limit and len(psbt.tx.vout) == 1
    assert len(spent) == 5
    status = people[0].browser.get(f"/wallets/{old_id}/succession").get_json()
    assert status["unswept"] == [] and [s["batch"] for s in status["sweeps"]] == [1, 2, 3]


def test_the_story_with_real_agents(tmp_path, sandbox):
    """The same story with each member's real ``huddle agent`` (its own software device and
    agent key) on a loopback server: Carol's new device comes with a newly paired agent."""
    config = WebConfig(tmp_path / "server.sqlite3", "s" * 32, ORIGIN, network="regtest")
    app = create_app(config)
    app.config["HUDDLE_CHAIN"] = f"esplora:{sandbox.url}"
    served = Served(app)
    try:
        admin = Browser(app.test_client()).register("/setup", token=setup_token(config), name="Ada")
        people = [Person(app, admin), Person(app, join(app, admin, "Bob")), Person(app, join(app, admin, "Carol"))]
        url = f"http://127.0.0.1:{served.port}"
        agents = [AgentCli(tmp_path, i, url) for i in range(3)]
        for person, agent in zip(people, agents):
            ok(agent("pair", url, "--code", person.browser.post("/agent/pairings").get_json()["code"]))
        world = {"config": config, "people": people, "agents": agents}
        old_id, _ = _set_up(world)
        fund(sandbox, config.database, old_id, 120_000)

        carol_new = AgentCli(tmp_path, NEW_KEY, url)  # seed 2 is lost with Carol's device
        ok(carol_new("pair", url, "--code", people[2].browser.post("/agent/pairings").get_json()["code"]))
        started = people[0].browser.post(f"/wallets/{old_id}/successor", {
            "slots": [{"keep": 0}, {"keep": 1}, {"owner": people[2].id}], "threshold": 2, "name": "Co-op two"})
        assert started.status_code == 201, started.get_json()
        draft_id = started.get_json()["draft"]["id"]
        key = ok(carol_new("xpub", "--network", "regtest", "--script-type", "wsh", "--yes")).strip()
        assert people[2].browser.post(f"/drafts/{draft_id}/slots/2", {"key": key}).status_code == 200
        codes = set()
        for agent in (agents[0], agents[1], carol_new):
            out = ok(agent("confirm-setup", draft_id, input="y\n"))
            codes.add(next(line for line in out.splitlines() if line.startswith("Safety code: ")))
        assert len(codes) == 1 and "draft active" in out

        made = people[1].browser.post(f"/wallets/{old_id}/sweeps", {"fee_rate": 2_000})
        assert made.status_code == 201, made.get_json()
        proposal_id = made.get_json()["proposals"][0]["id"]
        path = f"/wallets/{old_id}/proposals/{proposal_id}"
        for agent in agents[:2]:
            ok(agent("approve", proposal_id, "--wallet", "Co-op", "--yes"))
        for signer in (0, 1):
            _sign_live(world, path, signer)
        assert people[1].browser.post(f"{path}/broadcast").status_code == 200
        sandbox.chain.mine(1)
        _sync(config, sandbox, old_id)
        assert people[0].browser.get(f"{path}/ceremony").get_json()["ceremony"]["state"] == "confirmed"
        assert people[0].browser.get(f"/wallets/{old_id}/ledger").get_json()["ledger"]["retired"]
    finally:
        served.stop()
