"""The ceremony screen in a real browser: the signer grid moves live when another
client acts (a step recorded for a signer, a signature uploaded through the API),
broadcast waits for a confirmation, the animated QR's frames decode (zxing-cpp on
screenshots, then the core's decoder) to the exact PSBT, the UR/BBQr choice is
remembered per signer device, and a signed PSBT shown to Chromium's fake camera
is scanned (jsQR fallback, the server's decoder) into the ceremony."""

from __future__ import annotations

import base64
import io
import time

import requests
import zxingcpp
from PIL import Image

from coordinator.chain.esplora import EsploraClient
from coordinator.chain.sync import sync_wallet
from coordinator.governance import proposals
from coordinator.psbt.model import Recipient
from coordinator.qr import StreamDecoder, density
from coordinator.qr.render import FrameRenderer
from coordinator.qr.sequence import psbt_frames
from coordinator.sessions import broadcast
from coordinator.sessions import requests as sign_steps
from coordinator.store import wallets

from ..sessions.ceremony_env import fund, signed_by
from ..sessions.live import wait_for
from ..web.funding import faucet_address
from .conftest import ARGS, CHROMIUM, Page, import_wallet, set_up_admin


def _spend(server, sandbox) -> tuple[int, int, str]:
    """Ada's funded wallet and a proposal in it: (wallet, proposal, unsigned PSBT base64)."""
    wallet_id = import_wallet(server)
    fund(sandbox, server.config.database, wallet_id)
    db = server.db()
    try:
        wallet = wallets.get(db, "Co-op vault")
        made = proposals.create(db, wallet, 1, [Recipient(faucet_address(), 20_000)], "paint", 2_000)
        return wallet_id, made.id, made.psbt
    finally:
        db.close()


def _api(tab: Page) -> requests.Session:
    """Another client of the API with Ada's session (the cookie from her browser)."""
    client = requests.Session()
    for cookie in tab.context.cookies():
        client.cookies.set(cookie["name"], cookie["value"])
    client.headers["X-Huddle-CSRF"] = client.get(f"{tab.server.url}/api/v1/session").json()["csrf_token"]
    return client


def test_the_grid_shows_a_step_and_a_signature_live_and_broadcast_waits_for_a_confirmation(tab, server, sandbox):
    set_up_admin(tab, "Ada")
    wallet_id, proposal_id, psbt = _spend(server, sandbox)
    page = tab.page
    tab.goto(f"/wallets/{wallet_id}/proposals/{proposal_id}")
    page.locator("#ceremony-state[data-state='collecting']").wait_for()
    row = page.locator("#signers tr[data-user='1']")
    row.locator(".presence[data-here='true']").wait_for()  # her own signer_joined, through the room
    assert "0.00020000 BTC (20,000 sat)" in page.locator("#recipients").text_content()
    assert faucet_address() in page.locator("#recipients").text_content()
    assert int(page.locator("#fee").get_attribute("data-sats")) > 0

    db = server.db()
    try:
        sign_steps.step(db, wallet_id, proposal_id, 1, "reviewing", None)
    finally:
        db.close()
    api = _api(tab)
    base = f"{server.url}/api/v1/wallets/{wallet_id}/proposals/{proposal_id}"
    sent = api.post(f"{base}/signatures", json={"psbt": signed_by(psbt, 0, 1), "channel": "upload"})
    assert sent.status_code == 201, sent.text

    row.locator(".step[data-step='reviewing']").wait_for()
    row.locator(".signed[data-signed='true']").wait_for()
    page.locator("#ceremony-state[data-state='ready']").wait_for()

    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/broadcast")) as posted:
        page.locator("#broadcast").click()
        page.locator("#broadcast-ask").wait_for()
        assert api.get(f"{base}/ceremony").json()["ceremony"]["state"] == "ready"  # nothing sent before "Yes"
        page.locator("#broadcast-confirm").click()
    assert posted.value
    page.locator("#ceremony-state[data-state='broadcast']").wait_for()
    txid = page.locator("#txid").text_content()
    assert txid in sandbox.chain.mempool
    assert tab.violations == [] and tab.errors == []


def test_a_transaction_sent_again_after_leaving_the_mempool_is_announced_on_the_screen(tab, server, sandbox):
    set_up_admin(tab, "Ada")
    wallet_id, proposal_id, psbt = _spend(server, sandbox)
    api = _api(tab)
    base = f"{server.url}/api/v1/wallets/{wallet_id}/proposals/{proposal_id}"
    assert api.post(f"{base}/signatures", json={"psbt": signed_by(psbt, 0, 1), "channel": "upload"}).status_code == 201
    txid = api.post(f"{base}/broadcast").json()["ceremony"]["txid"]
    tab.goto(f"/wallets/{wallet_id}/proposals/{proposal_id}")
    tab.page.locator("#ceremony-state[data-state='broadcast']").wait_for()

    sandbox.chain.evict(txid)  # a full mempool dropped it
    db = server.db()
    try:
        wallet = wallets.get(db, "Co-op vault")
        with EsploraClient(sandbox.url, "regtest") as backend:
            sync_wallet(db, wallet, backend)  # the watcher's round, run here
            broadcast.resend_missing(db, wallet, backend, now=time.time() + broadcast.RESEND_AFTER + 1)
    finally:
        db.close()

    tab.page.locator("#resent.ok").wait_for()
    assert txid in sandbox.chain.mempool
    assert tab.violations == [] and tab.errors == []


def test_the_animated_qr_decodes_to_the_exact_psbt_and_the_format_is_remembered_per_device(tab, server, sandbox):
    set_up_admin(tab, "Ada")
    wallet_id, proposal_id, _ = _spend(server, sandbox)
    page = tab.page
    tab.goto(f"/wallets/{wallet_id}/proposals/{proposal_id}")
    page.locator("#show-qr").click()
    canvas = page.locator("#qr-canvas[data-format='ur']")
    canvas.wait_for()
    page.locator("#qr-speed").fill("10")

    decoder = StreamDecoder()
    for _ in range(80):
        if decoder.complete:
            break
        for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(canvas.screenshot()))):
            decoder.receive(found.text)
    api = _api(tab)
    shown = api.get(f"{server.url}/api/v1/wallets/{wallet_id}/proposals/{proposal_id}/psbt").content
    assert decoder.format == "ur" and decoder.psbt == shown

    fingerprint = page.evaluate("() => JSON.stringify(Object.keys(localStorage))")
    assert fingerprint == "[]"  # nothing remembered until the member chooses
    page.locator("#qr-format [data-format='bbqr']").click()
    page.locator("#qr-canvas[data-format='bbqr']").wait_for()
    page.locator("#qr-close").click()
    tab.goto(f"/wallets/{wallet_id}/proposals/{proposal_id}")  # a new visit
    page.locator("#show-qr").click()
    page.locator("#qr-canvas[data-format='bbqr']").wait_for()
    assert page.locator("#qr-format [data-format='bbqr']").get_attribute("aria-pressed") == "true"
    bbqr = StreamDecoder()
    for _ in range(40):
        if bbqr.complete:
            break
        for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(page.locator("#qr-canvas").screenshot()))):
            bbqr.receive(found.text)
    assert bbqr.format == "bbqr" and bbqr.psbt == shown
    assert tab.violations == [] and tab.errors == []


def _y4m(frames: list[str], path, size: int = 480, repeat: int = 3) -> None:
    """A YUV4MPEG2 video (what Chromium's fake camera plays, looping) showing each
    frame string as a QR code, drawn with segno, for ``repeat`` video frames."""
    version = max(FrameRenderer(1).symbol(f).version for f in frames)
    renderer = FrameRenderer(version, scale=1, border=4)
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{size} H{size} F15:1 Ip A1:1 C420jpeg\n".encode())
        chroma = bytes([128]) * ((size // 2) * (size // 2) * 2)
        for frame in frames:
            symbol = Image.open(io.BytesIO(renderer.to_png(frame))).convert("L")
            luma = symbol.resize((size - 40, size - 40), Image.NEAREST)
            canvas = Image.new("L", (size, size), 255)
            canvas.paste(luma, (20, 20))
            for _ in range(repeat):
                out.write(b"FRAME\n" + canvas.tobytes() + chroma)


def test_a_signed_psbt_shown_to_the_camera_is_scanned_into_the_ceremony(browser, server, sandbox, tmp_path):
    probe = None
    wallet_id = proposal_id = None
    camera = None
    try:
        video = tmp_path / "signed.y4m"
        # The PSBT is signed in the test, so the video is made after the proposal exists.
        admin_browser = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=ARGS + [
            "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"])
        camera = admin_browser.new_context(viewport={"width": 390, "height": 844})
        camera.grant_permissions(["camera"], origin=server.url)
        probe = Page(camera, server)
        set_up_admin(probe, "Ada")
        wallet_id, proposal_id, psbt = _spend(server, sandbox)
        signed = base64.b64decode(signed_by(psbt, 1))
        _y4m(list(psbt_frames(signed, "ur", density("low")).frames), video)

        page = probe.page
        probe.goto(f"/wallets/{wallet_id}/proposals/{proposal_id}")
        page.locator("#scan").click()
        page.locator("#scan-overlay[data-reader='jsqr']").wait_for()  # Linux Chromium: no BarcodeDetector
        page.locator("#scan-done").wait_for(timeout=60_000)
        assert page.locator("#scan-overlay").count() == 0
        page.locator("#signers .signed[data-signed='true']").wait_for()
        db = server.db()
        try:
            channel = db.execute("SELECT DISTINCT channel FROM signatures").fetchall()
        finally:
            db.close()
        assert channel == [("qr",)]
        assert probe.violations == [] and probe.errors == []
    finally:
        if camera is not None:
            camera.close()
            camera.browser.close()


def test_ask_to_sign_reaches_the_members_agent_and_the_grid_follows_it_live(tab, server, sandbox):
    from types import SimpleNamespace

    from ..web.test_ceremony_live import Agent

    set_up_admin(tab, "Ada")
    wallet_id, proposal_id, _ = _spend(server, sandbox)
    api = _api(tab)
    code = api.post(f"{server.url}/api/v1/agent/pairings", json={}).json()["code"]
    token = requests.post(f"{server.url}/api/v1/agent/pairings/redeem", json={"code": code, "label": "laptop"},
                          headers={"X-Huddle-CSRF": "none"}).json()["secret"]
    port = server.url.rsplit(":", 1)[1]
    agent = Agent(SimpleNamespace(base=f"http://127.0.0.1:{port}", origin=server.url), token)
    try:
        page = tab.page
        tab.goto(f"/wallets/{wallet_id}/proposals/{proposal_id}")
        row = page.locator("#signers tr[data-user='1']")
        row.locator(".presence[data-here='true']").wait_for()
        assert agent.join(wallet_id, proposal_id)["joined"] == proposal_id
        row.locator(".presence", has_text="agent connected").wait_for()

        row.get_by_role("button", name="Ask to sign").click()
        row.locator(".step[data-step='reviewing']").wait_for()
        row.locator(".device", has_text="coldcard").wait_for()
        row.locator(".signed[data-signed='true']").wait_for()
        # the room may show the signature before the agent's own ack arrives on /agent
        assert wait_for(lambda: agent.acks, what="the agent's acknowledgement") == [{"ok": True, "added": 1}]
        assert page.locator("#ceremony-state").get_attribute("data-state") == "collecting"  # 1 of 2
        assert tab.violations == [] and tab.errors == []
    finally:
        agent.sio.disconnect()
