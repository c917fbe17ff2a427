""""Verify on my device" on the wallet screen (issue 13 Build 2, issue 12 Build 4), in Chromium
at 360 px against a real server, with the member's real agent: the `huddle agent` script
(paired with a code, the wallet pinned from its file, `huddle agent run`) and its software
device, which records what it displayed. Without an agent the screen says so; with it, the
device shows exactly the receive address on screen, the screen says where it was shown and
that it matches, and the address is marked verified."""

from __future__ import annotations

from coordinator.accounts import pairing

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


def test_verify_on_my_device_shows_the_address_on_the_members_own_device(new_tab, server, tmp_path):
    tab = new_tab(server, 360)
    set_up_admin(tab, "Ada")
    wallet_id = import_wallet(server)
    page = tab.page
    tab.goto(f"/wallets/{wallet_id}")
    page.get_by_label("What is it for?").fill("dues from Cy")
    page.get_by_role("button", name="Get a new receive address").click()
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
