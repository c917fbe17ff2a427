"""Three members' agents, each the real ``huddle agent`` script with a software device,
against the real app on a loopback HTTP server: they pair (registering agent keys),
fill their slots with the keys their devices export, confirm the setup at the terminal
after comparing safety codes (pinning the roster), approve a spend, sign it live through
``huddle agent run`` (the second agent checks the first one's signed head), add the
third signature by an offline-signed file, and confirm a roster change that M of them
must accept (the agent that confirmed first adopts it from the chain)."""

from __future__ import annotations

import base64
import os
import queue
import signal
import subprocess
import threading

import pytest
from embit.psbt import PSBT

from coordinator.governance import agent_keys
from coordinator.hw.pinned import PinStore
from coordinator.psbt.status import status
from coordinator.store import open_database, wallets
from coordinator.web import WebConfig, create_app

from ..cli.runner import HUDDLE, fails, ok
from ..web.conftest import ORIGIN, Browser, setup_token
from ..web.funding import faucet_address, fund_and_sync
from ..web.roster_world import Person, join
from .test_agent_connection import Served


class AgentCli:
    """One member's agent: the real script, its own directory, its software device (seed i)."""

    def __init__(self, tmp_path, i: int, url: str, install: str = "") -> None:
        self.dir, self.url = tmp_path / f"agent{i}{install}", url
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
        self.env.update(HUDDLE_AGENT_DIR=str(self.dir), HUDDLE_AGENT_TEST_DEVICES="tests.hw.software_device:from_env",
                        HUDDLE_AGENT_TEST_SEEDS=str(i), HUDDLE_AGENT_TEST_CHAIN="regtest",
                        HUDDLE_DATA=str(tmp_path / f"data{i}"))

    def __call__(self, *args, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([str(HUDDLE), "agent", *map(str, args)], env=self.env, input=input,
                              capture_output=True, text=True, timeout=90)

    def run(self) -> "Running":
        return Running(subprocess.Popen([str(HUDDLE), "agent", "run", "--network", "regtest"], env=self.env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))


class Running:
    """``huddle agent run`` in its own process, its status lines in a queue."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process, self.lines = process, queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(l.rstrip("\n")) for l in process.stdout], daemon=True).start()

    def wait_for(self, text: str) -> str:
        while True:
            line = self.lines.get(timeout=60)
            if text in line:
                return line

    def interrupt(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)  # Ctrl-C
        code = self.process.wait(timeout=20)
        return code, self.wait_for("Stopped.")


@pytest.fixture
def world(tmp_path):
    config = WebConfig(tmp_path / "server.sqlite3", "s" * 32, ORIGIN, network="regtest")
    app = create_app(config)
    served = Served(app)
    admin = Browser(app.test_client()).register("/setup", token=setup_token(config), name="Ada")
    people = [Person(app, admin), Person(app, join(app, admin, "Bob")), Person(app, join(app, admin, "Carol"))]
    url = f"http://127.0.0.1:{served.port}"
    agents = [AgentCli(tmp_path, i, url) for i in range(3)]
    for person, agent in zip(people, agents):
        code = person.browser.post("/agent/pairings").get_json()["code"]
        assert "registered with the server" in ok(agent("pair", url, "--code", code))
    yield {"config": config, "people": people, "agents": agents}
    served.stop()


def _draft(world, script_type: str = "wsh") -> str:
    """Ada drafts a 2-of-3; each member fills their slot with the key their agent's device exported."""
    people, agents = world["people"], world["agents"]
    made = people[0].browser.post("/drafts", {"name": "Co-op", "script_type": script_type, "threshold": 2,
                                              "slots": [p.id for p in people]})
    assert made.status_code == 201, made.get_json()
    base = f"/drafts/{made.get_json()['draft']['id']}"
    for position, (person, agent) in enumerate(zip(people, agents)):
        key = ok(agent("xpub", "--network", "regtest", "--script-type", script_type, "--yes")).strip()
        filled = person.browser.post(f"{base}/slots/{position}", {"key": key})
        assert filled.status_code == 200, filled.get_json()
    return base


def _set_up(world, script_type: str = "wsh") -> tuple[int, list[str]]:
    people, agents = world["people"], world["agents"]
    base = _draft(world, script_type)
    draft_id = int(base.rsplit("/", 1)[1])
    codes, out = [], ""
    for agent in agents:
        out = ok(agent("confirm-setup", draft_id, input="y\n"))
        codes.append(next(line for line in out.splitlines() if line.startswith("Safety code: ")))
    assert "draft active" in out
    db = open_database(world["config"].database)
    wallet_id = wallets.get(db, "Co-op").id
    db.close()
    return wallet_id, codes


@pytest.mark.parametrize("script_type", ["wsh", "sh-wsh"])
def test_agents_confirm_the_setup_pin_the_roster_and_read_the_same_safety_code(world, script_type):
    people, agents = world["people"], world["agents"]
    shown = people[1].browser.get(f"{_draft(world, script_type)}/roster")
    assert shown.status_code == 200
    declined = agents[1]("confirm-setup", int(shown.get_json()["draft"]), input="n\n")
    fails(declined, 5, "device_declined")  # nothing signed, nothing posted, nothing pinned
    assert PinStore(agents[1].dir).all() == []

    for agent in agents:
        out = ok(agent("confirm-setup", shown.get_json()["draft"], input="y\n"))
        assert f"Safety code: {shown.get_json()['safety_code']}" in out
        assert "as your device" in out and shown.get_json()["first_address"] in out
    for agent in agents:
        wallet = PinStore(agent.dir).get("Co-op")
        assert wallet.roster == shown.get_json()["roster"] and wallet.safety_code == shown.get_json()["safety_code"]
        listed = ok(agent("wallets"))
        assert listed.startswith("Co-op  2-of-3") and f"safety code: {wallet.safety_code}" in listed


def test_a_spend_is_approved_and_signed_live_by_two_agents(world):
    people, agents, config = world["people"], world["agents"], world["config"]
    wallet_id, codes = _set_up(world)
    assert len(set(codes)) == 1
    path = _proposal(world, wallet_id)

    approved = ok(agents[2]("approve", path.rsplit("/", 1)[1], "--wallet", "Co-op", input="y\n"))
    assert faucet_address() in approved and "'roof'" in approved
    quorum = people[0].browser.get(f"{path}/quorum").get_json()
    assert quorum["approved_by"] == [people[2].id]

    for signer in (1, 2):  # Bob's agent first; Carol's then checks Bob's signed head
        _sign_live(world, path, signer)

    # the third signature by file: Ada's agent signs the downloaded PSBT offline, her browser uploads it
    downloaded = people[0].browser.get(f"{path}/psbt")
    unsigned = agents[0].dir.parent / "proposal.psbt"
    unsigned.write_bytes(downloaded.data)
    signed = ok(agents[0]("sign", unsigned, "--wallet", "Co-op")).strip()
    uploaded = people[0].browser.post(f"{path}/signatures", {"psbt": signed})
    inputs = len(PSBT.parse(downloaded.data).inputs)
    assert uploaded.status_code == 201 and uploaded.get_json()["added"] == inputs, uploaded.get_json()

    ceremony = people[0].browser.get(f"{path}/ceremony").get_json()
    psbt = PSBT.parse(base64.b64decode(ceremony["psbt"]))
    db = open_database(config.database)
    descriptor = wallets.get(db, "Co-op").descriptor
    db.close()
    done = [c.fingerprint for c in status(psbt, descriptor).cosigners if c.done]
    assert sorted(done) == sorted(c.fingerprint for c in descriptor.cosigners)
    assert ceremony["ceremony"]["state"] == "ready"


def test_a_roster_change_is_pinned_once_m_keyholders_confirm_it_at_their_agents(world):
    people, agents = world["people"], world["agents"]
    wallet_id, _ = _set_up(world)
    proposed = people[0].browser.post(f"/wallets/{wallet_id}/roster/change", {"threshold": 2})
    assert proposed.status_code == 201, proposed.get_json()
    change = proposed.get_json()["change"]

    first = ok(agents[1]("roster-change", change["id"], "--wallet", "Co-op", input="y\n"))
    assert "threshold 0 -> 2" in first and f"New safety code: {change['safety_code']}" in first
    assert "1 of 2 keyholders" in first
    assert PinStore(agents[1].dir).get("Co-op").pinned_roster().threshold == 0  # not applied yet

    second = ok(agents[2]("roster-change", change["id"], "--wallet", "Co-op", "--yes"))
    assert "applied" in second
    pinned = PinStore(agents[2].dir).get("Co-op")
    assert pinned.roster == change["roster"] and pinned.pinned_roster().threshold == 2
    assert pinned.safety_code == agent_keys.safety_code(change["roster"])

    # Bob's agent confirmed first: it adopts the change from the chain at its next sign request
    path = _proposal(world, wallet_id)
    for approver in (1, 2):
        ok(agents[approver]("approve", path.rsplit("/", 1)[1], "--wallet", "Co-op", "--yes"))
    _sign_live(world, path, 1)
    assert PinStore(agents[1].dir).get("Co-op").roster == change["roster"]


def _proposal(world, wallet_id: int) -> str:
    fund_and_sync(world["config"], wallet_id)
    made = world["people"][1].browser.post(f"/wallets/{wallet_id}/proposals", {
        "payments": [{"address": faucet_address(), "amount": 20_000}], "memo": "roof", "fee_rate": 2_000})
    assert made.status_code == 201, made.get_json()
    return f"/wallets/{wallet_id}/proposals/{made.get_json()['proposal']['id']}"


def _sign_live(world, path: str, signer: int) -> None:
    """``huddle agent run`` for member ``signer``, asked to sign by Ada over the API, then Ctrl-C."""
    people = world["people"]
    running = world["agents"][signer].run()
    try:
        running.wait_for("Connected to")
        asked = people[0].browser.post(f"{path}/sign-requests", {"user": people[signer].id})
        assert asked.status_code == 201 and asked.get_json()["agents"] == 1, asked.get_json()
        assert "signature(s) added" in running.wait_for("The server took the result")
    finally:
        code, line = running.interrupt()
    assert code == 0 and line == "Stopped."


def test_an_agent_installed_again_pins_the_wallets_roster_and_signs_live(world, tmp_path):
    people = world["people"]
    wallet_id, codes = _set_up(world)
    again = AgentCli(tmp_path, 1, world["agents"][1].url, install="-again")  # Bob's laptop, reinstalled
    code = people[1].browser.post("/agent/pairings").get_json()["code"]
    ok(again("pair", again.url, "--code", code))

    fails(again("pin-roster", wallet_id, input="n\n"), 5, "device_declined")
    pinned = ok(again("pin-roster", wallet_id, input="y\n"))
    assert codes[0] in pinned and "Pinned 'Co-op' with its roster" in pinned
    assert codes[0].split(": ", 1)[1] in ok(again("wallets"))

    world["agents"][1] = again
    _sign_live(world, _proposal(world, wallet_id), 1)
