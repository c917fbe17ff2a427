"""A broadcast transaction that leaves the mempool without confirming (evicted from a
full mempool, expired, lost by a restarted node) is sent again by the watcher, once
the synced history no longer has it, and the ceremony's room is told."""

from __future__ import annotations

import socket
import time

from coordinator.chain.esplora import EsploraClient
from coordinator.governance import outbox
from coordinator.sessions import broadcast, ceremony, signatures
from coordinator.sessions.events import room
from coordinator.sessions.watcher import Watcher
from coordinator.store import chain as chain_store

from .ceremony_env import signed_by

LATER = broadcast.RESEND_AFTER + 1


def _round(setting) -> None:
    """One watcher round, always by the same lease holder."""
    assert Watcher(setting.database, lambda: _backend(setting), "regtest", holder="resend-test").run_once()


def _backend(setting):
    return EsploraClient(setting.sandbox.url, "regtest", retries=1)


def _broadcast(setting) -> str:
    """Signed by two, broadcast by the watcher, and seen by its sync; the txid."""
    ceremony.set_auto_broadcast(setting.db, setting.wallet.id, True)
    signatures.submit(setting.db, setting.wallet, setting.proposal, signed_by(setting.proposal.psbt, 1, 2),
                      setting.bob, "upload")
    _round(setting)
    found = ceremony.load(setting.db, setting.proposal.id)
    assert found.state == "broadcast" and found.txid in setting.sandbox.chain.mempool
    return found.txid


def _evict_and_sync(setting, txid: str) -> None:
    setting.sandbox.chain.evict(txid)
    _round(setting)  # its sync sees it gone; too soon to send again


def _resent(setting) -> list[dict]:
    return [e.data for e in outbox.since(setting.db, room(setting.proposal.id), 0) if e.type == "broadcast_resent"]


def _attempts(setting, txid: str) -> int:
    return sum(row.attempts for row in chain_store.broadcasts_of(setting.db, txid))


def test_an_evicted_transaction_is_sent_again_and_then_confirms(setting):
    txid = _broadcast(setting)
    _evict_and_sync(setting, txid)
    assert txid not in setting.sandbox.chain.mempool and _resent(setting) == []

    with _backend(setting) as backend:
        sent = broadcast.resend_missing(setting.db, setting.wallet, backend, now=time.time() + LATER)

    assert [e.txid for e in sent] == [txid] and txid in setting.sandbox.chain.mempool
    assert _resent(setting) == [{"wallet_id": setting.wallet.id, "proposal": setting.proposal.id, "txid": txid,
                                 "accepted": True, "reason": None}]
    setting.sandbox.chain.mine(1)
    _round(setting)
    assert ceremony.load(setting.db, setting.proposal.id).state == "confirmed"


def test_a_transaction_still_in_the_mempool_is_never_sent_again(setting):
    txid = _broadcast(setting)
    before = _attempts(setting, txid)

    with _backend(setting) as backend:
        sent = broadcast.resend_missing(setting.db, setting.wallet, backend, now=time.time() + LATER)

    assert sent == [] and _attempts(setting, txid) == before and _resent(setting) == []


def test_a_resend_waits_for_its_interval_after_the_last_send(setting):
    txid = _broadcast(setting)
    _evict_and_sync(setting, txid)

    with _backend(setting) as backend:
        assert broadcast.resend_missing(setting.db, setting.wallet, backend) == []

    assert txid not in setting.sandbox.chain.mempool


def test_an_unreachable_node_is_reported_and_the_next_round_sends_it(setting):
    txid = _broadcast(setting)
    _evict_and_sync(setting, txid)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"
    with EsploraClient(nowhere, "regtest", retries=1) as down:
        failed = broadcast.resend_missing(setting.db, setting.wallet, down, now=time.time() + LATER)

    assert [(e.accepted, bool(e.reason)) for e in failed] == [(False, True)]
    with _backend(setting) as backend:
        again = broadcast.resend_missing(setting.db, setting.wallet, backend, now=time.time() + LATER)
    assert [e.accepted for e in again] == [True] and txid in setting.sandbox.chain.mempool
    assert [e["accepted"] for e in _resent(setting)] == [False, True]
