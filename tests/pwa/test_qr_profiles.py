"""Per-device QR profiles (issue 13): one rule per device kind, the PWA's table
(pwa/js/qrprofiles.js, run in Chromium) the same as the core's
(coordinator/qr/profiles.py), and a SeedSigner slot shown the compact PSBT at its
profile's settings in a real browser, decoded from screenshots."""

from __future__ import annotations

import base64
import io

import pytest
import zxingcpp
from PIL import Image

from coordinator.accounts import roles
from coordinator.governance import audit, proposals
from coordinator.psbt import codec
from coordinator.psbt.model import Recipient
from coordinator.qr import PRESETS, StreamDecoder
from coordinator.qr.compact import COMPACT, compact_psbt
from coordinator.qr.profiles import DEFAULT, PROFILES, kind_of, profile_for
from coordinator.qr.sequence import FORMATS
from coordinator.store import wallets
from coordinator.store.db import write
from coordinator.wallet.descriptor import MultisigDescriptor
from coordinator.wallet.keys import Cosigner

from .. import keys
from ..sessions.ceremony_env import fund
from ..web.funding import faucet_address
from .conftest import set_up_admin

EVERY = {**PROFILES, "default": DEFAULT}


def test_only_devices_documented_to_ignore_non_witness_utxo_get_the_compact_psbt():
    assert {kind for kind, p in PROFILES.items() if p.compact} == set(COMPACT) == {"seedsigner", "krux", "jade"}
    for kind in ("keystone", "passport", "coldcard_q"):  # they read it when present
        assert PROFILES[kind].compact is False, kind
    assert DEFAULT.compact is False  # an undocumented device gets the full PSBT


def test_each_device_is_shown_a_format_it_reads():
    assert PROFILES["coldcard_q"].format == "bbqr"  # the Q reads no UR
    assert PROFILES["krux"].format == "bbqr"  # since 24.07.0
    for kind in ("keystone", "passport", "seedsigner", "jade"):  # UR crypto-psbt; Passport and Jade read no BBQr
        assert PROFILES[kind].format == "ur", kind
    assert DEFAULT.format == "ur"


@pytest.mark.parametrize("kind", sorted(EVERY))
def test_every_profile_is_within_the_displays_controls_and_cites_its_source(kind):
    profile = EVERY[kind]
    assert profile.format in FORMATS and profile.density in PRESETS and 2 <= profile.fps <= 10
    assert len(profile.source) > 40


def test_a_slots_device_name_finds_its_profile_and_anything_else_gets_the_default():
    assert [kind_of(n) for n in ("Coldcard Q", "coldcard-q", "Q1", "SeedSigner", " Jade")] == \
        ["coldcard_q", "coldcard_q", "coldcard_q", "seedsigner", "jade"]
    assert profile_for("Keystone") is PROFILES["keystone"]
    for other in ("coldcard", "ledger", "", None, "Jade Plus"):  # a Mk4 has no camera; unknown kinds
        assert profile_for(other) is DEFAULT, other


def test_the_pwas_table_is_the_cores(module_page):
    page = module_page("qrprofiles")
    shown = page.evaluate("() => window.qrprofiles.allProfiles()")
    assert set(shown) == set(EVERY)
    for kind, profile in EVERY.items():
        mine = {k: shown[kind][k] for k in ("format", "density", "fps", "compact")}
        assert mine == {"format": profile.format, "density": profile.density, "fps": profile.fps,
                        "compact": profile.compact}, kind
    kinds = page.evaluate("() => ['Coldcard Q', 'Q1', ' SeedSigner', 'ledger'].map(window.qrprofiles.kindOf)")
    assert kinds == [kind_of(n) for n in ("Coldcard Q", "Q1", " SeedSigner", "ledger")]


def _seedsigner_wallet(server) -> int:
    """A 2-of-3 whose first slot is a SeedSigner, owned by the admin."""
    first = Cosigner.create(keys.xpub(0), keys.fingerprint(0), keys.path(True, "wsh"), "Ada's", device="SeedSigner")
    descriptor = MultisigDescriptor("wsh", 2, (first, keys.cosigner(1), keys.cosigner(2)))
    db = server.db()
    try:
        wallet = wallets.add(db, "Seed vault", "regtest", descriptor)
        with write(db):
            roles.grant(db, 1, wallet.id, "admin")
            audit.start_wallet_chain(db, wallet.id, actor="user:1")
        return wallet.id
    finally:
        db.close()


def _read(canvas, tries: int) -> StreamDecoder:
    decoder = StreamDecoder()
    for _ in range(tries):
        if decoder.complete:
            break
        for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(canvas.screenshot()))):
            decoder.receive(found.text)
    return decoder


def test_a_seedsigner_slot_is_shown_the_compact_psbt_at_its_profile_and_may_switch_to_the_full_one(
        tab, server, sandbox):
    set_up_admin(tab, "Ada")
    wallet_id = _seedsigner_wallet(server)
    fund(sandbox, server.config.database, wallet_id)
    db = server.db()
    try:
        made = proposals.create(db, wallets.get(db, "Seed vault"), 1, [Recipient(faucet_address(), 20_000)],
                                "paint", 2_000)
    finally:
        db.close()
    page = tab.page
    tab.goto(f"/wallets/{wallet_id}/proposals/{made.id}")
    page.locator("#show-qr").click()
    canvas = page.locator("#qr-canvas[data-compact='seedsigner'][data-format='ur'][data-density='medium']")
    canvas.wait_for()
    assert page.locator("#qr-speed").input_value() == "5"
    page.locator("#qr-speed").fill("10")
    full = codec.parse(base64.b64decode(made.psbt))
    decoder = _read(canvas, 80)
    assert decoder.psbt == codec.serialize(compact_psbt(full, "seedsigner"))
    assert int(canvas.get_attribute("data-psbt-bytes")) == len(decoder.psbt) < len(codec.serialize(full))

    page.locator("#qr-compact").uncheck()  # the member may always show the full PSBT
    plain = page.locator("#qr-canvas[data-compact='']")
    plain.wait_for()
    assert int(plain.get_attribute("data-psbt-bytes")) == len(codec.serialize(full))
    assert tab.violations == [] and tab.errors == []
