"""Proposals on the regtest sandbox: built from synced coins through the PSBT
engine and the signer checks, their coins locked to the family, their intent
matching the PSBT; cancelling and expiring free the coins; every step is in the
audit chain and the outbox."""

from __future__ import annotations

import pytest
from embit.networks import NETWORKS
from embit.psbt import PSBT
from embit.script import Script

from coordinator.accounts import users
from coordinator.chain.sync import sync_wallet
from coordinator.errors import Conflict, InvalidInput
from coordinator.governance import audit, locks, outbox, proposals
from coordinator.governance.intent import memo_hash
from coordinator.psbt.model import Recipient as Payment

from ..chain.walletenv import DESC, OUTSIDE, chain, client, pay, sandbox, wallet  # noqa: F401  (fixtures)

T0 = 1_767_225_600
TO = Script(OUTSIDE).address(NETWORKS["regtest"])  # someone else's P2WPKH
RATE = 2_000  # sat/kvB


@pytest.fixture
def funded(chain, db, wallet, client):
    """Two confirmed coins of 100,000 sat, synced; and a proposer."""
    for index in range(2):
        pay(chain, 0, index, 100_000, confirm=True)
    sync_wallet(db, wallet, client)
    return wallet, users.create(db, "Bob")


def _spent_outpoints(proposal) -> set[tuple[str, int]]:
    tx = PSBT.from_base64(proposal.psbt).tx
    return {(vin.txid.hex(), vin.vout) for vin in tx.vin}


def test_a_proposal_locks_its_coins_and_its_intent_matches_the_psbt(db, funded):
    wallet, bob = funded

    proposal = proposals.create(db, wallet, bob.id, [Payment(TO, 50_000)], "printer toner", RATE, now=T0)

    assert locks.locked(db, wallet.id) == {op: proposal.family_id for op in _spent_outpoints(proposal)}
    assert [(r.script_pubkey, r.amount) for r in proposal.intent.recipients] == [(OUTSIDE.hex(), 50_000)]
    assert proposal.intent.memo_sha256 == memo_hash("printer toner")
    assert proposal.intent.policy_id == wallet.descriptor.policy_id and proposal.state == "open"
    tx = PSBT.from_base64(proposal.psbt).tx
    assert any(out.script_pubkey.data == OUTSIDE and out.value == 50_000 for out in tx.vout)
    assert proposals.handout(db, wallet, proposal) == proposal.psbt


def test_a_second_proposal_cannot_take_a_locked_coin(db, funded):
    wallet, bob = funded
    first = proposals.create(db, wallet, bob.id, [Payment(TO, 50_000)], "toner", RATE, now=T0)
    [(txid, vout)] = _spent_outpoints(first)

    with pytest.raises(Conflict) as err:
        proposals.create(db, wallet, bob.id, [Payment(TO, 10_000)], "paper", RATE, coins=[f"{txid}:{vout}"], now=T0)
    assert err.value.code == "coin_locked"

    second = proposals.create(db, wallet, bob.id, [Payment(TO, 10_000)], "paper", RATE, now=T0)
    assert _spent_outpoints(second).isdisjoint(_spent_outpoints(first))
    with pytest.raises(InvalidInput):  # both coins are taken now
        proposals.create(db, wallet, bob.id, [Payment(TO, 10_000)], "ink", RATE, now=T0)


def test_cancelling_frees_the_coins_once(db, funded):
    wallet, bob = funded
    proposal = proposals.create(db, wallet, bob.id, [Payment(TO, 150_000)], "new roof", RATE, now=T0)

    cancelled = proposals.cancel(db, wallet.id, proposal.id, actor=bob.id, now=T0 + 5)

    assert cancelled.state == "cancelled" and locks.locked(db, wallet.id) == {}
    with pytest.raises(Conflict) as err:
        proposals.cancel(db, wallet.id, proposal.id, actor=bob.id)
    assert err.value.code == "proposal_closed"
    assert proposals.create(db, wallet, bob.id, [Payment(TO, 150_000)], "new roof, again", RATE, now=T0)


def test_expired_proposals_are_closed_and_free_their_coins(db, funded):
    wallet, bob = funded
    proposal = proposals.create(db, wallet, bob.id, [Payment(TO, 50_000)], "toner", RATE, ttl=3600, now=T0)

    assert proposals.expire_due(db, now=T0 + 3599) == []
    assert proposals.expire_due(db, now=T0 + 3600) == [proposal.id]
    assert proposals.get(db, wallet.id, proposal.id).state == "expired" and locks.locked(db, wallet.id) == {}


def test_each_step_is_in_the_wallet_chain_and_the_outbox(db, funded):
    wallet, bob = funded
    proposal = proposals.create(db, wallet, bob.id, [Payment(TO, 50_000)], "toner", RATE, now=T0)
    proposals.cancel(db, wallet.id, proposal.id, actor=bob.id, now=T0 + 1)

    entries = audit.entries(db, audit.wallet_chain(wallet.id))
    assert [e.type for e in entries] == ["wallet_created", "proposal_created", "proposal_cancelled"]
    assert entries[1].body["intent_digest"] == proposal.intent.digest().hex()
    assert "toner" not in str([e.to_dict() for e in entries])  # the memo is committed to by hash only
    audit.verify(entries)
    events = outbox.since(db, audit.wallet_chain(wallet.id), 0)
    assert [(e.type, e.data.get("state")) for e in events] == [("proposal_created", None), ("proposal_closed",
                                                                                               "cancelled")]


def test_an_unsynced_wallet_cannot_propose(db, wallet):
    bob = users.create(db, "Bob")

    with pytest.raises(Conflict) as err:
        proposals.create(db, wallet, bob.id, [Payment(TO, 50_000)], "toner", RATE)
    assert err.value.code == "not_synced"


@pytest.mark.parametrize("memo", ["", "   ", "x" * 1001, None])
def test_a_proposal_needs_a_memo_saying_why(db, funded, memo):
    wallet, bob = funded
    with pytest.raises(InvalidInput) as err:
        proposals.create(db, wallet, bob.id, [Payment(TO, 50_000)], memo, RATE)
    assert err.value.code == "bad_memo" and locks.locked(db, wallet.id) == {}


def test_a_fee_ceiling_below_the_fee_is_refused_and_nothing_is_locked(db, funded):
    wallet, bob = funded
    with pytest.raises(InvalidInput) as err:
        proposals.create(db, wallet, bob.id, [Payment(TO, 50_000)], "toner", RATE, fee_ceiling=1)
    assert err.value.code == "bad_intent" and locks.locked(db, wallet.id) == {}


def test_proposals_of_another_wallet_are_not_found(db, funded):
    wallet, bob = funded
    proposal = proposals.create(db, wallet, bob.id, [Payment(TO, 50_000)], "toner", RATE, now=T0)

    with pytest.raises(proposals.NotFound):
        proposals.get(db, wallet.id + 1, proposal.id)
