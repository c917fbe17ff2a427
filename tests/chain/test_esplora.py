"""The Esplora client against the sandbox over real loopback HTTP."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from coordinator.chain.backend import Rejected, TxNotFound
from coordinator.chain.broadcast import is_already_known
from coordinator.chain.config import from_url
from coordinator.chain.esplora import EsploraClient
from coordinator.errors import InvalidInput, Unsupported

from .spend import send_back
from .walletenv import DESC, OUTSIDE, chain, client, coin, pay, raw_of, sandbox  # noqa: F401


def test_tip_and_block_hashes_match_the_chain(chain, client):
    pay(chain, 0, 0, 50_000, confirm=True)
    height, tip_hash = client.tip()
    assert (height, tip_hash) == (chain.height, chain.tip.hash)
    assert client.block_hash(1) == chain.blocks[1].hash


def test_history_has_confirmed_and_mempool_transactions_with_fees_and_raw_bytes(chain, client):
    first = pay(chain, 0, 0, 70_000, confirm=True)
    second = pay(chain, 0, 0, 30_000)
    spk = DESC.script_pubkey(0, 0).data
    txs = {t.txid: t for t in client.script_history([spk])[spk]}
    assert set(txs) == {first, second}
    assert txs[first].status.confirmed and txs[first].status.block_height == chain.height
    assert not txs[second].status.confirmed
    assert txs[second].fee == chain.mempool[second].fee
    assert txs[first].raw == raw_of(chain, first)
    assert sum(p.value for p in txs[first].prevouts) - sum(o.value for o in txs[first].outputs) == txs[first].fee


def test_a_script_with_more_than_one_page_of_history_is_read_completely(chain, sandbox, client):
    for i in range(60):
        pay(chain, 0, 5, 10_000 + i)
        if i % 10 == 9:
            chain.mine(1)
    spk = DESC.script_pubkey(0, 5).data
    sandbox.reset_counts()
    txs = client.script_history([spk])[spk]
    assert len(txs) == 60 == len({t.txid for t in txs})
    assert sandbox.requests == 3  # /txs, then two /txs/chain/:last pages


def test_utxos_match_the_servers_own_utxo_endpoint(chain, sandbox, client):
    spent_from = pay(chain, 0, 0, 80_000, confirm=True)
    pay(chain, 0, 1, 20_000, confirm=True)
    pay(chain, 0, 1, 5_000)  # still in the mempool
    client.broadcast(send_back(DESC, coin(chain, spent_from, 0, 0), raw_of(chain, spent_from), OUTSIDE))
    scripts = [DESC.script_pubkey(0, i).data for i in (0, 1)]
    ours = client.utxos(scripts)
    for spk in scripts:
        scripthash = hashlib.sha256(spk).hexdigest()
        theirs = httpx.get(f"{sandbox.url}/scripthash/{scripthash}/utxo").json()
        assert sorted((u.txid, u.vout, u.value, u.status.confirmed) for u in ours[spk]) == \
            sorted((u["txid"], u["vout"], u["value"], u["status"]["confirmed"]) for u in theirs)
    assert ours[scripts[0]] == []  # its only coin was spent
    assert sorted(u.value for u in ours[scripts[1]]) == [5_000, 20_000]


def test_fee_estimates_are_sat_per_kvb_rounded_up(sandbox, client):
    httpx.post(f"{sandbox.url}/sandbox/fee-estimates", content=json.dumps({"1": 12.3451, "6": 3.2}))
    assert client.fee_estimates() == {1: 12346, 6: 3200}


def test_a_broadcast_is_accepted_and_a_repeat_while_in_mempool_is_fine(chain, client):
    txid = pay(chain, 0, 0, 80_000, confirm=True)
    raw = send_back(DESC, coin(chain, txid, 0, 0), raw_of(chain, txid), OUTSIDE)
    sent = client.broadcast(raw)
    assert sent in chain.mempool
    assert client.broadcast(raw) == sent  # Core (and the sandbox) answer with the txid again
    assert client.raw_transaction(sent) == raw


def test_a_broadcast_of_a_mined_transaction_is_rejected_with_already_in_chain(chain, client):
    txid = pay(chain, 0, 0, 80_000, confirm=True)
    raw = send_back(DESC, coin(chain, txid, 0, 0), raw_of(chain, txid), OUTSIDE)
    client.broadcast(raw)
    chain.mine(1)
    with pytest.raises(Rejected) as err:
        client.broadcast(raw)
    assert is_already_known(err.value.reason)


def test_a_double_spend_is_rejected_with_the_node_reason(chain, client):
    txid = pay(chain, 0, 0, 80_000, confirm=True)
    mine = coin(chain, txid, 0, 0)
    client.broadcast(send_back(DESC, mine, raw_of(chain, txid), OUTSIDE, fee=500))
    chain.mine(1)
    with pytest.raises(Rejected) as err:
        client.broadcast(send_back(DESC, mine, raw_of(chain, txid), OUTSIDE, fee=900))
    assert "missing" in err.value.reason or "spent" in err.value.reason
    assert not is_already_known(err.value.reason)


def test_an_unknown_transaction_is_not_found(client):
    with pytest.raises(TxNotFound):
        client.raw_transaction("ab" * 32)
    with pytest.raises(TxNotFound):
        client.tx_status("ab" * 32)


def test_from_url_builds_an_esplora_client_and_refuses_what_it_cannot_use(sandbox):
    backend = from_url(f"esplora:{sandbox.url}", "regtest", proxy="socks5://127.0.0.1:9050")
    assert isinstance(backend, EsploraClient) and backend.network == "regtest"
    backend.close()
    for bad in ("mempool.space", "esplora:ftp://x/api", "esplora:https://u:p@x/api", "electrum:x"):
        with pytest.raises(InvalidInput):
            from_url(bad, "bitcoin")
    with pytest.raises(Unsupported):
        from_url("core:http://127.0.0.1:8332", "bitcoin", proxy="socks5://127.0.0.1:9050")
    core = from_url("core:http://user:pw@127.0.0.1:8332", "bitcoin")
    assert type(core).__name__ == "CoreClient" and core.network == "bitcoin"
    core.close()
    with pytest.raises(InvalidInput):
        from_url("esplora:https://mempool.space/api", "bitcoin", proxy="http://127.0.0.1:9050")


def test_requests_through_a_socks5_proxy_reach_the_server(chain, sandbox):
    from .socks import Socks5Proxy

    pay(chain, 0, 0, 10_000, confirm=True)
    with Socks5Proxy() as proxy:
        with EsploraClient(sandbox.url, "regtest", proxy=proxy.url) as via_tor:
            assert via_tor.tip() == (chain.height, chain.tip.hash)
        assert proxy.connections >= 1


def test_a_server_lying_about_an_output_value_is_caught_by_the_txid(chain, sandbox):
    from coordinator.chain.backend import BadResponse

    from .flaky import FlakyServer

    txid = pay(chain, 0, 0, 10_000, confirm=True)
    body = httpx.get(f"{sandbox.url}/tx/{txid}").json()
    body["vout"][0]["value"] += 1_000_000
    with FlakyServer([(200, json.dumps(body), 0)]) as liar:
        with EsploraClient(liar.url, "regtest") as fooled, pytest.raises(BadResponse):
            fooled.transaction(txid)
    with EsploraClient(sandbox.url, "regtest") as honest:
        assert honest.transaction(txid).raw == raw_of(chain, txid)
