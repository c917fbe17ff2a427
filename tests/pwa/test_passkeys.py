"""Signing in with a passkey in a real browser: the setup link the real
`huddle serve` prints on its first run, then sign-out and sign-in again with the
same passkey from the virtual authenticator; and recovery codes."""

from __future__ import annotations

from urllib.parse import urlsplit

from .conftest import Server


def test_the_printed_setup_link_creates_the_admin_and_the_passkey_signs_them_in_again(huddle_serve, new_tab):
    # huddle_serve first, so its tabs close before it stops
    tab = new_tab(Server(None, "http://" + urlsplit(huddle_serve).netloc))
    page = tab.page
    page.goto(huddle_serve)
    page.get_by_label("Your name").fill("Ada")
    page.get_by_role("button", name="Create my passkey").click()
    page.locator("#continue").click()
    page.locator("main[data-view='/wallets']").wait_for()
    assert page.locator("#user-name").text_content() == "Ada"
    assert len(tab.credentials()) == 1

    page.locator("#sign-out").click()
    page.locator("#signin-passkey").wait_for()
    page.locator("#signin-passkey").click()

    page.locator("main[data-view='/wallets']").wait_for()
    assert page.locator("#user-name").text_content() == "Ada"
    assert tab.violations == [] and tab.errors == []


def test_a_recovery_code_signs_in_once_and_is_refused_the_second_time(tab):
    page = tab.page
    page.goto(tab.server.setup_link())
    page.get_by_label("Your name").fill("Ada")
    page.get_by_role("button", name="Create my passkey").click()
    code = page.locator("#recovery-codes li code").first.text_content()
    page.locator("#continue").click()
    page.locator("#sign-out").click()

    page.get_by_text("Lost your passkey?").click()
    page.get_by_label("Recovery code").fill(code)
    page.get_by_role("button", name="Sign in with the code").click()
    page.locator("main[data-view='/wallets']").wait_for()
    page.locator("#sign-out").click()
    page.get_by_text("Lost your passkey?").click()
    page.get_by_label("Recovery code").fill(code)
    page.get_by_role("button", name="Sign in with the code").click()

    refusal = page.locator("#recovery-signin [role=alert]")
    assert refusal.get_attribute("data-code") == "bad_recovery_code"
    assert "already used" in refusal.text_content()
