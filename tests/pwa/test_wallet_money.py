"""The wallet screens with what the server now reports: the balance in sats with
its units, a labelled receive address that is never handed out twice and is
marked unverified, and fee presets from the chain backend's estimates."""

from __future__ import annotations

from ..sessions.ceremony_env import fund
from .conftest import import_wallet, set_up_admin


def test_balance_receive_address_and_fee_presets(tab, server, sandbox):
    set_up_admin(tab, "Ada")
    wallet_id = import_wallet(server)
    fund(sandbox, server.config.database, wallet_id)
    page = tab.page

    tab.goto("/wallets")
    balance = page.locator(f"[data-wallet='{wallet_id}'] .balance")
    assert balance.get_attribute("data-sats") == "100000"
    assert "0.00100000 BTC (100,000 sat)" in balance.text_content()

    tab.goto(f"/wallets/{wallet_id}")
    shown = []
    for label in ("rent from Bo", "dues from Cy"):
        page.get_by_label("What is it for?").fill(label)
        page.get_by_role("button", name="Get a new receive address").click()
        page.locator("#receive-address", has_text=label).wait_for()
        shown.append(page.locator("#address-text").text_content())
        assert page.locator("#unverified").get_attribute("data-verified") == "false"
        assert page.locator("#receive-address svg.qr").count() == 1
    assert len(set(shown)) == 2
    db = server.db()
    try:
        stored = db.execute("SELECT ref, label, updated_by FROM wallet_labels WHERE type = 'addr' ORDER BY label").fetchall()
        funded = db.execute("SELECT address FROM addresses WHERE branch = 0 AND idx = 0").fetchone()[0]
    finally:
        db.close()
    assert stored == [(shown[1], "dues from Cy", 1), (shown[0], "rent from Bo", 1)]
    assert funded not in shown  # the funded (used) address is never handed out again

    tab.goto(f"/wallets/{wallet_id}/spend")
    page.locator("#fee-presets [data-target='6']").click()
    assert page.locator("#fee-rate").input_value() == "1"
    page.locator("#fee-presets [data-target='1']").click()
    assert page.locator("#fee-rate").input_value() == "2"
    assert tab.violations == [] and tab.errors == []
