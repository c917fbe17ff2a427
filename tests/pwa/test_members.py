"""Members and invites in the browser: a wallet admin makes an invite link (with
its QR), a second person opens it in their own browser, registers a passkey,
joins as a keyholder and sees the wallet; the server's admin sees them listed.
No screen on the way reports a CSP violation."""

from __future__ import annotations

from .conftest import import_wallet, set_up_admin


def test_an_invite_link_from_the_members_screen_lets_a_second_member_join(new_tab, tab, server):
    set_up_admin(tab, "Ada")
    wallet_id = import_wallet(server)
    admin = tab.page
    tab.goto(f"/wallets/{wallet_id}")
    admin.get_by_role("link", name="Invite members").click()
    admin.get_by_label("Role").select_option("keyholder")
    admin.get_by_role("button", name="Make an invite link").click()
    link = admin.locator("#invite-link code").text_content()
    assert link.startswith(f"{server.url}/join#")
    assert admin.locator("#invite-link svg.qr path").get_attribute("d").startswith("M")

    bob = new_tab(server, width=360)
    bob.page.goto(link)
    assert "as keyholder" in bob.page.locator("#invite-grants").text_content()
    bob.page.get_by_label("Your name").fill("Bob")
    bob.page.get_by_role("button", name="Create my passkey and join").click()
    bob.page.locator("#recovery-codes").wait_for()
    assert bob.page.url == f"{server.url}/join"  # the spent token left the address bar
    bob.page.locator("#continue").click()
    bob.page.locator(f"[data-wallet='{wallet_id}']").wait_for()
    assert "you are keyholder" in bob.page.locator(f"[data-wallet='{wallet_id}']").text_content()
    assert bob.violations == [] and bob.errors == []

    tab.goto("/members")
    admin.locator("#users li").first.wait_for()
    assert [row.text_content().split(" ")[0] for row in admin.locator("#users li").all()] == ["Ada", "Bob"]
    assert tab.violations == [] and tab.errors == []


def test_a_spent_or_unknown_invite_is_explained(tab):
    tab.goto("/join#not-a-real-token")

    refusal = tab.page.locator("[role=alert]")
    assert refusal.get_attribute("data-code") == "invite_not_found"
    assert tab.violations == []
