"""Screenshots of the PWA's main screens at a phone's 390x844 (issue 13).

Runs the app from the factory on loopback with a fresh database, signs in as an
admin with Chromium's virtual passkey authenticator, imports and funds a 2-of-3
regtest wallet (a coin written as the test suite's fund_and_sync does), proposes
and approves a spend through the forms, and saves one PNG per screen here.
Run from the repo root:

    .venv/bin/python docs/screenshots/make.py
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.pwa.conftest import ARGS, CHROMIUM, Page, import_wallet, serving, set_up_admin  # noqa: E402
from tests.web.funding import faucet_address, fund_and_sync  # noqa: E402

SIZE = {"width": 390, "height": 844}


def shoot(tab: Page, name: str, path: str | None = None, marker: str = "main[data-view]") -> None:
    if path:
        tab.goto(path)
    tab.page.locator(marker).first.wait_for()
    tab.page.wait_for_load_state("networkidle")
    tab.page.screenshot(path=str(HERE / f"{name}.png"))
    print(f"docs/screenshots/{name}.png")


def propose(tab: Page, wallet_id: int) -> None:
    page = tab.page
    tab.goto(f"/wallets/{wallet_id}/spend")
    page.get_by_label("Address").fill(faucet_address())
    page.get_by_label("Amount", exact=True).fill("0.0002")
    page.get_by_label("Memo").fill("Paint for the hall")
    shoot(tab, "spend", marker="#spend")
    page.get_by_role("button", name="Propose this spend").click()
    page.locator("#approve").wait_for()



def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp, serving(Path(tmp)) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(viewport=SIZE, device_scale_factor=1, color_scheme="light")
        tab = Page(context, server)
        shoot(tab, "signin", "/signin", "#passkey-signin")
        set_up_admin(tab, "Ada")
        wallet_id = import_wallet(server, name="Co-op vault")
        fund_and_sync(server.config, wallet_id)
        shoot(tab, "wallets", "/wallets", "#wallets")
        propose(tab, wallet_id)
        tab.page.locator("#approve").click()
        tab.page.locator("#ceremony").wait_for()
        tab.page.evaluate("window.scrollTo(0, 0)")
        shoot(tab, "proposal", marker="#ceremony")
        tab.page.locator("#ceremony").scroll_into_view_if_needed()
        shoot(tab, "ceremony", marker="#signers")
        tab.page.locator("#show-qr").click()
        tab.page.locator("#qr-canvas[data-format='ur']").wait_for()
        tab.page.wait_for_timeout(600)  # a few frames drawn
        shoot(tab, "animated-qr", marker="#qr-canvas")
        shoot(tab, "wallet", f"/wallets/{wallet_id}", "#proposals")
        tab.page.get_by_label("What is it for?").fill("Dues from Bo")
        tab.page.get_by_role("button", name="Get a new receive address").click()
        tab.page.locator("#receive-address svg.qr").wait_for()
        tab.page.locator("#receive-address").scroll_into_view_if_needed()
        shoot(tab, "receive", marker="#receive-address")
        tab.goto(f"/wallets/{wallet_id}/members")
        tab.page.get_by_role("button", name="Make an invite link").click()
        shoot(tab, "invite", marker="#invite-link svg")
        shoot(tab, "settings", "/settings", "#notify-kinds")
        if tab.violations or tab.errors:
            raise SystemExit(f"the screens reported problems: {tab.violations + tab.errors}")
        browser.close()


if __name__ == "__main__":
    main()
