"""Every screen renders under the CSP without a violation or a script error, at
a phone's width, and the API's answers are never shown as markup."""

from __future__ import annotations

from ..web.funding import faucet_address, fund_and_sync
from .conftest import import_wallet, set_up_admin


def test_every_screen_renders_without_a_csp_violation(tab, server):
    set_up_admin(tab, "Ada <i>admin</i>")
    wallet_id = import_wallet(server, name="Vault one")
    fund_and_sync(server.config, wallet_id)
    tab.goto(f"/wallets/{wallet_id}/spend")
    tab.page.get_by_label("Address").fill(faucet_address())
    tab.page.get_by_label("Amount", exact=True).fill("0.0005")
    tab.page.get_by_label("Memo").fill("<img src=x onerror=alert(1)>")
    tab.page.get_by_role("button", name="Propose this spend").click()
    tab.page.locator("#approve").wait_for()
    proposal = tab.page.url.rsplit("/", 1)[1]

    for path, marker in [("/wallets", "#wallets"), (f"/wallets/{wallet_id}", "#proposals"),
                         (f"/wallets/{wallet_id}/spend", "#spend"), (f"/wallets/{wallet_id}/members", ".invite-form"),
                         (f"/wallets/{wallet_id}/proposals/{proposal}", "#comments"), ("/members", "#users"),
                         ("/join", "h1"), ("/setup", "h1"), ("/signin", "#passkey-signin")]:
        tab.goto(path)
        tab.page.locator(marker).wait_for()
        assert tab.page.evaluate("() => document.documentElement.scrollWidth") <= 390, path

    tab.goto(f"/wallets/{wallet_id}")
    assert tab.page.locator("h1").text_content() == "Vault one"
    assert tab.page.locator(f"[data-proposal='{proposal}'] .title").text_content() == "<img src=x onerror=alert(1)>"
    assert tab.page.locator("main img, main script").count() == 0
    assert tab.page.locator("#user-name").text_content() == "Ada <i>admin</i>"
    assert tab.violations == [] and tab.errors == []
