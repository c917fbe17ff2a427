"""The Esplora client's manners over real loopback HTTP: retries with backoff
on GETs only, a POST /tx that timed out is not sent again, typed errors."""

from __future__ import annotations

import pytest

from coordinator.chain.backend import (
    BadResponse,
    Rejected,
    Timeout,
    TxNotFound,
    Unreachable,
)
from coordinator.chain.esplora import EsploraClient

from .flaky import FlakyServer

TXID = "aa" * 32
# A real 1-in 1-out segwit transaction (BIP-143 example, native P2WPKH).
RAW = bytes.fromhex(
    "01000000000101db6b1b20aa0fd7b23880be2ecbd4a98130974cf4748fb66092ac4d3ceb1a54770100000000feffffff02b8b4eb0b"
    "000000001976a914a457b684d7f0d539a46a45bbc043f35b59d0d96388ac0008af2f000000001976a914fd270b1ee6abcaea97fe"
    "a7ad0402e8bd8ad6d77c88ac02473044022047ac8e878352d3ebbde1c94ce3a10d057c24175747116f8288e5d794d12d482f0220"
    "217f36a485cae903c713331d877c1f64677e3622ad4010726870540656fe9dcb012103ad1d8e89212f0b92c74d23bb710c00662a"
    "d1470198ac48c43f7d6f93a2a2687392040000"
)


def _client(url: str, **kw) -> EsploraClient:
    return EsploraClient(url, "regtest", sleep=lambda s: None, **kw)


def test_a_get_is_retried_after_server_errors_and_then_succeeds():
    with FlakyServer([(503, "busy", 0), (502, "", 0), (200, "812", 0)]) as server:
        with _client(server.url) as client:
            assert client._text("/blocks/tip/height") == "812"
    assert [p for _, p in server.seen] == ["/blocks/tip/height"] * 3


def test_a_get_gives_up_after_the_retry_budget_with_a_typed_error():
    with FlakyServer([(500, "down", 0)]) as server:
        with _client(server.url, retries=2) as client, pytest.raises(BadResponse):
            client.fee_estimates()
    assert len(server.seen) == 3


def test_a_get_that_times_out_is_retried_then_reported_as_timeout():
    with FlakyServer([(200, "{}", 0.5)]) as server:
        with _client(server.url, timeout=0.1, retries=1) as client, pytest.raises(Timeout):
            client.fee_estimates()
    assert len(server.seen) == 2


def test_a_broadcast_that_times_out_is_not_sent_again():
    with FlakyServer([(200, "x", 0.5)]) as server:
        with _client(server.url, timeout=0.1) as client, pytest.raises(Timeout):
            client.broadcast(RAW)
    assert server.seen == [("POST", "/tx")]


def test_a_broadcast_that_fails_with_5xx_is_not_sent_again():
    with FlakyServer([(503, "busy", 0)]) as server:
        with _client(server.url) as client, pytest.raises(BadResponse):
            client.broadcast(RAW)
    assert server.seen == [("POST", "/tx")]


def test_a_refused_broadcast_carries_the_node_reason():
    reason = 'sendrawtransaction RPC error: {"code":-26,"message":"min relay fee not met"}'
    with FlakyServer([(400, reason, 0)]) as server:
        with _client(server.url) as client, pytest.raises(Rejected) as err:
            client.broadcast(RAW)
    assert err.value.reason == reason


def test_a_closed_port_is_unreachable_after_retries_even_for_a_broadcast():
    with FlakyServer([(200, "", 0)]) as server:
        url = server.url
    with _client(url, retries=2) as client, pytest.raises(Unreachable):
        client.broadcast(RAW)
    assert client.requests == 3  # never connected, so retrying the POST was safe


def test_an_unknown_transaction_is_tx_not_found():
    with FlakyServer([(404, "Transaction not found", 0)]) as server:
        with _client(server.url) as client, pytest.raises(TxNotFound):
            client.raw_transaction(TXID)
    assert len(server.seen) == 1  # a 404 is an answer, not a failure


def test_a_server_lying_about_a_transaction_is_caught():
    with FlakyServer([(200, RAW.hex(), 0)]) as server:
        with _client(server.url) as client, pytest.raises(BadResponse):
            client.raw_transaction(TXID)


def test_fee_estimates_become_sat_per_kvb_rounded_up():
    body = '{"1": 87.882, "2": 1.0, "6": 1.0001, "144": 0.5}'
    with FlakyServer([(200, body, 0)]) as server:
        with _client(server.url) as client:
            assert client.fee_estimates() == {1: 87882, 2: 1000, 6: 1001, 144: 500}


def test_a_rate_limited_get_waits_as_long_as_the_server_asks():
    waits = []
    with FlakyServer([(429, "slow down", 0), (200, "{}", 0)]) as server:
        server.headers = {"Retry-After": "3"}
        with EsploraClient(server.url, "regtest", sleep=waits.append) as client:
            assert client.fee_estimates() == {}
    assert waits == [3.0] and len(server.seen) == 2


def test_no_more_requests_are_in_flight_than_the_concurrency_bound():
    scripts = [bytes([i]) * 34 for i in range(12)]
    with FlakyServer([(200, "[]", 0.05)]) as server:
        with _client(server.url, concurrency=2) as client:
            assert client.script_history(scripts) == {s: [] for s in scripts}
    assert len(server.seen) == 12 and server.most_in_flight == 2


def test_a_server_cannot_set_cookies_on_us():
    with FlakyServer([(200, "812", 0)]) as server:
        server.headers = {"Set-Cookie": "track=me; Path=/"}
        with _client(server.url) as client:
            client._text("/blocks/tip/height")
            client._text("/blocks/tip/height")
    assert len(server.seen) == 2 and all("track" not in h for h in server.request_headers)
