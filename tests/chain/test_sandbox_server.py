"""The sandbox speaks Esplora over real HTTP on loopback, shapes and status codes included."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request

import bdkpython as bdk
import pytest

from coordinator.chain.sandbox import Chain, faucet_pay, serve
from coordinator.chain.sandbox.tx import Tx, sha256d
from coordinator.errors import InvalidInput

from .. import keys
from ..psbt.chain import sign
from .spends import finalize, fund, unsigned

DESC = keys.descriptor(2, 3, True, "wsh")
ADDRESS = DESC.address(0, 0, "regtest")
SPK = DESC.script_pubkey(0, 0).data
SCRIPTHASH = hashlib.sha256(SPK).hexdigest()


def get(url: str):
    with urllib.request.urlopen(url) as answer:
        body = answer.read()
        assert answer.headers["X-Huddle-Sandbox"] == "regtest"
        return json.loads(body) if answer.headers["Content-Type"] == "application/json" else body.decode()


def post(url: str, body: str | dict) -> tuple[int, str]:
    data = json.dumps(body).encode() if isinstance(body, dict) else body.encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST")) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture()
def sandbox():
    chain = Chain()
    with serve(chain) as server:
        yield server


def test_tip_blocks_and_headers_are_real(sandbox):
    chain = sandbox.chain
    chain.mine(3)
    assert get(sandbox.url + "/blocks/tip/height") == "3"
    assert get(sandbox.url + "/blocks/tip/hash") == chain.tip.hash
    assert get(sandbox.url + "/block-height/0") == "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
    header = bytes.fromhex(get(f"{sandbox.url}/block/{chain.tip.hash}/header"))
    assert len(header) == 80 and sha256d(header)[::-1].hex() == chain.tip.hash
    block = get(f"{sandbox.url}/block/{chain.tip.hash}")
    assert block["height"] == 3 and block["previousblockhash"] == chain.blocks[2].hash and block["tx_count"] == 1
    assert [b["height"] for b in get(sandbox.url + "/blocks")] == [3, 2, 1, 0]
    assert get(f"{sandbox.url}/block/{chain.blocks[2].hash}/status") == {
        "in_best_chain": True, "height": 2, "next_best": chain.tip.hash}
    with pytest.raises(urllib.error.HTTPError) as missing:
        get(sandbox.url + "/block-height/4")
    assert missing.value.code == 404


def test_transaction_json_has_esploras_shape(sandbox):
    chain = sandbox.chain
    utxo = fund(chain, DESC, 300_000)
    spend = chain.submit(finalize(sign(unsigned(chain, DESC, [utxo], fee=2_000), [0, 1])))
    tx = get(f"{sandbox.url}/tx/{spend}")
    assert set(tx) == {"txid", "version", "locktime", "vin", "vout", "size", "weight", "fee", "status"}
    assert tx["fee"] == 2_000 and tx["status"] == {"confirmed": False}
    vin = tx["vin"][0]
    assert vin["prevout"] == {"scriptpubkey": SPK.hex(), "scriptpubkey_asm": "OP_0 OP_PUSHBYTES_32 " + SPK[2:].hex(),
                              "scriptpubkey_type": "v0_p2wsh", "scriptpubkey_address": ADDRESS, "value": 300_000}
    assert vin["txid"] == utxo.txid and vin["is_coinbase"] is False and len(vin["witness"]) == 4
    assert vin["inner_witnessscript_asm"].startswith("OP_PUSHNUM_2 OP_PUSHBYTES_33")
    chain.mine(1)
    status = get(f"{sandbox.url}/tx/{spend}/status")
    assert status == {"confirmed": True, "block_height": chain.height, "block_hash": chain.tip.hash,
                      "block_time": chain.tip.time}
    coinbase = get(f"{sandbox.url}/tx/{chain.tip.txs[0].txid}")
    assert coinbase["vin"][0]["is_coinbase"] and coinbase["vin"][0]["prevout"] is None and coinbase["fee"] == 0
    assert get(f"{sandbox.url}/tx/{spend}/hex") == chain.confirmed[spend][0].serialize().hex()


def test_outspends_and_merkle_proof(sandbox):
    chain = sandbox.chain
    utxo = fund(chain, DESC, 300_000)
    spend = chain.submit(finalize(sign(unsigned(chain, DESC, [utxo]), [0, 1])))
    assert get(f"{sandbox.url}/tx/{utxo.txid}/outspend/{utxo.vout}") == {
        "spent": True, "txid": spend, "vin": 0, "status": {"confirmed": False}}
    assert get(f"{sandbox.url}/tx/{spend}/outspends") == [{"spent": False}]
    chain.mine(1)
    proof = get(f"{sandbox.url}/tx/{spend}/merkle-proof")
    node = bytes.fromhex(spend)[::-1]
    for i, sibling in enumerate(proof["merkle"]):
        pair = (bytes.fromhex(sibling)[::-1], node) if proof["pos"] >> i & 1 else (node, bytes.fromhex(sibling)[::-1])
        node = sha256d(pair[0] + pair[1])
    assert node == chain.tip.merkle_root and proof["block_height"] == chain.height


def test_scripthash_and_address_answer_alike(sandbox):
    chain = sandbox.chain
    faucet_pay(chain, SPK, 70_000, confirm=True)
    pending = faucet_pay(chain, SPK, 30_000)
    stats = get(f"{sandbox.url}/scripthash/{SCRIPTHASH}")
    assert stats["scripthash"] == SCRIPTHASH
    assert stats["chain_stats"] == {"funded_txo_count": 1, "funded_txo_sum": 70_000, "spent_txo_count": 0,
                                    "spent_txo_sum": 0, "tx_count": 1}
    assert stats["mempool_stats"]["funded_txo_sum"] == 30_000
    by_address = get(f"{sandbox.url}/address/{ADDRESS}")
    assert by_address.pop("address") == ADDRESS and stats.pop("scripthash") and by_address == stats
    txs = get(f"{sandbox.url}/scripthash/{SCRIPTHASH}/txs")
    assert [t["status"]["confirmed"] for t in txs] == [False, True] and txs[0]["txid"] == pending
    utxos = get(f"{sandbox.url}/address/{ADDRESS}/utxo")
    assert sorted(u["value"] for u in utxos) == [30_000, 70_000]
    assert set(utxos[0]) == {"txid", "vout", "status", "value"}
    assert [t["txid"] for t in get(f"{sandbox.url}/scripthash/{SCRIPTHASH}/txs/mempool")] == [pending]


def test_confirmed_history_pages_by_25_newest_first(sandbox):
    chain = sandbox.chain
    paid = []
    for i in range(30):
        paid.append(faucet_pay(chain, SPK, 10_000 + i))
        chain.mine(1)
    first = get(f"{sandbox.url}/scripthash/{SCRIPTHASH}/txs/chain")
    assert [t["txid"] for t in first] == paid[::-1][:25]
    rest = get(f"{sandbox.url}/scripthash/{SCRIPTHASH}/txs/chain/{first[-1]['txid']}")
    assert [t["txid"] for t in rest] == paid[::-1][25:]
    assert get(f"{sandbox.url}/address/{ADDRESS}/txs") == first


def test_post_tx_answers_txid_or_400_with_the_nodes_reason(sandbox):
    chain = sandbox.chain
    utxo = fund(chain, DESC, 300_000)
    good = finalize(sign(unsigned(chain, DESC, [utxo]), [0, 1])).hex()
    bad = finalize(sign(unsigned(chain, DESC, [utxo], extra_out=5_000), [0, 2])).hex()
    assert post(sandbox.url + "/tx", bad) == (
        400, "sendrawtransaction RPC error -26: bad-txns-in-belowout, value in (0.003) < value out (0.00304)")
    assert post(sandbox.url + "/tx", good) == (200, Tx.parse(bytes.fromhex(good)).txid)
    assert post(sandbox.url + "/tx", "zz") == (
        400, "sendrawtransaction RPC error -22: TX decode failed. Make sure the tx has at least one input.")


def test_legacy_error_style_wraps_the_rpc_error_in_json():
    chain = Chain()
    with serve(chain, error_style="legacy") as server:
        assert post(server.url + "/tx", "00") == (
            400, 'sendrawtransaction RPC error: {"code":-22,"message":"TX decode failed. '
                 'Make sure the tx has at least one input."}')


def test_fee_estimates_mempool_and_request_counts(sandbox):
    faucet_pay(sandbox.chain, SPK, 20_000)
    sandbox.reset_counts()
    estimates = get(sandbox.url + "/fee-estimates")
    assert all(isinstance(v, float) for v in estimates.values()) and "1" in estimates
    assert get(sandbox.url + "/mempool")["count"] == 1
    assert get(sandbox.url + "/mempool/txids") == list(sandbox.chain.mempool)
    assert sandbox.requests == 3 and sandbox.counts["GET /fee-estimates"] == 1


def test_dev_endpoints_mine_fund_and_reorg(sandbox):
    status, body = post(sandbox.url + "/sandbox/faucet", {"address": ADDRESS, "amount": 50_000, "confirm": True})
    txid = json.loads(body)["txid"]
    height = sandbox.chain.height
    assert json.loads(post(sandbox.url + "/sandbox/mine", {"blocks": 2})[1])["height"] == height + 2
    answer = json.loads(post(sandbox.url + "/sandbox/invalidate", {"height": height})[1])
    assert answer["height"] == height - 1 and txid in answer["returned_to_mempool"]
    assert get(f"{sandbox.url}/tx/{txid}/status") == {"confirmed": False}
    status, body = post(sandbox.url + "/sandbox/faucet", {"address": "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
                                                         "amount": 1_000})
    assert status == 400 and json.loads(body)["error"]["code"] == "wrong_network"
    assert get(sandbox.url + "/sandbox/info")["network"] == "regtest"


def test_bdk_esplora_client_sees_what_the_sandbox_holds(sandbox):
    chain = sandbox.chain
    for i in range(4):
        faucet_pay(chain, DESC.script_pubkey(0, i).data, 25_000 + i, confirm=i % 2 == 0)
    wallet = bdk.Wallet(bdk.Descriptor(DESC.to_string(branch=0), bdk.NetworkKind.TEST),
                        bdk.Descriptor(DESC.to_string(branch=1), bdk.NetworkKind.TEST),
                        bdk.Network.REGTEST, bdk.Persister.new_in_memory())
    client = bdk.EsploraClient(sandbox.url)
    wallet.apply_update(client.full_scan(wallet.start_full_scan().build(), 5, 2))
    balance = wallet.balance()
    assert balance.total.to_sat() == sum(25_000 + i for i in range(4))
    assert balance.confirmed.to_sat() == 25_000 + 25_001 + 25_002  # the third payment mined the second
    assert wallet.latest_checkpoint().hash == bdk.BlockHash.from_string(chain.tip.hash)


def test_non_regtest_and_non_loopback_are_refused():
    with pytest.raises(InvalidInput):
        serve(Chain(), network="testnet")
    with pytest.raises(InvalidInput):
        serve(Chain(), host="0.0.0.0")
