"""The audit head the PWA remembers (DESIGN "The audit log is a hash chain with a
head everyone remembers"): its canonical encoding matches the shared vectors, it
records a wallet's head on first sight and checks later entries extend it, and a
history rewritten in the database is shown as changed, with approving withheld."""

from __future__ import annotations

import json

import pytest

from coordinator.governance import audit

from ..conftest import VECTORS
from ..web.funding import faucet_address, fund_and_sync
from .conftest import import_wallet, set_up_admin

CANONICAL = json.loads((VECTORS / "canonical.json").read_text(encoding="utf-8"))
# JSON.parse turns 1e3 into the integer 1000 before any encoder sees it; the
# server never sends one (coordinator/canonical.py refuses it).
REFUSABLE = [v for v in CANONICAL["invalid"] if v["name"] != "exponent number"]


@pytest.fixture(scope="module")
def canonical_js(module_page):
    return module_page("canonical")


@pytest.mark.parametrize("vector", CANONICAL["valid"], ids=lambda v: v["name"])
def test_the_js_encoding_matches_the_shared_vectors(canonical_js, vector):
    text, digest = canonical_js.evaluate("async (input) => { const c = window.canonical.canonical(JSON.parse(input));"
                                         " return [c, await window.canonical.sha256Hex(c)]; }", vector["input"])

    assert text == vector["canonical"] and digest == vector["sha256"]


@pytest.mark.parametrize("vector", REFUSABLE, ids=lambda v: v["name"])
def test_the_js_encoding_refuses_what_is_not_canonical(canonical_js, vector):
    code = canonical_js.evaluate("(input) => { try { window.canonical.canonical(JSON.parse(input)); return 'ok'; }"
                                 " catch (err) { return err.code; } }", vector["input"])

    assert code == "not_canonical"


def _rewrite_last_entry(server, wallet_id: int) -> None:
    """What someone with the database file could do: drop the append-only
    triggers and rewrite the last entry, with a hash that is right for it."""
    db = server.db()
    try:
        chain = audit.wallet_chain(wallet_id)
        last = audit.entries(db, chain)[-1]
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'"
                                  ).fetchall():
            db.execute(f'DROP TRIGGER "{name}"')
        forged = audit.Entry(last.chain, last.seq, last.prev_hash, last.at, last.actor, last.type,
                             {**last.body, "forged": True}, "")
        db.execute("UPDATE audit_log SET body = ?, hash = ? WHERE chain = ? AND seq = ?",
                   [json.dumps(forged.body), forged.computed_hash(), chain, last.seq])
        db.conn.commit()
    finally:
        db.close()


def test_the_head_is_recorded_then_extended_and_a_rewritten_history_is_shown_as_changed(tab, server):
    set_up_admin(tab, "Ada")
    wallet_id = import_wallet(server)
    fund_and_sync(server.config, wallet_id)
    page = tab.page

    tab.goto(f"/wallets/{wallet_id}")
    assert page.locator("#history").get_attribute("data-state") == "first"
    tab.goto(f"/wallets/{wallet_id}/spend")
    page.get_by_label("Address").fill(faucet_address())
    page.get_by_label("Amount", exact=True).fill("0.0002")
    page.get_by_label("Memo").fill("new roof")
    page.get_by_role("button", name="Propose this spend").click()
    assert page.locator("#history").get_attribute("data-state") == "extends"
    page.locator("#approve").wait_for()
    proposal_url = page.url

    _rewrite_last_entry(server, wallet_id)
    tab.goto(f"/wallets/{wallet_id}")
    assert page.locator("#history").get_attribute("data-state") == "changed"
    assert "History changed" in page.locator("#history").text_content()
    page.goto(proposal_url)
    assert page.locator("#history").get_attribute("data-state") == "changed"
    page.locator("#comments").wait_for()
    assert page.locator("#approve").count() == 0
    assert tab.violations == [] and tab.errors == []
