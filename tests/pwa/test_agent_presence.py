"""The ceremony grid shows whose signer agent is connected (issue 11 Build 3: "each
keyholder's agent"), in Chromium against a real `huddle serve` with Bob's REAL agent
(`huddle agent run` and its software device): Ada has the ceremony open, Bob's agent
connects and her grid says "agent connected" for him without a reload, and goes back to
"away" when the agent stops (`agent_presence` in /wallets); opening the ceremony while
his agent is already connected shows it at once (the GET's `agents_online`)."""

from __future__ import annotations

from coordinator.accounts import pairing, roles, users
from coordinator.store.db import write

from ..cli.runner import ok
from ..hw.test_agent_ceremony import AgentCli
from .conftest import WALLET_TEXT, set_up_admin
from .test_ceremony import _api, _spend


def _bob(server, wallet_id: int) -> int:
    """Bob, a keyholder of the wallet (as an accepted invite makes him)."""
    db = server.db()
    try:
        with write(db):
            bob = users.create(db, "Bob")
            roles.grant(db, bob.id, wallet_id, "keyholder")
        return bob.id
    finally:
        db.close()


def _bobs_agent(server, tmp_path, bob: int) -> AgentCli:
    """Bob's agent (software device of seed 1), paired with a code, the wallet pinned from its file."""
    db = server.db()
    try:
        _, code = pairing.create(db, bob)
    finally:
        db.close()
    agent = AgentCli(tmp_path, 1, server.url)
    ok(agent("pair", server.url, "--code", code))
    (tmp_path / "wallet.txt").write_text(WALLET_TEXT)
    ok(agent("pin", tmp_path / "wallet.txt", "--name", "Co-op", "--network", "regtest"))
    return agent


def _in_the_wallet_room(tab, wallet_id: int, proposal_id: int) -> None:
    """Wait until Ada's page hears its wallet's room: a comment posted through the API appears."""
    api = _api(tab)
    sent = api.post(f"{tab.server.url}/api/v1/wallets/{wallet_id}/proposals/{proposal_id}/comments",
                    json={"text": "Bob, start your agent"})
    assert sent.status_code == 201, sent.text
    tab.page.locator("#comments", has_text="Bob, start your agent").wait_for()


def test_bobs_agent_lights_up_in_the_grid_live_and_goes_away_when_it_stops(tab, server, sandbox, tmp_path):
    set_up_admin(tab, "Ada")
    wallet_id, proposal_id, _ = _spend(server, sandbox)
    bob = _bob(server, wallet_id)
    agent = _bobs_agent(server, tmp_path, bob)
    page = tab.page
    tab.goto(f"/wallets/{wallet_id}/proposals/{proposal_id}")
    here = page.locator(f"#signers tr[data-user='{bob}'] .presence")
    page.locator(f"#signers tr[data-user='{bob}'] .presence[data-agent='false']").wait_for()
    assert here.text_content() == "away"
    _in_the_wallet_room(tab, wallet_id, proposal_id)

    running = agent.run()
    try:
        running.wait_for("Connected to")
        page.locator(f"#signers tr[data-user='{bob}'] .presence[data-agent='true']").wait_for()
        online = here.text_content()
    finally:
        code, _ = running.interrupt()
    page.locator(f"#signers tr[data-user='{bob}'] .presence[data-agent='false']").wait_for()

    assert online == "agent connected"
    assert code == 0
    assert here.text_content() == "away"
    assert tab.violations == [] and tab.errors == []


def test_opening_the_ceremony_while_bobs_agent_is_connected_shows_it_at_once(tab, server, sandbox, tmp_path):
    set_up_admin(tab, "Ada")
    wallet_id, proposal_id, _ = _spend(server, sandbox)
    bob = _bob(server, wallet_id)
    running = _bobs_agent(server, tmp_path, bob).run()
    try:
        running.wait_for("Connected to")
        tab.goto(f"/wallets/{wallet_id}/proposals/{proposal_id}")
        page = tab.page
        page.locator("#ceremony-state[data-state='collecting']").wait_for()
        shown = page.locator(f"#signers tr[data-user='{bob}'] .presence")
        first = shown.get_attribute("data-agent"), shown.text_content()
    finally:
        running.interrupt()

    assert first == ("true", "agent connected")
    assert tab.violations == [] and tab.errors == []
