"""Coin control in the PWA's spend form, in Chromium: under "Advanced" the wallet's coins
are checkboxes with their amounts, confirmations and labels, a running total compares
the chosen ones with the amount and an estimated fee, and the proposal spends exactly
the coin ticked. A coin another pending proposal holds is shown locked, and the server
refuses it (coin_locked) when a member ticked it before the other proposal took it. At
360 px and in dark mode, without a CSP violation.

A keyholder freezes a coin from the list and unfreezes it; a frozen coin, by a member
or by a BIP-329 import, is shown disabled with who froze it; a viewer gets no toggle."""

from __future__ import annotations

from embit.psbt import PSBT

from coordinator.accounts import roles
from coordinator.governance import audit, coin_freeze, labels, proposals
from coordinator.psbt.model import Recipient as Payment
from coordinator.store import wallets

from ..web.coin_funding import fund_coins_and_sync
from ..web.funding import faucet_address
from .conftest import Page, import_wallet, set_up_admin


def _fill_spend(page, amount: str, memo: str) -> None:
    page.get_by_label("Address").fill(faucet_address())
    page.get_by_label("Amount", exact=True).fill(amount)
    page.get_by_label("Memo").fill(memo)
    page.get_by_label("Fee rate (sat/vB)").fill("2")


def _open_coins(page) -> None:
    page.get_by_text("Advanced: choose the coins").click()
    page.locator("#coins").wait_for()


def _spent(server, proposal_id: int) -> list[str]:
    db = server.db()
    try:
        psbt = db.execute("SELECT psbt FROM proposals WHERE id = ?", [proposal_id]).fetchone()[0]
    finally:
        db.close()
    return [f"{vin.txid.hex()}:{vin.vout}" for vin in PSBT.from_base64(psbt).tx.vin]



def _spend_form(tab: Page, server, memo: str) -> tuple[int, str, str]:
    """Ada's wallet with two funded coins, and its spend form filled in: (wallet, coin, coin)."""
    set_up_admin(tab, "Ada")
    wallet_id = import_wallet(server)
    first, second = fund_coins_and_sync(server.config, wallet_id)
    tab.goto(f"/wallets/{wallet_id}/spend")
    _fill_spend(tab.page, "0.0002", memo)
    return wallet_id, first, second

def test_ticking_one_of_two_coins_makes_a_proposal_that_spends_exactly_that_coin(tab, server):
    wallet_id, first, second = _spend_form(tab, server, "paint for the hall")
    page = tab.page

    _open_coins(page)
    rows = page.locator("#coins li")
    assert rows.count() == 2
    assert "0.00060000 BTC (60,000 sat)" in rows.nth(0).text_content()
    assert "1 confirmation" in rows.nth(1).text_content() and "No label" in rows.nth(1).text_content()
    assert "Huddle chooses" in page.locator("#coin-total").text_content()
    page.locator(f"li[data-outpoint='{second}'] input").check()
    total = page.locator("#coin-total")
    assert total.get_attribute("data-state") == "enough"
    assert total.text_content().startswith("Chosen: 1 coin, 0.00090000 BTC (90,000 sat).")
    page.get_by_label("Amount", exact=True).fill("0.0009")  # all of it: the fee no longer fits
    assert total.get_attribute("data-state") == "short" and "Short by" in total.text_content()
    page.get_by_label("Amount", exact=True).fill("0.0002")

    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/proposals")) as sent:
        page.get_by_role("button", name="Propose this spend").click()
    page.locator("#approve").wait_for()

    assert sent.value.post_data_json["coins"] == [second]
    proposal_id = int(page.url.rstrip("/").split("/")[-1])
    assert _spent(server, proposal_id) == [second]  # automatic selection could have taken either
    assert tab.violations == [] and tab.errors == []


def test_without_a_tick_the_server_chooses_as_before(tab, server):
    wallet_id, _, _ = _spend_form(tab, server, "no coin control")
    page = tab.page
    _open_coins(page)

    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/proposals")) as sent:
        page.get_by_role("button", name="Propose this spend").click()
    page.locator("#approve").wait_for()

    assert "coins" not in sent.value.post_data_json
    assert tab.violations == [] and tab.errors == []


def test_a_coin_another_pending_proposal_holds_is_refused_then_shown_locked(browser, server):
    context = browser.new_context(viewport={"width": 360, "height": 780}, color_scheme="dark")
    try:
        tab = Page(context, server)
        wallet_id, first, second = _spend_form(tab, server, "paint")
        page = tab.page
        _open_coins(page)
        page.locator(f"li[data-outpoint='{first}'] input").check()

        holder = _propose_elsewhere(server, wallet_id, first)  # another member, meanwhile
        page.get_by_role("button", name="Propose this spend").click()
        alert = page.locator("#spend [role=alert]")
        alert.wait_for()
        assert alert.get_attribute("data-code") == "coin_locked" and first in alert.text_content()

        tab.goto(f"/wallets/{wallet_id}/spend")
        _open_coins(page)
        locked = page.locator(f"li[data-outpoint='{first}']")
        assert locked.get_attribute("data-locked") == "true" and locked.locator("input").is_disabled()
        assert f"In proposal {holder}, still pending" in locked.text_content()
        assert page.locator(f"li[data-outpoint='{second}'] input").is_enabled()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        row = locked.locator(".coin-row")
        assert row.evaluate("el => el.getBoundingClientRect().height") >= 44  # a large tap target
        assert row.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(23, 38, 53)"  # dark --card
        assert tab.violations == [] and tab.errors == []
    finally:
        context.close()


def _propose_elsewhere(server, wallet_id: int, outpoint: str) -> int:
    db = server.db()
    try:
        name = db.execute("SELECT name FROM wallets WHERE id = ?", [wallet_id]).fetchone()[0]
        made = proposals.create(db, wallets.get(db, name), 1, [Payment(faucet_address(), 30_000)], "roof",
                                2_000, coins=[outpoint])
        return made.id
    finally:
        db.close()


def _frozen(server, wallet_id: int) -> dict:
    db = server.db()
    try:
        return {f"{txid}:{vout}": f for (txid, vout), f in coin_freeze.frozen(db, wallet_id).items()}
    finally:
        db.close()


def test_a_keyholder_freezes_a_ticked_coin_from_the_list_and_unfreezes_it(tab, server):
    wallet_id, first, second = _spend_form(tab, server, "paint")
    page = tab.page
    _open_coins(page)
    row = page.locator(f"li[data-outpoint='{second}']")
    row.locator("input").check()
    assert page.locator("#coin-total").text_content().startswith("Chosen: 1 coin")

    row.get_by_role("button", name="Freeze this coin").click()
    page.locator(f"li[data-outpoint='{second}'][data-frozen='true']").wait_for()

    assert row.locator("input").is_disabled() and not row.locator("input").is_checked()
    assert "Frozen by Ada: unfreeze it to spend it" in row.text_content()
    assert "Huddle chooses" in page.locator("#coin-total").text_content()  # the frozen coin left the choice
    assert _frozen(server, wallet_id)[second].via == "member"
    tab.goto(f"/wallets/{wallet_id}/spend")  # the server keeps it
    _open_coins(page)
    assert row.get_attribute("data-frozen") == "true" and row.locator("input").is_disabled()

    row.get_by_role("button", name="Unfreeze this coin").click()
    page.locator(f"li[data-outpoint='{second}'][data-frozen='false']").wait_for()

    assert row.locator("input").is_enabled() and "Frozen" not in row.text_content()
    assert _frozen(server, wallet_id) == {}
    db = server.db()
    try:
        kinds = [e.type for e in audit.entries(db, audit.wallet_chain(wallet_id)) if e.type.startswith("coin_")]
    finally:
        db.close()
    assert kinds == ["coin_frozen", "coin_unfrozen"]
    assert page.locator(f"li[data-outpoint='{first}'] input").is_enabled()
    assert tab.violations == [] and tab.errors == []


def test_a_coin_frozen_by_a_label_import_is_shown_so_and_a_viewer_gets_no_toggle(tab, server):
    set_up_admin(tab, "Ada")
    wallet_id = import_wallet(server)
    first, second = fund_coins_and_sync(server.config, wallet_id)
    db = server.db()
    try:
        labels.import_labels(db, wallet_id, "regtest",
                             f'{{"type": "output", "ref": "{first}", "label": "dust?", "spendable": false}}', 1)
    finally:
        db.close()
    page = tab.page
    tab.goto(f"/wallets/{wallet_id}/spend")
    _open_coins(page)

    frozen = page.locator(f"li[data-outpoint='{first}']")
    assert frozen.locator("input").is_disabled()
    assert "Frozen by label import (Ada): unfreeze it to spend it" in frozen.text_content()
    assert frozen.get_by_role("button", name="Unfreeze this coin").is_visible()

    db = server.db()
    try:
        roles.grant(db, 1, wallet_id, "viewer")
    finally:
        db.close()
    tab.goto(f"/wallets/{wallet_id}/spend")
    _open_coins(page)
    assert page.locator("#coins li").count() == 2 and page.locator("#coins button").count() == 0
    assert "Frozen by label import (Ada)" in page.locator(f"li[data-outpoint='{first}']").text_content()
    assert tab.violations == [] and tab.errors == []
