"""Issue 12's "Done when", end to end: a real ``huddle serve`` process (regtest, the sandbox
chain as its backend, a watcher every second), and two members' agents, each the real
``huddle agent`` script with its software device. They pair with codes their members made
over HTTP, export their xpubs into a wallet-setup draft (Carol, who has no agent, pastes
her key), confirm the setup at the terminal reading one safety code, and sign a spend live
through ``huddle agent run``; Carol's signature comes by file upload; the spend is
broadcast to the sandbox, mined, and the server's watcher marks it confirmed.

The wallet is a 3-of-3. The text asks for two live agent signatures *and* a third by file:
in a 3-of-3 each of the three is needed, so the file upload is what completes the
signature set and the broadcast proves all three counted. (In a 2-of-3 the third would
be decorative, or one agent's live signature would not be needed.)"""

from __future__ import annotations

import base64

import httpx
from embit.psbt import PSBT

from coordinator.hw.pinned import PinStore

from ..cli.runner import huddle, ok  # noqa: F401  (huddle is a fixture)
from ..psbt.chain import sign
from ..sessions.ceremony_env import fund
from ..sessions.live import sandbox, server, wait_for  # noqa: F401  (sandbox, server: fixtures)
from ..web.funding import faucet_address
from ..web.roster_world import key_text
from .test_agent_ceremony import AgentCli

CAROL = 2  # test seed of Carol's key: not on any agent, she signs a file


def _people(server):
    """Ada (the server's admin) and Bob and Carol, invited; each signed in with a passkey."""
    ada = server.browser().register("/setup", token=server.setup_token, name="Ada")
    people = [ada]
    for name in ("Bob", "Carol"):
        made = ada.post("/invites", {})
        assert made.status_code == 201, made.get_json()
        people.append(server.browser().register("/invites", token=made.get_json()["token"], name=name))
    return people


def _pair(server, people, tmp_path) -> list[AgentCli]:
    """1. Ada's and Bob's agents pair with codes their members made over HTTP."""
    agents = []
    for i, person in enumerate(people[:2]):
        agent = AgentCli(tmp_path, i, server.base)
        made = person.post("/agent/pairings")
        assert made.status_code == 201, made.get_json()
        assert "registered with the server" in ok(agent("pair", server.base, "--code", made.get_json()["code"]))
        agents.append(agent)
    return agents


def _setup(people, agents) -> int:
    """2. the agents' xpubs and Carol's pasted key fill a 3-of-3 draft; 3. all confirm it."""
    made = people[0].post("/drafts", {"name": "Co-op", "script_type": "wsh", "threshold": 3,
                                      "slots": [p.user["id"] for p in people]})
    assert made.status_code == 201, made.get_json()
    draft_id = made.get_json()["draft"]["id"]
    base = f"/drafts/{draft_id}"
    keys_in = [ok(agent("xpub", "--network", "regtest", "--script-type", "wsh", "--yes")).strip() for agent in agents]
    keys_in.append(key_text(CAROL))
    for position, (person, key) in enumerate(zip(people, keys_in)):
        filled = person.post(f"{base}/slots/{position}", {"key": key})
        assert filled.status_code == 200, filled.get_json()

    shown = people[CAROL].get(f"{base}/roster").get_json()
    codes = []
    for agent in agents:
        out = ok(agent("confirm-setup", draft_id, input="y\n"))
        codes.append(next(line for line in out.splitlines() if line.startswith("Safety code: ")).split(": ", 1)[1])
        assert shown["first_address"] in out  # shown on the device for the group to compare
    assert codes == [shown["safety_code"]] * 2  # the same code at every agent and in Carol's browser
    confirmed = people[CAROL].post(f"{base}/slots/{CAROL}/confirm", {"address": shown["first_address"]})
    assert confirmed.status_code == 200, confirmed.get_json()
    assert confirmed.get_json()["draft"]["state"] == "active"
    for agent in agents:
        assert PinStore(agent.dir).get("Co-op").safety_code == shown["safety_code"]
    return confirmed.get_json()["draft"]["wallet_id"]


def _sign_live(people, agents, path: str, signer: int) -> None:
    """4. ``huddle agent run`` for member ``signer``, asked to sign by Ada over REST, then Ctrl-C."""
    running = agents[signer].run()
    try:
        running.wait_for("Connected to")
        asked = people[0].post(f"{path}/sign-requests", {"user": people[signer].user["id"]})
        assert asked.status_code == 201 and asked.get_json()["agents"] == 1, asked.get_json()
        assert "signature(s) added" in running.wait_for("The server took the result")
    finally:
        code, line = running.interrupt()
    assert code == 0 and line == "Stopped."


def test_two_agents_pair_set_up_a_wallet_sign_live_and_a_file_completes_the_spend(server, sandbox, tmp_path):
    people = _people(server)
    agents = _pair(server, people, tmp_path)
    wallet_id = _setup(people, agents)
    fund(sandbox, tmp_path / "data" / "huddle.sqlite3", wallet_id)
    made = people[1].post(f"/wallets/{wallet_id}/proposals", {
        "payments": [{"address": faucet_address(), "amount": 20_000}], "memo": "roof", "fee_rate": 2_000})
    assert made.status_code == 201, made.get_json()
    path = f"/wallets/{wallet_id}/proposals/{made.get_json()['proposal']['id']}"

    for signer in (0, 1):  # Ada's agent, then Bob's (which checks Ada's signed head)
        _sign_live(people, agents, path, signer)
    assert people[0].get(f"{path}/ceremony").get_json()["ceremony"]["state"] != "ready"  # 2 of 3: not yet

    # 5. Carol downloads the PSBT, signs it offline with her key, and uploads the file
    downloaded = people[CAROL].get(f"{path}/psbt")
    assert downloaded.status_code == 200
    signed = sign(PSBT.parse(downloaded.response.content), [CAROL])
    uploaded = people[CAROL].post(f"{path}/signatures", {"psbt": base64.b64encode(signed.serialize()).decode()})
    assert uploaded.status_code == 201, uploaded.get_json()
    assert uploaded.get_json()["added"] == len(signed.inputs)
    assert uploaded.get_json()["ceremony"]["state"] == "ready"

    # 6. broadcast to the sandbox; it mines; the watcher moves the ceremony to confirmed
    sent = people[0].post(f"{path}/broadcast")
    assert sent.status_code == 200, sent.get_json()
    txid = sent.get_json()["ceremony"]["txid"]
    assert txid in sandbox.chain.mempool
    sandbox.chain.mine(1)
    wait_for(lambda: people[0].get(f"{path}/ceremony").get_json()["ceremony"]["state"] == "confirmed",
             what="the watcher to see the spend confirmed")
    on_chain = httpx.get(f"{sandbox.url}/tx/{txid}/status", timeout=10).json()  # the chain's word, not the server's
    assert on_chain["confirmed"] is True and on_chain["block_height"] == sandbox.chain.height
    paid = httpx.get(f"{sandbox.url}/tx/{txid}", timeout=10).json()
    assert {"value": 20_000, "address": faucet_address()} in [
        {"value": out["value"], "address": out.get("scriptpubkey_address")} for out in paid["vout"]]
