"""Signatures in, by every channel (REST upload, QR decoded by the PWA, the agent).

Each submission goes through the PSBT engine's verified merge (psbt/merge.py)
against the proposal's own unsigned PSBT: only ``partial_sigs``, only by the
wallet's cosigner keys for that input, only over this transaction, each checked
against our own sighash. What passes is stored append-only, one row per
(proposal, input, key); the PSBT a client sees is combined from those rows on
read. A submission is idempotent (the same signature again adds nothing); when
two different valid signatures of one key arrive (anti-exfil nonces), the first
stored stays. A ceremony past collecting/ready refuses signatures (409).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from embit.ec import PublicKey
from sqlite_utils import Database

from ..errors import Conflict, InvalidInput, Unprocessable
from ..governance import audit, quorum
from ..governance.proposals import Proposal
from ..psbt import codec
from ..psbt.merge import merge
from ..psbt.status import wallet_inputs
from ..store.db import write
from ..store.wallets import Wallet
from . import ceremony, events, faults
from .ceremony import Ceremony
from .events import SignatureAdded, ThresholdReached

CHANNELS = ("upload", "qr", "agent")
# The merge's refusals of a well-formed PSBT on its merits: 422, each keeping its own code.
REFUSALS = frozenset({"foreign_key", "invalid_signature", "bad_sighash_type", "different_transaction",
                      "foreign_input", "utxo_mismatch"})


@dataclass(frozen=True)
class Row:
    input: int
    pubkey: str  # hex, compressed
    signature: str  # hex, DER + sighash byte
    user: int | None
    channel: str
    fingerprint: str


@dataclass(frozen=True)
class Submission:
    added: int  # signatures that were new
    ceremony: Ceremony
    threshold_reached: bool  # this submission completed it


def submit(db: Database, wallet: Wallet, proposal: Proposal, data: bytes | str, user: int | None, channel: str,
           now: int | None = None) -> Submission:
    """Verify ``data`` (a PSBT, any form) and store its new signatures."""
    if channel not in CHANNELS:
        raise InvalidInput("bad_json", f"channel must be one of {', '.join(CHANNELS)}")
    at = int(time.time()) if now is None else now
    quorum.require_approved(db, wallet.id, proposal.id)
    _require_open(ceremony.of(db, proposal, at))
    offered = verified(wallet, proposal, data)
    with write(db):
        current = _require_open(ceremony.of(db, proposal, at))
        added = [r for r in offered if _insert(db, wallet.id, proposal.id, r, user, channel, at)]
        for r in added:
            audit.append_to_wallet(db, wallet.id, "signature_added",
                                   {"proposal": proposal.id, "input": r.input, "pubkey": r.pubkey, "user": user,
                                    "channel": channel}, actor=f"user:{user}" if user else "system", at=at)
        for fingerprint, inputs in _by_cosigner(added).items():
            events.record(db, SignatureAdded(wallet.id, proposal.id, fingerprint, inputs, user, channel), at=at)
        reached = current.state == ceremony.COLLECTING and is_complete(db, wallet, proposal)
        if reached:
            current = ceremony.move(db, current, ceremony.READY, now=at)
            events.record(db, ThresholdReached(wallet.id, proposal.id, ceremony.auto_broadcast(db, wallet.id)), at=at)
    faults.point("after_sig_insert")  # committed, not yet acknowledged: a retry must add 0
    return Submission(len(added), current, reached)


def verified(wallet: Wallet, proposal: Proposal, data: bytes | str) -> list[Row]:
    """The valid signatures ``data`` offers for the proposal's transaction; 422 for any bad one."""
    base = codec.parse(proposal.psbt)
    try:
        result = merge(base, data, wallet.descriptor)
    except InvalidInput as err:
        if err.code in REFUSALS:
            raise Unprocessable(err.code, err.message, **err.details) from None
        raise
    positions = {(info.index, key): pos for info in wallet_inputs(base, wallet.descriptor) for key, pos in info.keys}
    rows = []
    for i, scope in enumerate(result.psbt.inputs):
        for pub, sig in scope.partial_sigs.items():
            fingerprint = wallet.descriptor.cosigners[positions[(i, pub.sec())]].fingerprint
            rows.append(Row(i, pub.sec().hex(), sig.hex(), None, "", fingerprint))
    return rows


def _insert(db: Database, wallet_id: int, proposal_id: int, row: Row, user: int | None, channel: str,
            at: int) -> bool:
    cursor = db.execute(
        "INSERT INTO signatures (wallet_id, proposal_id, input, pubkey, signature, user_id, channel, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (proposal_id, input, pubkey) DO NOTHING",
        [wallet_id, proposal_id, row.input, row.pubkey, row.signature, user, channel, at])
    return cursor.rowcount == 1


def _by_cosigner(rows: list[Row]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for r in rows:
        found.setdefault(r.fingerprint, []).append(r.input)
    return found


def _require_open(current: Ceremony) -> Ceremony:
    if not current.is_open:
        raise Conflict("ceremony_stale", f"the ceremony of proposal {current.proposal_id} is {current.state}; "
                       "it takes no more signatures", state=current.state)
    return current


def stored(db: Database, wallet: Wallet, proposal: Proposal) -> list[Row]:
    """Every stored signature of the proposal, by input then key."""
    base = codec.parse(proposal.psbt)
    positions = {(info.index, key.hex()): pos for info in wallet_inputs(base, wallet.descriptor)
                 for key, pos in info.keys}
    found = db.execute("SELECT input, pubkey, signature, user_id, channel FROM signatures WHERE proposal_id = ? "
                       "ORDER BY input, pubkey", [proposal.id]).fetchall()
    return [Row(i, pub, sig, user, channel, wallet.descriptor.cosigners[positions[(i, pub)]].fingerprint)
            for i, pub, sig, user, channel in found]


def combined(db: Database, wallet: Wallet, proposal: Proposal) -> codec.Psbt:
    """The proposal's PSBT with every stored signature, keys sorted as Bitcoin Core writes them."""
    psbt = codec.parse(proposal.psbt)
    for r in stored(db, wallet, proposal):
        psbt.inputs[r.input].partial_sigs[PublicKey.parse(bytes.fromhex(r.pubkey))] = bytes.fromhex(r.signature)
    for scope in psbt.inputs:
        scope.partial_sigs = OrderedDict(sorted(scope.partial_sigs.items(), key=lambda kv: kv[0].sec()))
    return psbt


def is_complete(db: Database, wallet: Wallet, proposal: Proposal) -> bool:
    """Every input holds M stored signatures (each verified on the way in, each a distinct key)."""
    inputs = len(codec.parse(proposal.psbt).inputs)
    counts = dict(db.execute("SELECT input, count(*) FROM signatures WHERE proposal_id = ? GROUP BY input",
                             [proposal.id]).fetchall())
    return all(counts.get(i, 0) >= wallet.descriptor.threshold for i in range(inputs))


def signed_by(db: Database, wallet: Wallet, proposal: Proposal) -> list[dict]:
    """Per input: who signed it (fingerprint, key, user, channel), and how many are still needed."""
    rows = stored(db, wallet, proposal)
    inputs = len(codec.parse(proposal.psbt).inputs)
    m = wallet.descriptor.threshold
    out = []
    for i in range(inputs):
        mine = [{"fingerprint": r.fingerprint, "pubkey": r.pubkey, "user": r.user, "channel": r.channel}
                for r in rows if r.input == i]
        out.append({"index": i, "signed_by": mine, "needed": max(0, m - len(mine))})
    return out
