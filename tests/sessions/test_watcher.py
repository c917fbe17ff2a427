"""The chain watcher: one lease holder at a time; it finishes interrupted and automatic
broadcasts, follows them to confirmed, pushes chain events to the wallet's room, fails
a family whose coin was spent elsewhere, and ends the family's other members when one
of them confirms."""

from __future__ import annotations

from embit.psbt import PSBT

from coordinator.chain.esplora import EsploraClient
from coordinator.governance import locks, outbox, proposals, replacements
from coordinator.psbt import codec
from coordinator.psbt.finalize import finalize
from coordinator.sessions import broadcast, ceremony, signatures
from coordinator.sessions.watcher import Watcher
from coordinator.store import chain as chain_store

from ..psbt.chain import sign
from .ceremony_env import signed_by


def _watcher(setting, holder=None) -> Watcher:
    return Watcher(setting.database, lambda: EsploraClient(setting.sandbox.url, "regtest"), "regtest",
                   holder=holder)


def _ready(setting, proposal):
    return signatures.submit(setting.db, setting.wallet, proposal, signed_by(proposal.psbt, 1, 2), setting.bob,
                             "upload")


def _state(setting, proposal) -> str:
    return ceremony.load(setting.db, proposal.id).state


def test_only_the_lease_holder_runs_and_another_takes_over_when_it_stops(setting):
    first, second = _watcher(setting, "one"), _watcher(setting, "two")

    assert first.run_once() and not second.run_once()
    first.stop()
    assert second.run_once()


def test_the_watcher_finishes_a_broadcast_left_half_done_and_confirms_it(setting):
    _ready(setting, setting.proposal)
    broadcast.claim(setting.db, setting.proposal, setting.bob)  # then the process died
    watcher = _watcher(setting)

    watcher.run_once()

    sent = ceremony.load(setting.db, setting.proposal.id)
    assert sent.state == "broadcast" and sent.txid in setting.sandbox.chain.mempool
    setting.sandbox.chain.mine(1)
    watcher.run_once()
    assert (_state(setting, setting.proposal), ceremony.load(setting.db, setting.proposal.id).height) == \
        ("confirmed", setting.sandbox.chain.height)
    room = f"wallet:{setting.wallet.id}"
    assert {"tx_seen", "tx_confirmed", "balance_changed"} <= {e.type for e in outbox.since(setting.db, room, 0)}


def test_a_ready_ceremony_of_a_wallet_that_broadcasts_by_itself_is_sent(setting):
    ceremony.set_auto_broadcast(setting.db, setting.wallet.id, True)
    _ready(setting, setting.proposal)  # no backend reached it at the threshold

    _watcher(setting).run_once()

    assert _state(setting, setting.proposal) == "broadcast"


def test_a_coin_spent_elsewhere_fails_the_family_and_frees_its_coin(setting):
    rival = finalize(sign(PSBT.from_string(setting.proposal.psbt), [0, 1]), setting.wallet.descriptor,
                     coins=chain_store.coins(setting.db, setting.wallet.id))
    proposals.cancel(setting.db, setting.wallet.id, setting.proposal.id, setting.bob)
    mine = setting.propose(30_000)
    signatures.submit(setting.db, setting.wallet, mine, signed_by(mine.psbt, 1), setting.bob, "upload")
    setting.sandbox.chain.submit(rival.tx)  # the same coin, spent outside this proposal's family

    _watcher(setting).run_once()

    found = ceremony.load(setting.db, mine.id)
    assert found.state == "failed" and rival.txid in found.reason
    assert locks.locked(setting.db, setting.wallet.id) == {}
    events = outbox.since(setting.db, f"ceremony:{mine.id}", 0)
    assert events[-1].type == "failed"


def test_when_a_fee_bump_confirms_the_original_is_replaced(setting):
    _ready(setting, setting.proposal)
    broadcast.claim(setting.db, setting.proposal, setting.bob)
    with EsploraClient(setting.sandbox.url, "regtest") as backend:
        broadcast.send(setting.db, setting.wallet, setting.proposal, backend)
        bump = replacements.bump(setting.db, setting.wallet, setting.proposal.id, setting.bob, 3_000)
        _ready(setting, bump)
        broadcast.claim(setting.db, bump, setting.bob)
        broadcast.send(setting.db, setting.wallet, bump, backend)
    setting.sandbox.chain.mine(1)

    _watcher(setting).run_once()

    assert (_state(setting, bump), _state(setting, setting.proposal)) == ("confirmed", "replaced")
    closed = outbox.since(setting.db, f"ceremony:{setting.proposal.id}", 0)[-1]
    assert (closed.type, closed.data["state"]) == ("ceremony_closed", "replaced")
    assert codec.parse(bump.psbt).tx.txid().hex() == ceremony.load(setting.db, bump.id).txid


def test_a_reorg_takes_the_confirmation_back_and_the_next_block_gives_it_again(setting):
    _ready(setting, setting.proposal)
    broadcast.claim(setting.db, setting.proposal, setting.bob)
    watcher = _watcher(setting)
    watcher.run_once()
    setting.sandbox.chain.mine(1)
    watcher.run_once()
    assert _state(setting, setting.proposal) == "confirmed"

    setting.sandbox.chain.invalidate(setting.sandbox.chain.height)  # the block is gone; the tx is back in the mempool
    watcher.run_once()
    assert _state(setting, setting.proposal) == "broadcast"
    setting.sandbox.chain.mine(1)
    watcher.run_once()

    assert _state(setting, setting.proposal) == "confirmed"
    types = [e.type for e in outbox.since(setting.db, f"ceremony:{setting.proposal.id}", 0)]
    assert types[-4:] == ["broadcast", "confirmed", "broadcast", "confirmed"]
