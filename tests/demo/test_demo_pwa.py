"""The README's promise, in Chromium: a newcomer runs ``huddle demo``, signs in with Ada's
printed recovery code, opens the printed proposal link, clicks "Ask to sign" for Bob and
then Carol (their demo agents check and sign), broadcasts, and sees it confirmed."""

from __future__ import annotations

import signal

from playwright.sync_api import expect

from coordinator.demo import people

from .running import Demo


def test_a_newcomer_clicks_through_the_demo_in_the_pwa_until_the_spend_confirms(browser):
    demo = Demo()
    try:
        demo.until("Press Ctrl-C to stop everything.")
        signin = demo.printed(r"1\. Open (http://localhost:\d+/signin)").group(1)
        code = demo.printed(r"Ada \(user 1\): (\S+)").group(1)
        proposal = demo.printed(r"2\. Open the proposal: (\S+)").group(1)
        bob, carol = (demo.printed(rf"{name} \(user (\d+)\)").group(1) for name in ("Bob", "Carol"))
        context = browser.new_context()  # the shared browser (tests/conftest.py), a context of its own
        page = context.new_page()
        page.goto(signin)
        page.get_by_text("Use a recovery code").click()
        page.fill("#recovery-signin input[name=code]", code)
        page.click("#recovery-signin button[type=submit]")
        page.wait_for_url("**/wallets")
        page.goto(proposal)
        expect(page.get_by_text(people.MEMO).first).to_be_visible(timeout=20_000)
        for user in (bob, carol):
            page.click(f"[data-ask='{user}']")
            page.wait_for_selector(f"[data-ask='{user}']", state="detached", timeout=60_000)  # signed
        expect(page.get_by_text(people.LABEL).first).to_be_visible()  # the signers' device, as reported
        page.click("#broadcast")
        page.click("#broadcast-confirm")
        expect(page.get_by_text("State: Confirmed")).to_be_visible(timeout=60_000)
        context.close()
    finally:
        demo.proc.send_signal(signal.SIGINT)  # Ctrl-C
        code = demo.proc.wait(timeout=60)
    assert code == 0, "\n".join(demo.seen)
