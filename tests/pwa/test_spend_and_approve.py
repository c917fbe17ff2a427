"""A spend proposed from the PWA's form and approved with the virtual passkey;
the approval is a WebAuthn assertion over the intent digest that the core's
audit verifier accepts against the roster. Every screen on the way runs under
the CSP without a single violation."""

from __future__ import annotations

from coordinator.governance import audit
from coordinator.governance.roster import from_db, verify_approvals

from ..web.funding import faucet_address, fund_and_sync
from .conftest import import_wallet, set_up_admin


def test_a_spend_proposed_in_the_form_is_approved_with_a_passkey_that_the_audit_verifier_accepts(tab, server):
    set_up_admin(tab, "Ada")
    wallet_id = import_wallet(server)
    fund_and_sync(server.config, wallet_id)
    page = tab.page

    tab.goto("/wallets")
    card = page.locator(f"[data-wallet='{wallet_id}']")
    assert card.locator(".pending").get_attribute("data-pending") == "0"
    card.get_by_role("link", name="Co-op vault").click()
    page.locator("#new-spend").click()
    page.get_by_label("Address").fill(faucet_address())
    page.get_by_label("Amount", exact=True).fill("0.0002")
    page.get_by_label("Memo").fill("paint for the hall")
    page.get_by_label("Fee rate (sat/vB)").fill("2.5")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/proposals")) as sent:
        page.get_by_role("button", name="Propose this spend").click()

    page.locator("#approve").wait_for()
    assert sent.value.post_data_json["payments"][0]["amount"] == 20_000
    assert sent.value.post_data_json["fee_rate"] == 2_500  # 2.5 sat/vB, exactly, in sat/kvB
    assert page.locator("#memo").text_content() == "paint for the hall"
    assert "0.00020000 BTC (20,000 sat)" in page.locator("#recipients").text_content()
    page.get_by_role("button", name="Approve with my passkey").click()
    page.locator("#approvals li", has_text="you").wait_for()  # the approval_added event redraws it live

    db = server.db()
    try:
        proposal_id = db.execute("SELECT id FROM proposals").fetchone()[0]
        entries = audit.entries(db, audit.wallet_chain(wallet_id))
        roster = from_db(db, wallet_id, "localhost", server.url)
    finally:
        db.close()
    assert verify_approvals(audit.verify(entries) and entries, roster) == 1

    tab.goto(f"/wallets/{wallet_id}")
    assert page.locator(f"[data-proposal='{proposal_id}'] .title").text_content() == "paint for the hall"
    tab.goto("/wallets")
    assert page.locator(f"[data-wallet='{wallet_id}'] .pending").get_attribute("data-pending") == "1"
    assert tab.violations == [] and tab.errors == []


def test_a_comment_appears_and_a_bad_amount_is_refused_before_it_reaches_the_server(tab, server):
    set_up_admin(tab, "Ada")
    wallet_id = import_wallet(server)
    fund_and_sync(server.config, wallet_id)
    page = tab.page

    tab.goto(f"/wallets/{wallet_id}/spend")
    page.get_by_label("Address").fill(faucet_address())
    page.get_by_label("Amount", exact=True).fill("0.000000001")
    page.get_by_label("Memo").fill("too precise")
    page.get_by_role("button", name="Propose this spend").click()
    assert page.locator("#spend [role=alert]").get_attribute("data-code") == "bad_amount"

    page.locator("#unit").select_option("sats")
    page.get_by_label("Amount", exact=True).fill("30000")
    page.get_by_role("button", name="Propose this spend").click()
    page.locator("#comment").wait_for()
    page.get_by_label("Comment").fill("<b>not markup</b> & fine")
    page.get_by_role("button", name="Comment").click()

    page.locator("#comments li").first.wait_for()
    assert page.locator("#comments li p").first.text_content() == "<b>not markup</b> & fine"
    assert page.locator("#comments b").count() == 0
    assert "0.00030000 BTC (30,000 sat)" in page.locator("#recipients").text_content()
    assert tab.violations == [] and tab.errors == []
