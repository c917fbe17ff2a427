"""Verifying an address on one's own device, end to end (issue 13 Build 2, issue 12 Build 4):
a real ``huddle serve`` process (regtest, the sandbox as its chain), members over HTTP with
passkeys, and their agents, each the real ``huddle agent run`` script with a software device
that records every address it displayed. A member asks over REST; only their own agent
derives the address from its pinned descriptor, has the device show it, and answers; the
server compares it with its own derivation, records the check, and the wallet's room gets
``address_verified``. Refusals: no agent online, an agent that pinned another wallet, an
index within the server's gap limit but past the agent's, and a device that is no cosigner."""

from __future__ import annotations

import pytest

from .. import keys
from ..cli.runner import huddle, ok  # noqa: F401  (huddle is a fixture)
from ..sessions.ceremony_env import fund
from ..sessions.live import Member, sandbox, server, wait_for  # noqa: F401  (sandbox, server: fixtures)
from .test_agent_ceremony import AgentCli

WALLET = keys.descriptor(2, 3)  # seeds 0, 1, 2; seed 5 is no cosigner
PATH = keys.path(True, "wsh")


class Agent(AgentCli):
    """A member's agent with its software device's display log."""

    def __init__(self, tmp_path, seed: int, server, person, pinned=WALLET) -> None:
        super().__init__(tmp_path, seed, server.base)
        self.log = tmp_path / f"device{seed}.log"
        self.env["HUDDLE_AGENT_TEST_LOG"] = str(self.log)
        code = person.post("/agent/pairings").get_json()["code"]
        ok(self("pair", server.base, "--code", code))
        wallet_file = tmp_path / f"wallet{seed}.txt"
        wallet_file.write_text(pinned.to_string())
        ok(self("pin", wallet_file, "--name", "Co-op", "--network", "regtest"))
        self.running = None

    def start(self) -> None:
        self.running = self.run()
        self.running.wait_for("Connected to")

    def shown(self) -> list[str]:
        """What the device's screen showed: "<fingerprint> <path> <address>" lines."""
        shown = self.log.with_name(self.log.name + ".shown")
        return shown.read_text().splitlines() if shown.exists() else []

    def stop(self) -> None:
        if self.running is not None and self.running.process.poll() is None:
            self.running.interrupt()


@pytest.fixture
def group(server, sandbox, tmp_path):
    """Ada (admin) imports the wallet; Bob and Carol are keyholders; Ada watches the wallet's room."""
    ada = server.browser().register("/setup", token=server.setup_token, name="Ada")
    wallet_id = ada.post("/wallets/import", {"text": WALLET.to_string(), "name": "Co-op"}).get_json()["wallet"]["id"]
    people = [ada]
    for name in ("Bob", "Carol"):
        invite = ada.post(f"/wallets/{wallet_id}/invites", {"role": "keyholder"}).get_json()["token"]
        people.append(server.browser().register("/invites", token=invite, name=name))
    watcher = Member(server, cookie=ada.client.cookie())
    assert watcher.sio.call("join", {"wallet_id": wallet_id}, namespace="/wallets", timeout=10)["joined"] == wallet_id
    agents = []
    yield {"people": people, "wallet_id": wallet_id, "watcher": watcher, "agents": agents}
    for agent in agents:
        agent.stop()
    watcher.sio.disconnect()


def _event(watcher, request_id: str) -> dict:
    return wait_for(lambda: next((e for e in watcher.seen() if e["data"].get("request") == request_id), None),
                    what="the check's event in the wallet's room")


def test_a_member_verifies_a_receive_address_on_their_own_device(group, server, tmp_path):
    ada, bob, _ = group["people"]
    wallet_id, watcher = group["wallet_id"], group["watcher"]
    offline = ada.post(f"/wallets/{wallet_id}/address-checks", {"branch": "receive", "index": 0})
    assert (offline.status_code, offline.get_json()["error"]["code"]) == (409, "agent_offline")

    agents = [Agent(tmp_path, 0, server, ada), Agent(tmp_path, 1, server, bob)]
    group["agents"].extend(agents)
    for agent in agents:
        agent.start()
    handed = ada.post(f"/wallets/{wallet_id}/addresses", {"label": "dues"}).get_json()["address"]
    asked = ada.post(f"/wallets/{wallet_id}/address-checks", {"branch": "receive", "index": handed["index"]})
    assert asked.status_code == 201 and asked.get_json()["agents"] == 1, asked.get_json()
    request_id = asked.get_json()["request_id"]

    event = _event(watcher, request_id)
    assert event["type"] == "address_verified"
    assert event["data"] == {"wallet_id": wallet_id, "request": request_id, "user": ada.user["id"],
                             "fingerprint": keys.fingerprint(0), "device": "software", "branch": "receive",
                             "index": handed["index"], "address": handed["address"]}
    # Ada's device showed exactly that path; Bob's agent was never asked
    assert agents[0].shown() == [f"{keys.fingerprint(0)} {PATH}/0/{handed['index']} {handed['address']}"]
    assert agents[1].shown() == []
    line = agents[0].running.wait_for("Shown on software")
    assert handed["address"] in line
    assert "marked verified" in agents[0].running.wait_for("The server's own derivation agrees")
    [check] = bob.get(f"/wallets/{wallet_id}/address-checks").get_json()["checks"]
    assert (check["outcome"], check["name"], check["address"], check["fingerprint"]) == (
        "verified", "Ada", handed["address"], keys.fingerprint(0))
    chain = ada.get(f"/wallets/{wallet_id}/audit").get_json()
    assert chain["entries"][-1]["type"] == "address_verified"


def _refusal(group, person, index: int = 0) -> dict:
    asked = person.post(f"/wallets/{group['wallet_id']}/address-checks", {"branch": "receive", "index": index})
    assert asked.status_code == 201, asked.get_json()
    event = _event(group["watcher"], asked.get_json()["request_id"])
    assert event["type"] == "address_check_refused"
    return event["data"]


def test_an_agent_that_pinned_another_wallet_refuses_and_nothing_is_verified(group, server, tmp_path):
    bob = group["people"][1]
    agent = Agent(tmp_path, 1, server, bob, pinned=keys.descriptor(2, 3, first=1))
    group["agents"].append(agent)
    agent.start()

    refused = _refusal(group, bob)

    assert refused["code"] == "not_pinned"
    assert agent.shown() == []
    assert "not_pinned" in agent.running.wait_for("Refused to show")
    assert [c["outcome"] for c in bob.get(f"/wallets/{group['wallet_id']}/address-checks").get_json()["checks"]] \
        == ["refused"]


def test_an_index_the_server_allows_but_past_the_agents_gap_limit_is_refused(group, server, sandbox, tmp_path):
    ada = group["people"][0]
    fund(sandbox, tmp_path / "data" / "huddle.sqlite3", group["wallet_id"], index=10)  # the server saw 10 used
    agent = Agent(tmp_path, 0, server, ada)  # this agent never signed: it knows of no used address
    group["agents"].append(agent)
    agent.start()

    refused = _refusal(group, ada, index=25)

    assert refused["code"] == "gap_limit_reached"
    assert agent.shown() == []
    assert not agent.log.exists() or agent.log.read_text() == ""  # the device was never opened


def test_a_device_that_is_no_cosigner_is_never_asked_to_show(group, server, tmp_path):
    carol = group["people"][2]
    agent = Agent(tmp_path, 5, server, carol)  # Carol plugged in a device of another seed
    group["agents"].append(agent)
    agent.start()

    refused = _refusal(group, carol)

    assert refused["code"] == "device_not_found"
    assert agent.shown() == []
    assert not agent.log.exists() or agent.log.read_text() == ""
