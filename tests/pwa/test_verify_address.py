""""Verify on my device" on the wallet screen (issue 13 Build 2, issue 12 Build 4), in Chromium
at 360 px against a real server, with the member's real agent: the `huddle agent` script
(paired with a code, the wallet pinned from its file, `huddle agent run`) and its software
device, which records what it displayed. Without an agent the screen says so; with it, the
device shows exactly the receive address on screen, the screen says where it was shown and
that it matches, and the address is marked verified."""

from __future__ import annotations

import socketio

from coordinator.accounts import api_tokens, pairing

from .. import keys
from ..cli.runner import ok
from ..hw.test_agent_ceremony import AgentCli
from .conftest import WALLET_TEXT, import_wallet, set_up_admin


def _agent(server, tmp_path) -> AgentCli:
    """Ada's agent (software device of seed 0), paired and with the wallet pinned from its file."""
    db = server.db()
    try:
        _, code = pairing.create(db, 1)
    finally:
        db.close()
    agent = AgentCli(tmp_path, 0, server.url)
    agent.env["HUDDLE_AGENT_TEST_LOG"] = str(tmp_path / "device.log")
    ok(agent("pair", server.url, "--code", code))
    (tmp_path / "wallet.txt").write_text(WALLET_TEXT)
    ok(agent("pin", tmp_path / "wallet.txt", "--name", "Co-op", "--network", "regtest"))
    return agent



def _receive(new_tab, server):
    """Ada's wallet screen at 360 px with a new receive address handed out: (tab, wallet id)."""
    tab = new_tab(server, 360)
    set_up_admin(tab, "Ada")
    wallet_id = import_wallet(server)
    tab.goto(f"/wallets/{wallet_id}")
    tab.page.get_by_label("What is it for?").fill("dues from Cy")
    tab.page.get_by_role("button", name="Get a new receive address").click()
    tab.page.locator("#address-text").wait_for()
    return tab, wallet_id

def test_verify_on_my_device_shows_the_address_on_the_members_own_device(new_tab, server, tmp_path):
    tab, wallet_id = _receive(new_tab, server)
    page = tab.page
    address = page.locator("#address-text").text_content()

    page.get_by_role("button", name="Verify on my device").click()  # no agent is running yet
    page.locator("#verify-status [data-code='agent_offline']").wait_for()

    agent = _agent(server, tmp_path)
    running = agent.run()
    try:
        running.wait_for("Connected to")
        page.get_by_role("button", name="Verify on my device").click()
        result = page.locator("#verify-result")
        result.wait_for(timeout=60_000)
        line = running.wait_for("Shown on software")
    finally:
        running.interrupt()

    assert result.get_attribute("data-outcome") == "verified"
    assert result.text_content().startswith(f"Shown on software {keys.fingerprint(0)}: matches (")
    assert page.locator("#unverified").get_attribute("data-verified") == "true"
    shown = (tmp_path / "device.log.shown").read_text().splitlines()
    assert shown == [f"{keys.fingerprint(0)} {keys.path(True, 'wsh')}/0/0 {address}"]
    assert address in line
    page.locator("#address-checks li.verified").wait_for()
    assert address in page.locator("#address-checks li.verified").text_content()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the wallet screen scrolls sideways at 360 px ({width} px)"
    assert tab.violations == [] and tab.errors == []


class LyingAgent:
    """A python-socketio client in /agent with Ada's agent token that answers each
    show_address from ``answers`` in turn (a wrong address, then a refusal)."""

    def __init__(self, server, answers: list[dict]) -> None:
        db = server.db()
        try:
            _, token = api_tokens.create(db, 1, ["agent"], "lying")
        finally:
            db.close()
        self.answers = answers
        self.sio = socketio.Client(reconnection=False, websocket_extra_options={"suppress_origin": True})
        self.sio.on("show_address", self._answer, namespace="/agent")
        self.sio.connect(server.url, auth={"token": token}, namespaces=["/agent"], transports=["websocket"],
                         wait_timeout=10)

    def _answer(self, request: dict) -> None:
        ids = {k: request[k] for k in ("request_id", "wallet_id", "branch", "index")}
        self.sio.emit("address_shown", {**ids, **self.answers.pop(0)}, namespace="/agent")


def test_a_mismatch_is_shown_loudly_and_never_marks_the_address_verified(new_tab, server):
    tab, wallet_id = _receive(new_tab, server)
    page = tab.page
    wrong = keys.descriptor(2, 3, first=3).address(0, 0, "regtest")
    agent = LyingAgent(server, [
        {"address": wrong, "fingerprint": keys.fingerprint(0), "device": "trezor"},
        {"refused": {"code": "device_declined", "message": "showing an address: declined on the device"}}])
    try:
        page.get_by_role("button", name="Verify on my device").click()
        page.locator("#verify-result[data-outcome='mismatch']").wait_for()
        mismatch = page.locator("#verify-result").text_content()
        page.get_by_role("button", name="Verify on my device").click()
        page.locator("#verify-result[data-outcome='refused']").wait_for()
        refused = page.locator("#verify-result").text_content()
    finally:
        agent.sio.disconnect()

    assert mismatch.startswith("MISMATCH: ") and wrong in mismatch and "Do not pay" in mismatch
    assert refused == "Your agent did not show it: showing an address: declined on the device device_declined"
    assert page.locator("#unverified").get_attribute("data-verified") == "false"
    page.locator("#address-checks li").nth(1).wait_for()
    assert page.locator("#address-checks li.verified").count() == 0
    assert tab.violations == [] and tab.errors == []
