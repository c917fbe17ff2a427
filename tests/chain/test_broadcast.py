"""Crash-safe broadcast: persisted before the call, "already known" is success,
and a process killed at any point resumes without losing or repeating anything."""

from __future__ import annotations

import subprocess
import sys

import pytest
from embit.transaction import Transaction

from coordinator.chain.backend import Rejected
from coordinator.chain.broadcast import (
    broadcast,
    is_already_known,
    resume_pending,
    txid_of,
    wtxid_of,
)
from coordinator.chain.esplora import EsploraClient
from coordinator.store import chain as stored

from ..conftest import REPO_ROOT
from .spend import send_back
from .walletenv import DESC, OUTSIDE, chain, client, coin, pay, raw_of, sandbox  # noqa: F401

RUNS = 20
WITNESS_RUNS = 5  # each run also sends a broken-witness twin first
# kill point -> (state left on disk, is the transaction on the network already?)
POINTS = {"before_persist": (None, False), "before_network": ("broadcasting", False),
          "after_network": ("broadcasting", True), "after_mark": ("sent", True)}


def _spends(chain, count: int) -> list[bytes]:
    """``count`` signed transactions, each spending its own confirmed coin."""
    funded = [pay(chain, 0, i, 50_000 + i) for i in range(count)]
    chain.mine(1)
    return [send_back(DESC, coin(chain, t, 0, i), raw_of(chain, t), OUTSIDE) for i, t in enumerate(funded)]


def _posts(sandbox) -> int:
    return sandbox.counts["POST /tx"]


def _broken_witness(raw: bytes) -> bytes:
    """The same transaction (same txid) with one signature byte flipped: a new wtxid."""
    tx = Transaction.parse(raw)
    sig = bytearray(tx.vin[0].witness.items[1])  # items[0] is CHECKMULTISIG's dummy
    sig[10] ^= 1  # inside r: still DER, no longer a valid signature
    tx.vin[0].witness.items[1] = bytes(sig)
    return tx.serialize()


def test_a_broadcast_is_persisted_sent_and_never_sent_twice(chain, sandbox, db, client):
    [raw] = _spends(chain, 1)
    result = broadcast(db, client, raw)
    assert result.state == "sent" and result.attempts == 1 and result.txid in chain.mempool
    assert broadcast(db, client, raw).state == "sent"
    assert _posts(sandbox) == 1
    row = stored.broadcast_row(db, wtxid_of(raw))
    assert row.raw == raw and row.state == "sent" and row.attempts == 1 and row.txid == result.txid


def test_a_transaction_already_mined_counts_as_sent(chain, db, client):
    [raw] = _spends(chain, 1)
    client.broadcast(raw)
    chain.mine(1)
    result = broadcast(db, client, raw)
    assert result.state == "sent" and result.already_known


@pytest.mark.parametrize("reason", [
    "sendrawtransaction RPC error -26: txn-already-in-mempool",
    'sendrawtransaction RPC error: {"code":-26,"message":"txn-already-known"}',
    'sendrawtransaction RPC error: {"code":-27,"message":"Transaction already in block chain"}',
    "sendrawtransaction RPC error -27: Transaction outputs already in utxo set",
    "txn-same-nonwitness-data-in-mempool",
])
def test_the_ways_nodes_say_already_known_are_recognised(reason):
    assert is_already_known(reason)


def test_a_rejected_transaction_is_marked_failed_with_the_reason(chain, db, client):
    [raw] = _spends(chain, 1)
    client.broadcast(send_back(DESC, *_first_coin(chain), OUTSIDE, fee=3_000))  # a rival spend
    chain.mine(1)
    with pytest.raises(Rejected) as err:
        broadcast(db, client, raw)
    row = stored.broadcast_row(db, wtxid_of(raw))
    assert row.state == "failed" and row.last_error == err.value.reason and row.raw == raw


def test_a_corrected_witness_with_the_same_txid_is_sent_not_the_broken_one(chain, sandbox, db, client):
    [good] = _spends(chain, 1)
    broken = _broken_witness(good)
    assert txid_of(broken) == txid_of(good) and wtxid_of(broken) != wtxid_of(good)
    with pytest.raises(Rejected):
        broadcast(db, client, broken)

    result = broadcast(db, client, good)

    assert result.state == "sent" and not result.already_known and result.wtxid == wtxid_of(good)
    assert chain.mempool[result.txid].tx.serialize() == good
    rows = {r.wtxid: r for r in stored.broadcasts_of(db, result.txid)}
    assert rows[wtxid_of(broken)].state == "failed" and rows[wtxid_of(broken)].raw == broken
    assert rows[wtxid_of(good)].state == "sent" and rows[wtxid_of(good)].raw == good


def test_the_broken_witness_sent_again_after_the_good_one_counts_as_sent(chain, sandbox, db, client):
    [good] = _spends(chain, 1)
    broken = _broken_witness(good)
    with pytest.raises(Rejected):
        broadcast(db, client, broken)
    broadcast(db, client, good)
    posts = _posts(sandbox)

    again = broadcast(db, client, broken)  # the txid is on the network: that spend is done

    assert again.state == "sent" and again.already_known
    assert chain.mempool[again.txid].tx.serialize() == good and _posts(sandbox) == posts


def _first_coin(chain):
    txid = next(t for t in chain.confirmed if any(
        o.script_pubkey == DESC.script_pubkey(0, 0).data for o in chain.confirmed[t][0].vout))
    return coin(chain, txid, 0, 0), raw_of(chain, txid)


def test_an_unreachable_backend_leaves_it_broadcasting_until_resumed(chain, sandbox, db, client):
    [raw] = _spends(chain, 1)
    with EsploraClient("http://127.0.0.1:9", "regtest", retries=0) as down:
        result = broadcast(db, down, raw)
    assert result.state == "broadcasting" and "backend_unreachable" in result.error
    assert txid_of(raw) not in chain.mempool
    [resumed] = resume_pending(db, client)
    assert resumed.state == "sent" and resumed.attempts == 2 and not resumed.already_known
    assert _posts(sandbox) == 1 and resume_pending(db, client) == []


@pytest.mark.parametrize("point", POINTS)
def test_a_broadcast_killed_at_any_point_resumes_without_loss_or_repeat(point, chain, sandbox, db, client, tmp_path):
    db_path = str(tmp_path / "huddle.sqlite3")
    for n, raw in enumerate(_spends(chain, RUNS)):
        txid, posts = txid_of(raw), _posts(sandbox)
        child = subprocess.run(
            [sys.executable, "-m", "tests.chain.crash_child", db_path, sandbox.url, raw.hex(), point],
            cwd=REPO_ROOT, capture_output=True, timeout=30)
        assert child.returncode == -9, child.stderr.decode()[-2000:]
        row = stored.broadcast_row(db, wtxid_of(raw))
        state, on_network = POINTS[point]
        assert (row and row.state) == state and (txid in chain.mempool) == on_network
        if row is not None:
            assert row.raw == raw  # the final transaction survived the crash
        resume_pending(db, client)  # what start-up does
        broadcast(db, client, raw)  # what the proposal, which still holds the transaction, does
        assert txid in chain.mempool
        assert stored.broadcast_row(db, wtxid_of(raw)).state == "sent"
        assert _posts(sandbox) - posts == 1, f"run {n}: the transaction was posted more than once"
    assert len(stored.broadcasts_in(db, ["sent"])) == RUNS
    assert stored.broadcasts_in(db, ["broadcasting", "failed"]) == []


@pytest.mark.parametrize("point", POINTS)
def test_a_corrected_witness_killed_at_any_point_resumes_with_the_corrected_bytes(
        point, chain, sandbox, db, client, tmp_path):
    db_path = str(tmp_path / "huddle.sqlite3")
    for n, good in enumerate(_spends(chain, WITNESS_RUNS)):
        broken = _broken_witness(good)
        with pytest.raises(Rejected):
            broadcast(db, client, broken)  # the first try had a bad signature
        txid, posts = txid_of(good), _posts(sandbox)
        child = subprocess.run(
            [sys.executable, "-m", "tests.chain.crash_child", db_path, sandbox.url, good.hex(), point],
            cwd=REPO_ROOT, capture_output=True, timeout=30)
        assert child.returncode == -9, child.stderr.decode()[-2000:]
        row = stored.broadcast_row(db, wtxid_of(good))
        state, on_network = POINTS[point]
        assert (row and row.state) == state and (txid in chain.mempool) == on_network
        assert stored.broadcast_row(db, wtxid_of(broken)).state == "failed"
        resume_pending(db, client)
        broadcast(db, client, good)
        assert chain.mempool[txid].tx.serialize() == good, f"run {n}: not the corrected bytes"
        assert stored.broadcast_row(db, wtxid_of(good)).state == "sent"
        assert _posts(sandbox) - posts == 1, f"run {n}: the corrected transaction was posted more than once"
    assert len(stored.broadcasts_in(db, ["sent"])) == WITNESS_RUNS
    assert len(stored.broadcasts_in(db, ["failed"])) == WITNESS_RUNS
