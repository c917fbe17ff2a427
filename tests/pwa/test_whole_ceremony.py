"""The whole ceremony in real browsers against `huddle serve` with the sandbox chain
(issue 13, "Done when"): two members in two browser contexts sign in with virtual
passkeys; the first sees the second's presence; a spend is proposed and approved with
a passkey; the animated QR is shown and a screenshot of it decodes (zxing-cpp) to a
valid UR part; the signed PSBT comes back through the first member's camera
(Chromium's fake capture plays a .y4m of its animated QR); the progress completes,
both see the signatures arrive, and the spend is broadcast."""

from __future__ import annotations

import base64
import io
from types import SimpleNamespace
from urllib.parse import urlsplit

import zxingcpp
from PIL import Image

from coordinator.qr import density
from coordinator.qr.sequence import psbt_frames
from coordinator.qr.ur import URPart

from ..sessions.ceremony_env import fund, signed_by
from ..web.funding import faucet_address
from .conftest import ARGS, CHROMIUM, Page, Server, import_wallet, running_huddle
from .test_ceremony import _y4m


def _register(tab: Page, link: str, name: str, button: str) -> None:
    tab.page.goto(link)
    tab.page.get_by_label("Your name").fill(name)
    tab.page.get_by_role("button", name=button).click()
    tab.page.locator("#recovery-codes").wait_for()
    tab.page.locator("#continue").click()
    tab.page.locator("main[data-view='/wallets']").wait_for()


def test_a_whole_ceremony_in_two_browsers_against_huddle_serve(browser, new_tab, sandbox, tmp_path):
    video = tmp_path / "signed.y4m"
    camera_browser = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=ARGS + [
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    try:
        with running_huddle(tmp_path, sandbox.url) as setup_link:
            origin = "http://" + urlsplit(setup_link).netloc
            server = Server(SimpleNamespace(database=tmp_path / "data" / "huddle.sqlite3"), origin)
            context = camera_browser.new_context(viewport={"width": 390, "height": 844})
            context.grant_permissions(["camera"], origin=origin)
            ada = Page(context, server)
            _register(ada, setup_link, "Ada", "Create my passkey")
            wallet_id = import_wallet(server)
            fund(sandbox, server.config.database, wallet_id)

            ada.goto(f"/wallets/{wallet_id}/members")
            ada.page.get_by_label("Role").select_option("keyholder")
            ada.page.get_by_role("button", name="Make an invite link").click()
            bob = new_tab(server, width=360)
            _register(bob, ada.page.locator("#invite-link code").text_content(), "Bob", "Create my passkey and join")

            # Bob proposes and approves with his passkey.
            bob.goto(f"/wallets/{wallet_id}/spend")
            bob.page.get_by_label("Address").fill(faucet_address())
            bob.page.get_by_label("Amount", exact=True).fill("0.0002")
            bob.page.get_by_label("Memo").fill("paint for the hall")
            bob.page.get_by_role("button", name="Propose this spend").click()
            bob.page.get_by_role("button", name="Approve with my passkey").click()
            bob.page.locator("#approvals li", has_text="you").wait_for()
            path = urlsplit(bob.page.url).path

            # Ada sees Bob here.
            ada.goto(path)
            ada.page.locator("#signers tr", has_text="Bob").locator(".presence[data-here='true']").wait_for()

            # The QR is shown; a screenshot decodes to a valid UR part.
            ada.page.locator("#show-qr").click()
            canvas = ada.page.locator("#qr-canvas[data-format='ur']")
            canvas.wait_for()
            ada.page.locator("#qr-canvas").click()  # tap: pause on one frame
            (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(canvas.screenshot())))
            part = URPart.from_string(found.text)
            assert part.ur_type == "crypto-psbt" and part.seq is not None
            ada.page.locator("#qr-close").click()

            # The signers' device output comes back through Ada's camera.
            proposal_id = int(path.rsplit("/", 1)[1])
            db = server.db()
            try:
                psbt = db.execute("SELECT psbt FROM proposals WHERE id = ?", [proposal_id]).fetchone()[0]
            finally:
                db.close()
            signed = base64.b64decode(signed_by(psbt, 0, 2))
            _y4m(list(psbt_frames(signed, "ur", density("medium")).frames), video)
            ada.page.locator("#scan").click()
            ada.page.locator("#scan-done").wait_for(timeout=60_000)
            for tab in (ada, bob):  # both see it, live
                tab.page.locator("#signers .signed[data-signed='true']").first.wait_for()
                tab.page.locator("#ceremony-state[data-state='ready']").wait_for()

            ada.page.locator("#broadcast").click()
            ada.page.locator("#broadcast-confirm").click()
            for tab in (ada, bob):
                tab.page.locator("#ceremony-state[data-state='broadcast']").wait_for()
            assert ada.page.locator("#txid").text_content() in sandbox.chain.mempool
            assert ada.violations == [] and ada.errors == [] and bob.violations == [] and bob.errors == []
            context.close()
            bob.context.close()
    finally:
        camera_browser.close()
