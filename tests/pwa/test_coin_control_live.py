"""Coin control and the ledger stay current without a reload, in Chromium, with two
members in two browser contexts: when Ada freezes a coin, Bob's open coin list shows
it frozen (still ticked if he had ticked it, flagged: the server would refuse it), and shows it free again when she
unfreezes it; when she imports BIP-329 labels, Bob's open wallet screen shows the new
label in its ledger. Both come over the wallet's room (coin_frozen, coin_unfrozen,
labels_changed; docs/events.md). The ledger on the wallet screen lists each transaction
with its memo, proposer and signers."""

from __future__ import annotations

import base64

import bdkpython as bdk

from coordinator.accounts import invites
from coordinator.chain.esplora import EsploraClient
from coordinator.chain.sync import sync_wallet
from coordinator.store import wallets

from .. import keys
from ..sessions.ceremony_env import fund, signed_by
from ..web.coin_funding import fund_coins_and_sync
from ..web.funding import faucet_address
from .conftest import Page, import_wallet, set_up_admin
from .test_ceremony import _api
from .test_coin_control import _open_coins


def _bob_joins(new_tab, server, wallet_id: int) -> Page:
    """Bob accepts a keyholder invite in his own browser (his own passkey)."""
    db = server.db()
    try:
        _, token = invites.create(db, wallet_id, "keyholder", 1)
    finally:
        db.close()
    bob = new_tab(server)
    bob.page.goto(f"{server.url}/join#{token}")
    bob.page.get_by_label("Your name").fill("Bob")
    bob.page.get_by_role("button", name="Create my passkey and join").click()
    bob.page.locator("#recovery-codes").wait_for()
    bob.page.locator("#continue").click()
    bob.page.locator(f"[data-wallet='{wallet_id}']").wait_for()
    return bob


def _mark_page(tab: Page) -> None:
    """A mark a reload would wipe: still there afterwards, the page was not reloaded."""
    tab.page.evaluate("window.__notReloaded = true")


def _not_reloaded(tab: Page) -> bool:
    return tab.page.evaluate("window.__notReloaded === true")


def test_a_coin_one_member_freezes_shows_frozen_in_the_others_open_coin_list(new_tab, tab, server):
    set_up_admin(tab, "Ada")
    wallet_id = import_wallet(server)
    first, second = fund_coins_and_sync(server.config, wallet_id)
    bob = _bob_joins(new_tab, server, wallet_id)
    for member in (tab, bob):
        member.goto(f"/wallets/{wallet_id}/spend")
        _open_coins(member.page)
    assert "never takes a frozen coin, a coinbase short of 100 confirmations" in bob.page.locator(
        "#coin-hint").text_content()
    seen = bob.page.locator(f"li[data-outpoint='{second}']")
    seen.locator("input").check()
    assert bob.page.locator("#coin-total").text_content().startswith("Chosen: 1 coin")
    _mark_page(bob)

    tab.page.locator(f"li[data-outpoint='{second}']").get_by_role("button", name="Freeze this coin").click()
    bob.page.locator(f"li[data-outpoint='{second}'][data-frozen='true']").wait_for()

    # Bob's choice stands (never a silent switch to coins he did not choose): still ticked,
    # flagged, and the server would refuse it; he may untick it
    assert seen.locator("input").is_checked() and seen.get_attribute("data-stale") == "true"
    assert "Frozen by Ada: unfreeze it to spend it" in seen.text_content()
    assert "Still chosen, but no longer spendable" in bob.page.locator("#coin-note").text_content()
    assert bob.page.locator("#coin-total").text_content().startswith("Chosen: 1 coin")
    assert bob.page.locator(f"li[data-outpoint='{first}'][data-frozen='false'] input").is_enabled()

    tab.page.locator(f"li[data-outpoint='{second}']").get_by_role("button", name="Unfreeze this coin").click()
    bob.page.locator(f"li[data-outpoint='{second}'][data-frozen='false']").wait_for()

    assert seen.locator("input").is_enabled() and "Frozen" not in seen.text_content()
    assert _not_reloaded(bob)
    assert bob.violations == [] and bob.errors == [] and tab.violations == [] and tab.errors == []


def test_a_label_import_shows_in_the_others_open_coin_list_and_wallet_ledger(new_tab, tab, server):
    set_up_admin(tab, "Ada")
    wallet_id = import_wallet(server)
    first, _ = fund_coins_and_sync(server.config, wallet_id)
    txid = first.split(":")[0]
    bob = _bob_joins(new_tab, server, wallet_id)
    watching = Page(bob.context, server)  # Bob's second tab, on the spend form
    bob.goto(f"/wallets/{wallet_id}")
    entry = bob.page.locator(f"#ledger li[data-txid='{txid}']")
    entry.wait_for()
    assert "Received" in entry.text_content() and "0.00060000 BTC (60,000 sat)" in entry.text_content()
    assert entry.locator(".ledger-label").count() == 0
    watching.goto(f"/wallets/{wallet_id}/spend")
    _open_coins(watching.page)
    _mark_page(bob)
    _mark_page(watching)

    text = "\n".join([f'{{"type": "tx", "ref": "{txid}", "label": "dues from the fair"}}',
                      f'{{"type": "output", "ref": "{first}", "label": "dust?", "spendable": false}}'])
    answer = _api(tab).post(f"{server.url}/api/v1/wallets/{wallet_id}/labels", json={"text": text})
    assert answer.status_code == 200 and answer.json()["imported"]["applied"] == 2

    bob.page.locator(f"#ledger li[data-txid='{txid}'] .ledger-label", has_text="dues from the fair").wait_for()
    frozen = watching.page.locator(f"li[data-outpoint='{first}'][data-frozen='true']")
    frozen.wait_for()
    assert "Frozen by label import (Ada)" in frozen.text_content() and "dust?" in frozen.text_content()
    assert _not_reloaded(bob) and _not_reloaded(watching)
    assert bob.violations == [] and bob.errors == []


def test_the_wallet_screen_shows_the_ledger_with_each_spends_memo_proposer_and_signers(tab, server, sandbox):
    """A spend Ada proposed, signed by seeds 0 and 1 through the ceremony, broadcast and
    mined: the ledger lists it newest first with its memo (as text, never markup)."""
    set_up_admin(tab, "Ada")
    wallet_id = import_wallet(server)
    fund(sandbox, server.config.database, wallet_id)
    api, base = _api(tab), f"{server.url}/api/v1/wallets/{wallet_id}"
    made = api.post(f"{base}/proposals", json={"payments": [{"address": faucet_address(), "amount": 20_000}],
                                               "memo": "<b>roof</b> repairs", "fee_rate": 2_000}).json()
    path = f"{base}/proposals/{made['proposal']['id']}"
    for seed in (0, 1):
        sent = api.post(f"{path}/signatures", json={"psbt": signed_by(made["psbt"], seed), "channel": "upload"})
        assert sent.status_code == 201, sent.text
    final = bdk.Psbt(base64.b64encode(api.get(f"{path}/psbt").content).decode()).finalize()
    txid = sandbox.chain.submit(bytes(final.psbt.extract_tx().serialize()))
    sandbox.chain.mine(1)
    _sync(server, sandbox, wallet_id)

    tab.goto(f"/wallets/{wallet_id}")
    entries = tab.page.locator("#ledger-entries > li")
    entries.first.wait_for()

    assert entries.count() == 2 and entries.first.get_attribute("data-txid") == txid
    spent = entries.first.text_content()
    assert "Sent" in spent and "Memo: <b>roof</b> repairs" in spent and f"Proposal {made['proposal']['id']} by Ada" in spent
    assert f"signed by Ada (key {keys.fingerprint(0)}), Ada (key {keys.fingerprint(1)})" in spent
    assert tab.page.locator("#ledger b").count() == 0
    assert "Received" in entries.nth(1).text_content() and "0.00100000 BTC (100,000 sat)" in entries.nth(1).text_content()
    assert "Confirmed balance: 0.000" in tab.page.locator("#ledger-balance").text_content()
    assert tab.violations == [] and tab.errors == []


def _sync(server, sandbox, wallet_id: int) -> None:
    db = server.db()
    try:
        name = db.execute("SELECT name FROM wallets WHERE id = ?", [wallet_id]).fetchone()[0]
        with EsploraClient(sandbox.url, "regtest", retries=1) as backend:
            sync_wallet(db, wallets.get(db, name), backend)
    finally:
        db.close()
