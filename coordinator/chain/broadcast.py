"""Crash-safe broadcast: persist first, send, then mark sent.

1. The final transaction is written as ``broadcasting`` (``BEGIN IMMEDIATE``,
   ``synchronous=FULL``) before anything goes to the network.
2. The attempt is counted, then the backend is called.
3. Success, or an answer meaning "the network has it already", marks it ``sent``.
   A rejection for any other reason marks it ``failed`` with the node's words.
   No answer (timeout, unreachable) leaves it ``broadcasting``.

After a crash, ``resume_pending`` finishes every ``broadcasting`` row. A row
with an attempt on record may already be on the network, so it is looked up
before it is sent again; a ``sent`` row is never sent again. Sending the same
transaction twice would be harmless to bitcoin (the txid is the same), but it
is avoided, and it would be reported as success, not as an error.

Rows are keyed by wtxid, not txid: a witness is outside the txid (BIP-141), so
a transaction with a broken signature and its corrected form share a txid but
are different bytes to send. Each raw form is kept and the one asked for is
sent. Once any form of a txid is on the network, that spend is done, and a
later attempt of another form counts as sent (as Core's
``txn-same-nonwitness-data-in-mempool`` does).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlite_utils import Database

from ..errors import InvalidInput
from ..psbt.model import parse_tx
from ..store import chain as store
from .backend import BackendError, ChainBackend, Rejected, TxNotFound

# How nodes and Esplora say "I have this transaction already" (Core's
# sendrawtransaction: -27 RPC_VERIFY_ALREADY_IN_CHAIN; mempool reject reasons).
_ALREADY = re.compile(
    r"txn-already-in-mempool|txn-already-known|txn-same-nonwitness-data-in-mempool"
    r"|already in block ?chain|outputs already in utxo set|\"code\"\s*:\s*-27\b|RPC error -27\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class BroadcastResult:
    txid: str
    wtxid: str  # which raw form this result is about
    state: str  # 'sent'; 'broadcasting' = outcome unknown, resume later; 'failed'
    attempts: int
    error: str | None = None
    already_known: bool = False  # the network had the txid before our call


def is_already_known(reason: str) -> bool:
    return bool(_ALREADY.search(reason))


def txid_of(raw: bytes) -> str:
    tx = parse_tx(raw)
    if tx is None:
        raise InvalidInput("bad_input", "the final transaction does not parse")
    return tx.txid().hex()


def wtxid_of(raw: bytes) -> str:
    """BIP-141 wtxid: double SHA-256 of the whole serialization, display order.
    parse_tx refuses trailing bytes, so these are exactly the transaction's."""
    return hashlib.sha256(hashlib.sha256(raw).digest()).digest()[::-1].hex()


def broadcast(db: Database, backend: ChainBackend, raw: bytes) -> BroadcastResult:
    """Persist ``raw`` as broadcasting, then send it. Safe to call again.

    Raises ``Rejected`` (state 'failed') when the node refuses it for a reason
    other than already having it. A backend failure (``Timeout``,
    ``Unreachable``) is returned as state 'broadcasting': the transaction may or
    may not have reached the network, and ``resume_pending`` will find out.
    """
    row = store.record_broadcast(db, txid_of(raw), wtxid_of(raw), raw)
    if row.state == "sent":
        return BroadcastResult(row.txid, row.wtxid, "sent", row.attempts)
    return _attempt(db, backend, row)


def resume_pending(db: Database, backend: ChainBackend) -> list[BroadcastResult]:
    """Finish every broadcast a crash or an outage left in 'broadcasting'."""
    results = []
    for row in store.broadcasts_in(db, ["broadcasting"]):
        try:
            results.append(_attempt(db, backend, row))
        except Rejected as err:
            results.append(BroadcastResult(row.txid, row.wtxid, "failed", row.attempts + 1, err.reason))
    return results


def resend(db: Database, backend: ChainBackend, txid: str) -> BroadcastResult | None:
    """Send a ``sent`` transaction again, after it left the mempool unconfirmed (a full
    mempool, ``-mempoolexpiry``, a restarted node). Looks first: nothing is sent if the
    network has it. A refusal is kept as ``last_error`` and returned, never raised: the
    row stays ``sent`` (it did reach the network once). None: nothing of ``txid`` was sent."""
    sent = [row for row in store.broadcasts_of(db, txid) if row.state == "sent"]
    if not sent:
        return None
    row = sent[-1]

    def result(state: str, error: str | None = None, known: bool = False) -> BroadcastResult:
        return BroadcastResult(row.txid, row.wtxid, state, row.attempts + (not known), error, known)

    try:
        if _known(backend, txid):
            return result("sent", known=True)
        backend.broadcast(row.raw)
    except Rejected as err:
        if is_already_known(err.reason):
            return result("sent", known=True)
        store.set_broadcast_state(db, row.wtxid, "sent", err.reason, attempted=True)
        return result("failed", err.reason)
    except BackendError as err:
        store.set_broadcast_state(db, row.wtxid, "sent", f"{err.code}: {err.message}", attempted=True)
        return result("broadcasting", f"{err.code}: {err.message}")
    store.set_broadcast_state(db, row.wtxid, "sent", attempted=True)
    return result("sent")


def _attempt(db: Database, backend: ChainBackend, row: store.BroadcastRow) -> BroadcastResult:
    def result(state: str, attempts: int, error: str | None = None, known: bool = False) -> BroadcastResult:
        return BroadcastResult(row.txid, row.wtxid, state, attempts, error, known)

    if row.attempts:
        try:
            known = _known(backend, row.txid)
        except BackendError as err:
            return result("broadcasting", row.attempts, f"{err.code}: {err.message}")
        if known:
            store.set_broadcast_state(db, row.wtxid, "sent")
            return result("sent", row.attempts, known=True)
    store.set_broadcast_state(db, row.wtxid, "broadcasting", row.last_error, attempted=True)
    attempts = row.attempts + 1
    try:
        backend.broadcast(row.raw)
    except Rejected as err:
        if not is_already_known(err.reason):
            store.set_broadcast_state(db, row.wtxid, "failed", err.reason)
            raise
        store.set_broadcast_state(db, row.wtxid, "sent")
        return result("sent", attempts, known=True)
    except BackendError as err:
        store.set_broadcast_state(db, row.wtxid, "broadcasting", f"{err.code}: {err.message}")
        return result("broadcasting", attempts, f"{err.code}: {err.message}")
    store.set_broadcast_state(db, row.wtxid, "sent")
    return result("sent", attempts)


def _known(backend: ChainBackend, txid: str) -> bool:
    """Has an earlier attempt (cut short by a crash or timeout), or another raw
    form of the same txid, reached the network?"""
    try:
        backend.raw_transaction(txid)
    except TxNotFound:
        return False
    return True
