"""Pairing a signer agent from the web UI (docs/agent.md, "The pairing link"): Settings
makes a code and shows it as text, as the pairing link and as the link's QR code; a
screenshot of that QR code, taken in Chromium, pairs the real agent with the real
``huddle serve`` that made it, and the token file is private."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from urllib.parse import urlsplit

from coordinator.hw.pair_uri import PairUri

from ..cli.runner import HUDDLE
from .conftest import Server


def _signed_in_admin(new_tab, setup_link: str):
    parts = urlsplit(setup_link)
    tab = new_tab(Server(None, f"{parts.scheme}://{parts.netloc}"))
    tab.page.goto(setup_link)
    tab.page.get_by_label("Your name").fill("Ada")
    tab.page.get_by_role("button", name="Create my passkey").click()
    tab.page.locator("#recovery-codes").wait_for()
    tab.page.locator("#continue").click()
    tab.page.locator("main[data-view='/wallets']").wait_for()
    return tab


def test_settings_show_the_code_the_link_and_a_qr_code_that_pairs_the_agent(new_tab, huddle_serve, tmp_path):
    tab = _signed_in_admin(new_tab, huddle_serve)
    page = tab.page
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("button", name="Make a pairing code").click()
    page.locator("#pairing-code svg.qr").wait_for()

    code = page.locator("#pairing-text").text_content()
    link = page.locator("#pairing-uri").text_content()
    assert link == PairUri(code, tab.server.url).to_string()
    assert page.locator("#pairing-host").text_content() == "localhost"
    page.locator("#pairing-code svg.qr").screenshot(path=str(tmp_path / "qr.png"))

    agent_dir = tmp_path / "agent"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
    env.update(HUDDLE_AGENT_DIR=str(agent_dir), HUDDLE_DATA=str(tmp_path / "data"))
    result = subprocess.run([str(HUDDLE), "agent", "pair", "--qr", str(tmp_path / "qr.png"), "--label", "laptop"],
                            input="y\n", env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert "Pair with localhost?" in result.stderr and f"Paired with {tab.server.url} as Ada" in result.stdout
    kept = agent_dir / "server.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert json.loads(kept.read_text())["url"] == tab.server.url
    mine = page.evaluate("async () => (await (await fetch('/api/v1/agent/pairings')).json()).pairings")
    assert [p["used"] for p in mine] == [True]
    page.screenshot(path=str(tmp_path / "settings.png"), full_page=True)
    assert tab.violations == [] and tab.errors == []
