"""Broadcast: from ready to confirmed, crash-safe (docs/ceremony.md, "Broadcast safety").

1. ``claim``: ready -> broadcasting, a compare-and-set in one transaction, so one
   caller (a member's explicit POST, or the automatic broadcast) wins; the rest
   see the state it is in.
2. ``send``: finalize with our own finalizer (psbt/finalize.py) from the stored
   signatures, which no longer change, so a retry builds the same bytes; then
   ``chain/broadcast.py`` records the raw transaction by wtxid before it sends,
   and looks it up before sending again. A crash anywhere leaves the ceremony
   ``broadcasting`` and ``resume`` finishes it: never a second, different send.
3. ``follow``: the chain watcher moves broadcast -> confirmed from the synced
   history, and back on a reorg.
4. ``resend_missing``: a broadcast transaction gone from the wallet's synced history
   (evicted from a full mempool, expired after Core's 336 h ``-mempoolexpiry``, lost
   by a restarted node) is sent again, as Electrum and Sparrow do: its signatures
   stay valid while its coins are unspent.
"""

from __future__ import annotations

import datetime as dt
import time

from sqlite_utils import Database

from ..chain import broadcast as chain_broadcast
from ..chain.backend import ChainBackend, Rejected
from ..errors import Conflict, InvalidInput
from ..governance import audit, proposals, replacements
from ..governance.proposals import Proposal
from ..psbt.finalize import finalize
from ..store import chain as chain_store
from ..store.db import write
from ..store.wallets import Wallet
from . import ceremony, events, faults, signatures
from .ceremony import Ceremony
from .events import Broadcast, Broadcasting, BroadcastResent, Confirmed, Failed

AFTER = (ceremony.BROADCAST, ceremony.CONFIRMED)
RESEND_AFTER = 300  # s since the last send: an indexer may list a new transaction late


def claim(db: Database, proposal: Proposal, by: int | None, now: int | None = None) -> Ceremony:
    """ready -> broadcasting; a ceremony already broadcasting or past it is returned as it is."""
    with write(db):
        current = ceremony.of(db, proposal, now)
        if current.state in (ceremony.BROADCASTING, *AFTER):
            return current
        if current.state == ceremony.COLLECTING:
            raise Conflict("not_ready", f"proposal {proposal.id} has not reached its threshold yet")
        if current.state != ceremony.READY:
            raise Conflict("ceremony_stale", f"the ceremony of proposal {proposal.id} is {current.state}",
                           state=current.state)
        moved = ceremony.move(db, current, ceremony.BROADCASTING, now=now)
        # no longer open: a cancel now would free coins the transaction may already spend
        db.execute("UPDATE proposals SET state = 'broadcast' WHERE id = ? AND state = 'open'", [proposal.id])
        events.record(db, Broadcasting(proposal.wallet_id, proposal.id, by), at=now)
    return moved


def send(db: Database, wallet: Wallet, proposal: Proposal, backend: ChainBackend, by: int | None = None) -> Ceremony:
    """Finalize and send a broadcasting ceremony. Safe to call again, in any process."""
    current = ceremony.of(db, proposal)
    if current.state != ceremony.BROADCASTING:
        return current
    try:
        final = finalize(signatures.combined(db, wallet, proposal), wallet.descriptor,
                         coins=chain_store.coins(db, wallet.id))
    except (InvalidInput, Conflict) as err:
        return fail(db, current, f"{err.code}: {err.message}", reopen=True)
    faults.point("mid_finalize")
    try:
        result = chain_broadcast.broadcast(db, backend, final.tx)
    except Rejected as err:
        fail(db, current, err.reason, reopen=True)
        raise
    faults.point("after_broadcast")
    if result.state != "sent":
        return current  # no answer: the watcher resumes it (chain/broadcast.py looks before resending)
    return _sent(db, current, final.txid, by)


def _sent(db: Database, current: Ceremony, txid: str, by: int | None) -> Ceremony:
    with write(db):
        moved = ceremony.move(db, current, ceremony.BROADCAST, txid=txid)
        audit.append_to_wallet(db, current.wallet_id, "proposal_broadcast",
                               {"proposal": current.proposal_id, "txid": txid},
                               actor=f"user:{by}" if by else "system")
        events.record(db, Broadcast(current.wallet_id, current.proposal_id, txid))
    return moved


def fail(db: Database, current: Ceremony, reason: str, reopen: bool = False) -> Ceremony:
    """End the ceremony; ``reopen``: nothing reached the network, so the proposal is open
    again (claim closed it), to be cancelled (freeing its coins) or fee-bumped."""
    with write(db):
        moved = ceremony.move(db, current, ceremony.FAILED, reason=reason[:500])
        if reopen:
            db.execute("UPDATE proposals SET state = 'open' WHERE id = ? AND state = 'broadcast'",
                       [current.proposal_id])
        audit.append_to_wallet(db, current.wallet_id, "proposal_failed",
                               {"proposal": current.proposal_id, "reason": reason[:500]}, actor="system")
        events.record(db, Failed(current.wallet_id, current.proposal_id, reason[:500]))
    return moved


def resume(db: Database, wallet: Wallet, backend: ChainBackend) -> list[Ceremony]:
    """Finish what a crash or an outage left: every broadcasting ceremony of the wallet,
    and every ready one when the wallet broadcasts automatically."""
    done = []
    auto = ceremony.auto_broadcast(db, wallet.id)
    for found in ceremony.in_states(db, (ceremony.READY, ceremony.BROADCASTING), wallet.id):
        if found.state == ceremony.READY and not auto:
            continue
        proposal = proposals.get(db, wallet.id, found.proposal_id)
        try:
            claim(db, proposal, None)
            done.append(send(db, wallet, proposal, backend))
        except (Rejected, Conflict):
            continue  # recorded as failed, or another process moved it first
    return done


def follow(db: Database, wallet: Wallet, now: int | None = None) -> list[Ceremony]:
    """Move the wallet's broadcast ceremonies along the synced history: confirmed when
    their transaction is in a block, back to broadcast if a reorg took it out."""
    heights = {h.txid: h.height for h in chain_store.history(db, wallet.id)}
    moved = []
    for found in ceremony.in_states(db, AFTER, wallet.id):
        height = heights.get(found.txid)
        if found.state == ceremony.BROADCAST and height is not None:
            moved.append(_confirmed(db, wallet, found, height, now))
        elif found.state == ceremony.CONFIRMED and found.txid in heights and height is None:
            with write(db):
                moved.append(ceremony.move(db, found, ceremony.BROADCAST, now=now))
                events.record(db, Broadcast(found.wallet_id, found.proposal_id, found.txid), at=now)
    return moved


def resend_missing(db: Database, wallet: Wallet, backend: ChainBackend, now: float | None = None) -> list[BroadcastResent]:
    """Send again each broadcast transaction the synced history no longer has (after
    ``follow``, so a confirmed one is never sent); at most once per RESEND_AFTER."""
    at = time.time() if now is None else now
    seen = {entry.txid for entry in chain_store.history(db, wallet.id)}
    sent = []
    for found in ceremony.in_states(db, (ceremony.BROADCAST,), wallet.id):
        if found.txid in seen or at - _last_send(db, found.txid) < RESEND_AFTER:
            continue
        result = chain_broadcast.resend(db, backend, found.txid)
        if result is None or result.already_known:
            continue
        event = BroadcastResent(wallet.id, found.proposal_id, found.txid, result.state == "sent", result.error)
        with write(db):
            events.record(db, event)
        sent.append(event)
    return sent


def _last_send(db: Database, txid: str) -> float:
    stamps = [row.updated_at for row in chain_store.broadcasts_of(db, txid)]
    return max((dt.datetime.fromisoformat(s).timestamp() for s in stamps), default=0.0)


def _confirmed(db: Database, wallet: Wallet, found: Ceremony, height: int, now: int | None) -> Ceremony:
    at = int(time.time()) if now is None else now
    with write(db):
        done = ceremony.move(db, found, ceremony.CONFIRMED, height=height, now=at)
        audit.append_to_wallet(db, wallet.id, "proposal_confirmed",
                               {"proposal": found.proposal_id, "txid": found.txid, "height": height}, "system", at)
        events.record(db, Confirmed(wallet.id, found.proposal_id, found.txid, height), at=at)
        _replace_family(db, wallet, found.proposal_id, at)
    return done


def _replace_family(db: Database, wallet: Wallet, winner_id: int, at: int) -> None:
    """The family's other members can no longer confirm: replaced (DESIGN.md, "Coins, locks
    and replacements"); governance/replacements.py marks the rows, we end their ceremonies."""
    winner = proposals.get(db, wallet.id, winner_id)
    replacements.mark_replaced(db, winner.family_id, winner.id)
    for member in proposals.family(db, winner.family_id):
        if member.id != winner.id:
            ceremony.of(db, member, at)
