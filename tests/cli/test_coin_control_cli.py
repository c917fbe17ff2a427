"""``huddle wallet coins`` and ``huddle psbt create`` with frozen coins and an immature
coinbase, through the real console script against the regtest sandbox: the listing marks
them, automatic selection leaves them, and ``--coin`` refuses them by code
(docs/errors-coins.md)."""

from __future__ import annotations

import json

import pytest

from coordinator.chain.sandbox import faucet
from coordinator.chain.sandbox.chain import Chain
from coordinator.chain.sandbox.server import serve
from coordinator.governance import coin_freeze, labels
from coordinator.psbt import codec
from coordinator.store import chain as chain_store
from coordinator.store import open_database
from tests import keys

from .runner import Huddle, fails, huddle, ok  # noqa: F401  (huddle: a fixture)

DESC = keys.descriptor(2, 3)
TO = "bcrt1qyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zs4w3j0"


@pytest.fixture
def sandbox():
    with serve(Chain()) as server:
        yield server


@pytest.fixture
def group(huddle, tmp_path, sandbox):
    """The wallet "group" with 60,000 and 90,000 sat at receive 0 and 1, and a coinbase at
    receive 2 one block deep, synced; the 90,000 sat coin frozen by a label import."""
    cli = Huddle(huddle, tmp_path / "data", network="regtest")
    env = {"HUDDLE_CHAIN": f"esplora:{sandbox.url}"}
    (tmp_path / "wallet.txt").write_text(DESC.to_string())
    ok(cli("wallet", "import", str(tmp_path / "wallet.txt"), "--name", "group", env=env))
    for index, amount in enumerate((60_000, 90_000)):
        faucet.pay(sandbox.chain, DESC.script_pubkey(0, index).data, amount, True)
    sandbox.chain.mine(1, script_pubkey=DESC.script_pubkey(0, 2).data)
    ok(cli("wallet", "sync", "group", env=env))
    db = open_database(cli.database)
    try:
        found = {u.index: u.outpoint for u in chain_store.utxos(db, 1)}
        labels.import_labels(db, 1, "regtest", f'{{"type": "output", "ref": "{found[1]}", "spendable": false}}', 0)
    finally:
        db.close()
    return cli, found


def test_the_listing_marks_the_frozen_coin_and_the_immature_coinbase(group):
    cli, found = group

    text = ok(cli("wallet", "coins", "group"))
    rows = {c["outpoint"]: c for c in json.loads(ok(cli("wallet", "coins", "group", "--json")))["coins"]}

    assert "frozen by label import" in next(x for x in text.splitlines() if found[1] in x)
    assert "immature (coinbase)" in next(x for x in text.splitlines() if found[2] in x)
    assert [(rows[found[i]]["frozen"], rows[found[i]]["mature"]) for i in range(3)] == [
        (False, True), (True, True), (False, False)]


def test_automatic_selection_takes_neither_and_choosing_either_is_refused(group):
    cli, found = group

    fails(cli("psbt", "create", "group", "--to", TO, "100000", "--fee-rate", "1"), 3, "insufficient_funds")
    fails(cli("psbt", "create", "group", "--to", TO, "10000", "--coin", found[1], "--fee-rate", "1"), 5,
          "coin_frozen")
    fails(cli("psbt", "create", "group", "--to", TO, "10000", "--coin", found[2], "--fee-rate", "1"), 5,
          "coin_immature")
    swept = json.loads(ok(cli("psbt", "create", "group", "--to", TO, "max", "--fee-rate", "1", "--json")))
    assert [f"{i.txid.hex()}:{i.vout}" for i in codec.parse(swept["psbt"]).inputs] == [found[0]]


def test_unfrozen_the_coin_is_chosen_again(group):
    cli, found = group
    db = open_database(cli.database)
    try:
        txid, vout = found[1].split(":")
        coin_freeze.set_frozen(db, 1, (txid, int(vout)), False, 0)
    finally:
        db.close()

    created = json.loads(ok(cli("psbt", "create", "group", "--to", TO, "100000", "--fee-rate", "1", "--json")))

    assert found[1] in [f"{i.txid.hex()}:{i.vout}" for i in codec.parse(created["psbt"]).inputs]
