"""GET /api/v1/wallets/{id}/coins and coin control through POST .../proposals: every
member reads the coins (values in integer sats, confirmations, address, derivation,
label, the proposal holding each); outsiders get 401 or 404 as the sweep expects; a
proposal with chosen coins spends exactly those, and each bad choice is refused in the
one error shape with its own code.

Keyholders freeze and unfreeze a coin (POST .../coins/freeze, .../unfreeze); a frozen
coin, by them or by a BIP-329 import, is listed with why and refused when chosen
(coin_frozen), as is a coinbase short of 100 confirmations (coin_immature)."""

from __future__ import annotations

from embit.psbt import PSBT

from coordinator.chain.esplora import EsploraClient
from coordinator.chain.sandbox import faucet
from coordinator.chain.sandbox.chain import Chain
from coordinator.chain.sandbox.server import serve
from coordinator.chain.sync import sync_wallet
from coordinator.errors import CODES
from coordinator.store import chain as chain_store
from coordinator.store import open_database, wallets

from .. import keys
from .conftest import Browser, member
from .coin_funding import fund_coins_and_sync
from .funding import faucet_address


def _propose(browser, wallet_id: int, coins: list | None = None, amount: int = 20_000):
    body = {"payments": [{"address": faucet_address(), "amount": amount}], "memo": "paint", "fee_rate": 2_000}
    if coins is not None:
        body["coins"] = coins
    return browser.post(f"/wallets/{wallet_id}/proposals", body)


def _refusal(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["code"] in CODES
    return body["error"]


def test_a_viewer_lists_the_coins_with_sats_confirmations_address_derivation_and_label(app, config, admin,
                                                                                        wallet_id):
    carol = member(app, admin, wallet_id, "viewer", "Carol")
    first, second = fund_coins_and_sync(config, wallet_id)
    address = keys.descriptor(2, 3).address(0, 1, "regtest")
    label = f'{{"type": "addr", "ref": "{address}", "label": "donations box"}}'
    assert admin.post(f"/wallets/{wallet_id}/labels", {"text": label}).status_code == 200

    answer = carol.get(f"/wallets/{wallet_id}/coins")

    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["total"], body["free"]) == (150_000, 150_000) and isinstance(body["tip_height"], int)
    assert [(c["outpoint"], c["value"], c["confirmations"], c["branch"], c["index"]) for c in body["coins"]] == [
        (first, 60_000, 2, "receive", 0), (second, 90_000, 1, "receive", 1)]
    assert body["coins"][1]["address"] == address
    assert [(c["label"], c["label_from"], c["locked"]) for c in body["coins"]] == [
        (None, None, False), ("donations box", "addr", False)]


def test_outsiders_are_refused_the_coins_as_the_sweep_expects(app, config, admin, wallet_id):
    other = admin.post("/wallets/import", {"text": keys.descriptor(2, 2, first=3).to_string(),
                                           "name": "Other"}).get_json()["wallet"]
    eve = member(app, admin, other["id"], "admin", "Eve")
    fund_coins_and_sync(config, wallet_id)

    anonymous = Browser(app.test_client()).get(f"/wallets/{wallet_id}/coins")
    outsider = eve.get(f"/wallets/{wallet_id}/coins")

    assert (anonymous.status_code, _refusal(anonymous)["code"]) == (401, "not_signed_in")
    assert (outsider.status_code, _refusal(outsider)["code"]) == (404, "wallet_not_found")
    assert keys.descriptor(2, 3).address(0, 0, "regtest") not in outsider.get_data(as_text=True)


def test_a_wallet_not_synced_yet_lists_no_coins(admin, wallet_id):
    body = admin.get(f"/wallets/{wallet_id}/coins").get_json()

    assert (body["coins"], body["total"], body["tip_height"]) == ([], 0, None)


def test_a_proposal_with_a_chosen_coin_spends_exactly_it(app, config, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    first, second = fund_coins_and_sync(config, wallet_id)

    made = _propose(bob, wallet_id, [first])

    assert made.status_code == 201, made.get_json()
    spent = [f"{vin.txid.hex()}:{vin.vout}" for vin in PSBT.from_base64(made.get_json()["psbt"]).tx.vin]
    assert spent == [first]


def test_the_listed_weights_price_a_spend_at_no_less_than_its_fee(app, config, admin, wallet_id):
    """The PWA's estimate counts every recipient as a P2WSH output, with change: at or
    above what the server charges for a one-coin spend to a P2WPKH address."""
    first, _ = fund_coins_and_sync(config, wallet_id)
    weights = admin.get(f"/wallets/{wallet_id}/coins").get_json()["weights"]
    made = _propose(admin, wallet_id, [first]).get_json()["proposal"]["id"]

    fee = admin.get(f"/wallets/{wallet_id}/proposals/{made}").get_json()["summary"]["fee"]
    vbytes = -(-(weights["overhead"] + weights["input"] + weights["output_p2wsh"] + weights["change_output"]) // 4)

    assert fee <= vbytes * 2 <= fee + 2 * 12  # 2 sat/vB; a P2WPKH output is 12 vB smaller than a P2WSH one


def test_a_coin_held_by_another_pending_proposal_is_listed_locked_and_refused(app, config, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    first, second = fund_coins_and_sync(config, wallet_id)
    holder = _propose(bob, wallet_id, [second]).get_json()["proposal"]["id"]

    listed = {c["outpoint"]: c for c in admin.get(f"/wallets/{wallet_id}/coins").get_json()["coins"]}
    refused = _propose(admin, wallet_id, [second, first])

    assert (listed[second]["locked"], listed[second]["locked_by"]) == (True, holder)
    assert (listed[first]["locked"], listed[first]["locked_by"]) == (False, None)
    error = _refusal(refused)
    assert (refused.status_code, error["code"], error["details"]) == (409, "coin_locked", {"outpoint": second})
    assert admin.get(f"/wallets/{wallet_id}/coins").get_json()["free"] == 60_000


def test_bad_foreign_and_doubled_coins_are_refused_each_with_its_own_code(app, config, admin, wallet_id):
    first, _ = fund_coins_and_sync(config, wallet_id)
    cases = [(["txid:0"], "coin_malformed"), ([first, first], "coin_duplicate"),
             ([f"{'cd' * 32}:1"], "coin_foreign"), ([3], "bad_json"), ([], "bad_spend")]

    found = [(_refusal(r := _propose(admin, wallet_id, coins))["code"], r.status_code) for coins, _ in cases]

    assert found == [(code, 400) for _, code in cases]
    assert admin.get(f"/wallets/{wallet_id}/proposals").get_json()["proposals"] == []


def test_a_viewer_may_list_coins_but_not_propose_with_them(app, config, admin, wallet_id):
    carol = member(app, admin, wallet_id, "viewer", "Carol")
    first, _ = fund_coins_and_sync(config, wallet_id)

    assert carol.get(f"/wallets/{wallet_id}/coins").status_code == 200
    assert _refusal(_propose(carol, wallet_id, [first]))["code"] == "forbidden"


def _coins(browser, wallet_id: int) -> dict:
    return {c["outpoint"]: c for c in browser.get(f"/wallets/{wallet_id}/coins").get_json()["coins"]}


def test_a_keyholder_freezes_a_coin_every_member_sees_who_and_it_cannot_be_chosen_until_unfrozen(
        app, config, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    carol = member(app, admin, wallet_id, "viewer", "Carol")
    first, second = fund_coins_and_sync(config, wallet_id)

    frozen = bob.post(f"/wallets/{wallet_id}/coins/freeze", {"outpoint": first.upper()})
    refused = _propose(admin, wallet_id, [first])

    assert frozen.status_code == 200 and frozen.get_json()["changed"] is True
    seen = _coins(carol, wallet_id)[first]
    assert (seen["frozen"], seen["frozen_via"], seen["frozen_by_name"], seen["frozen_reason"]) == (
        True, "member", "Bob", "frozen by Bob")
    assert frozen.get_json()["coin"] == seen
    error = _refusal(refused)
    assert (refused.status_code, error["code"], error["details"]["outpoint"]) == (409, "coin_frozen", first)
    entries = carol.get(f"/wallets/{wallet_id}/audit").get_json()["entries"]
    assert [(e["type"], e["body"]) for e in entries if e["type"] == "coin_frozen"] == [
        ("coin_frozen", {"outpoint": first})]

    thawed = admin.post(f"/wallets/{wallet_id}/coins/unfreeze", {"outpoint": first})
    assert (thawed.status_code, thawed.get_json()["coin"]["frozen"]) == (200, False)
    assert _propose(admin, wallet_id, [first]).status_code == 201


def test_automatic_selection_leaves_a_frozen_coin(app, config, admin, wallet_id):
    first, second = fund_coins_and_sync(config, wallet_id)
    admin.post(f"/wallets/{wallet_id}/coins/freeze", {"outpoint": second})

    refused = _propose(admin, wallet_id, amount=80_000)  # only the frozen 90,000 sat coin could pay it
    body = admin.get(f"/wallets/{wallet_id}/coins").get_json()

    error = _refusal(refused)
    assert (refused.status_code, error["code"], error["details"]["available"]) == (400, "insufficient_funds",
                                                                                   60_000)
    assert (body["free"], body["spendable"]) == (150_000, 60_000)


def test_a_bip329_import_freezes_and_the_export_carries_spendable_back_out(app, config, admin, wallet_id):
    carol = member(app, admin, wallet_id, "viewer", "Carol")
    first, _ = fund_coins_and_sync(config, wallet_id)
    line = f'{{"type": "output", "ref": "{first}", "label": "dust?", "spendable": false}}'

    assert admin.post(f"/wallets/{wallet_id}/labels", {"text": line}).status_code == 200
    listed = carol.get(f"/wallets/{wallet_id}/coins").get_json()
    exported = carol.get(f"/wallets/{wallet_id}/labels").get_data(as_text=True)

    coin = next(c for c in listed["coins"] if c["outpoint"] == first)
    assert (coin["frozen"], coin["frozen_via"], coin["frozen_reason"]) == (True, "import",
                                                                          "frozen by label import (Ada)")
    assert listed["may_freeze"] is False and admin.get(f"/wallets/{wallet_id}/coins").get_json()["may_freeze"]
    assert line in exported.splitlines()
    assert _refusal(_propose(admin, wallet_id, [first]))["code"] == "coin_frozen"


def test_freezing_refuses_viewers_bad_outpoints_and_a_coin_a_proposal_holds(app, config, admin, wallet_id):
    carol = member(app, admin, wallet_id, "viewer", "Carol")
    first, second = fund_coins_and_sync(config, wallet_id)
    holder = _propose(admin, wallet_id, [second]).get_json()["proposal"]["id"]
    cases = [(carol, {"outpoint": first}, 403, "forbidden"), (admin, {"outpoint": "txid:0"}, 400, "coin_malformed"),
             (admin, {"outpoint": f"{'cd' * 32}:1"}, 400, "coin_foreign"), (admin, {"coin": first}, 400, "bad_json"),
             (admin, {"outpoint": second}, 409, "coin_locked")]

    found = [(r.status_code, _refusal(r)["code"])
             for r in (who.post(f"/wallets/{wallet_id}/coins/freeze", body) for who, body, _, _ in cases)]

    assert found == [(status, code) for _, _, status, code in cases]
    held = admin.post(f"/wallets/{wallet_id}/coins/freeze", {"outpoint": second})
    assert _refusal(held)["details"] == {"outpoint": second, "proposal": holder}
    assert not any(c["frozen"] for c in _coins(admin, wallet_id).values())
    assert [e for e in admin.get(f"/wallets/{wallet_id}/audit").get_json()["entries"]
            if e["type"] == "coin_frozen"] == []


def _fund_with_coinbase(config, wallet_id: int) -> tuple[str, str]:
    """A confirmed 60,000 sat coin at receive 0 and a block's coinbase at receive 1, one
    block deep, synced: their outpoints."""
    server = serve(Chain())
    try:
        db = open_database(config.database)
        name = db.execute("SELECT name FROM wallets WHERE id = ?", [wallet_id]).fetchone()[0]
        wallet = wallets.get(db, name)
        faucet.pay(server.chain, wallet.descriptor.script_pubkey(0, 0).data, 60_000, confirm=True)
        server.chain.mine(1, script_pubkey=wallet.descriptor.script_pubkey(0, 1).data)
        with EsploraClient(server.url, "regtest", retries=1) as backend:
            sync_wallet(db, wallet, backend)
        found = {u.index: u.outpoint for u in chain_store.utxos(db, wallet_id)}
        db.close()
        return found[0], found[1]
    finally:
        server.stop()


def test_an_immature_coinbase_is_listed_as_such_left_by_selection_and_refused_when_chosen(admin, wallet_id,
                                                                                           config):
    paid, reward = _fund_with_coinbase(config, wallet_id)

    coin = _coins(admin, wallet_id)[reward]
    chosen = _propose(admin, wallet_id, [paid, reward])
    automatic = _propose(admin, wallet_id, amount=1_000_000)  # the coinbase alone could pay it

    assert (coin["coinbase"], coin["mature"], coin["confirmations_needed"]) == (True, False, 99)
    error = _refusal(chosen)
    assert (chosen.status_code, error["code"], error["details"]) == (
        409, "coin_immature", {"outpoint": reward, "confirmations": 1, "needed": 99})
    assert "99 more" in error["message"]
    assert _refusal(automatic)["code"] == "insufficient_funds"
