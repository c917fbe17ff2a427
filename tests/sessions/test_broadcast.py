"""Broadcast: one claim wins, the node's refusal fails the ceremony with its words, and
asking again never sends a second time."""

from __future__ import annotations

import pytest
from embit.psbt import PSBT

from coordinator.chain.backend import Rejected
from coordinator.chain.esplora import EsploraClient
from coordinator.errors import Conflict
from coordinator.governance import audit, outbox, proposals
from coordinator.psbt.finalize import finalize
from coordinator.sessions import broadcast, ceremony, signatures
from coordinator.store import chain as chain_store

from ..psbt.chain import sign
from .ceremony_env import signed_by


def _ready(setting, proposal):
    signatures.submit(setting.db, setting.wallet, proposal, signed_by(proposal.psbt, 1, 2), setting.bob, "upload")


def test_a_ceremony_still_collecting_cannot_be_claimed(setting):
    with pytest.raises(Conflict) as early:
        broadcast.claim(setting.db, setting.proposal, setting.bob)

    assert early.value.code == "not_ready"


def test_claiming_twice_sends_once_and_records_the_broadcast(setting):
    _ready(setting, setting.proposal)
    setting.sandbox.reset_counts()
    with EsploraClient(setting.sandbox.url, "regtest") as backend:
        for _ in range(2):
            broadcast.claim(setting.db, setting.proposal, setting.bob)
            done = broadcast.send(setting.db, setting.wallet, setting.proposal, backend, by=setting.bob)

    assert done.state == "broadcast"
    assert setting.sandbox.counts["POST /tx"] == 1
    assert proposals.get(setting.db, setting.wallet.id, setting.proposal.id).state == "broadcast"
    entry = audit.entries(setting.db, f"wallet:{setting.wallet.id}")[-1]
    assert (entry.type, entry.body, entry.actor) == ("proposal_broadcast", {"proposal": setting.proposal.id,
                                                                           "txid": done.txid}, f"user:{setting.bob}")
    types = [e.type for e in outbox.since(setting.db, f"ceremony:{setting.proposal.id}", 0)]
    assert types[-2:] == ["broadcasting", "broadcast"]


def test_a_claimed_proposal_can_no_longer_be_cancelled(setting):
    _ready(setting, setting.proposal)
    broadcast.claim(setting.db, setting.proposal, setting.bob)

    with pytest.raises(Conflict) as refused:
        proposals.cancel(setting.db, setting.wallet.id, setting.proposal.id, setting.bob)

    assert refused.value.code == "proposal_closed"  # its transaction may be on the network already


def test_a_transaction_the_node_refuses_fails_the_ceremony_with_its_words(setting):
    rival = finalize(sign(PSBT.from_string(setting.proposal.psbt), [0, 1]), setting.wallet.descriptor,
                     coins=chain_store.coins(setting.db, setting.wallet.id))
    proposals.cancel(setting.db, setting.wallet.id, setting.proposal.id, setting.bob)
    mine = setting.propose(30_000)
    _ready(setting, mine)
    setting.sandbox.chain.submit(rival.tx)
    setting.sandbox.chain.mine(1)  # the coin is spent for good

    broadcast.claim(setting.db, mine, setting.bob)
    with EsploraClient(setting.sandbox.url, "regtest") as backend, pytest.raises(Rejected) as refused:
        broadcast.send(setting.db, setting.wallet, mine, backend)

    failed = ceremony.load(setting.db, mine.id)
    assert failed.state == "failed" and failed.reason == refused.value.reason
    # nothing reached the network: the proposal is open again, to cancel (freeing the coin) or bump
    assert proposals.get(setting.db, setting.wallet.id, mine.id).state == "open"
    assert outbox.since(setting.db, f"ceremony:{mine.id}", 0)[-1].type == "failed"
