"""Fee bumps as linked replacement proposals, on the regtest sandbox: the same
family and intent (so the approvals carry over), the same inputs and
recipients, more fee by BIP-125's rules and no more than the fee ceiling;
free coins added when the change cannot pay; closed members are not bumped;
coins stay locked while any member of the family is live; and when one member
confirms, the others become `replaced`."""

from __future__ import annotations

import bdkpython
import pytest
from embit.networks import NETWORKS
from embit.psbt import PSBT
from embit.script import Script

from coordinator.accounts import users
from coordinator.chain.sync import sync_wallet
from coordinator.errors import Conflict, InvalidInput
from coordinator.governance import approvals, audit, locks, outbox, proposals, replacements
from coordinator.governance.approvals import PasskeyApproval
from coordinator.psbt.build import SEQUENCE_RBF
from coordinator.psbt.checks import check
from coordinator.psbt.model import Recipient as Payment

from ..authenticator import SoftAuthenticator, b64url
from ..psbt.chain import sign
from ..chain.walletenv import DESC, OUTSIDE, chain, client, pay, sandbox, wallet  # noqa: F401  (fixtures)

T0 = 1_767_225_600
TO = Script(OUTSIDE).address(NETWORKS["regtest"])
RATE = 2_000  # sat/kvB
RP_ID, ORIGIN = "localhost", "http://localhost:5000"


@pytest.fixture
def funded(chain, db, wallet, client):
    """Three confirmed coins of 100,000 sat, synced; and a proposer."""
    for index in range(3):
        pay(chain, 0, index, 100_000, confirm=True)
    sync_wallet(db, wallet, client)
    return wallet, users.create(db, "Bob")


def _tx(proposal):
    return PSBT.from_base64(proposal.psbt).tx


def _summary(wallet, proposal):
    return check(proposal.psbt, wallet.descriptor, wallet.network, max_change_index=100)


def _outpoints(proposal) -> set[tuple[str, int]]:
    return {(vin.txid.hex(), vin.vout) for vin in _tx(proposal).vin}


def _paid(proposal) -> list[tuple[bytes, int]]:
    return sorted((o.script_pubkey.data, o.value) for o in _tx(proposal).vout if o.script_pubkey.data == OUTSIDE)


def test_a_replacement_keeps_the_intent_so_the_approvals_count_for_it(db, funded):
    wallet, bob = funded
    original = proposals.create(db, wallet, bob.id, [Payment(TO, 50_000)], "printer toner", RATE,
                                fee_ceiling=20_000, now=T0)
    device = SoftAuthenticator(ORIGIN, RP_ID)
    approval = PasskeyApproval.from_credential(f"user:{bob.id}",
                                               device.get({"challenge": b64url(original.intent.digest())}))
    approvals.record(db, original, bob.id, approval, device.cose_public_key(), RP_ID, ORIGIN, now=T0 + 1)

    bumped = replacements.bump(db, wallet, original.id, bob.id, 5_000, now=T0 + 2)

    assert bumped.intent == original.intent and bumped.intent.digest() == original.intent.digest()
    assert bumped.family_id == original.family_id and bumped.memo == "printer toner"
    assert (bumped.created_at, bumped.expires_at) == (original.created_at, original.expires_at)
    roster = {f"user:{bob.id}": {approval.credential_id: device.cose_public_key()}}
    carried = approvals.stored(db, bumped.family_id)
    assert approvals.approving_members(carried, roster, bumped.intent, RP_ID, ORIGIN) == {f"user:{bob.id}"}
    assert _tx(bumped).txid() != _tx(original).txid()  # another transaction: it needs new signatures
    assert all(not scope.partial_sigs for scope in PSBT.from_base64(bumped.psbt).inputs)


def test_a_replacement_spends_the_same_inputs_pays_the_same_recipients_and_outbids_bip125(db, funded):
    wallet, bob = funded
    original = proposals.create(db, wallet, bob.id, [Payment(TO, 50_000)], "toner", RATE, now=T0)

    bumped = replacements.bump(db, wallet, original.id, bob.id, 4_000, now=T0 + 1)

    old, new = _summary(wallet, original), _summary(wallet, bumped)
    assert _outpoints(bumped) == _outpoints(original) and _paid(bumped) == _paid(original)
    assert new.fee >= old.fee + new.vsize  # rules 3 and 4: 1 sat/vB incremental relay fee over its own size
    assert new.fee * old.vsize > old.fee * new.vsize and new.fee <= original.intent.fee_ceiling
    assert all(vin.sequence == SEQUENCE_RBF <= 0xFFFFFFFD for vin in [*_tx(original).vin, *_tx(bumped).vin])
    assert (bumped.replaces, proposals.get(db, wallet.id, original.id).replaced_by) == (original.id, bumped.id)
    assert bumped.to_dict()["replaces"] == original.id and bumped.state == original.state == "open"


def test_a_rate_that_does_not_outbid_the_original_is_refused_naming_the_least_rate(db, funded):
    wallet, bob = funded
    original = proposals.create(db, wallet, bob.id, [Payment(TO, 50_000)], "toner", RATE, now=T0)

    with pytest.raises(InvalidInput) as err:
        replacements.bump(db, wallet, original.id, bob.id, RATE, now=T0 + 1)

    assert err.value.code == "replacement_fee_too_low"
    least = err.value.details["min_fee_rate"]
    assert least > RATE and proposals.family(db, original.family_id) == [original]
    assert replacements.bump(db, wallet, original.id, bob.id, least, now=T0 + 1).replaces == original.id


def test_a_fee_over_the_intents_ceiling_is_refused_naming_the_ceiling(db, funded):
    wallet, bob = funded
    fee = _summary(wallet, proposals.create(db, wallet, bob.id, [Payment(TO, 50_000)], "probe", RATE, now=T0)).fee
    original = proposals.create(db, wallet, bob.id, [Payment(TO, 50_000)], "toner", RATE, fee_ceiling=fee + 100,
                                now=T0)

    with pytest.raises(InvalidInput) as err:
        replacements.bump(db, wallet, original.id, bob.id, 20_000, now=T0 + 1)

    assert err.value.code == "fee_over_ceiling" and err.value.details["fee_ceiling"] == fee + 100
    assert f"{fee + 100} sat" in err.value.message
    assert len(proposals.family(db, original.family_id)) == 1


def test_when_the_change_cannot_pay_a_free_confirmed_coin_is_added_and_locked_to_the_family(db, funded):
    wallet, bob = funded
    [coin, *_] = [f"{u.txid}:{u.vout}" for u in proposals.chain_store.coins(db, wallet.id)]
    original = proposals.create(db, wallet, bob.id, [Payment(TO, 99_500)], "all of one coin", RATE, coins=[coin],
                                fee_ceiling=20_000, now=T0)
    assert len(_tx(original).vout) == 1  # no change to take the bump from

    bumped = replacements.bump(db, wallet, original.id, bob.id, 10_000, now=T0 + 1)

    added = _outpoints(bumped) - _outpoints(original)
    assert _outpoints(original) < _outpoints(bumped) and len(added) == 1
    assert _paid(bumped) == _paid(original) and len(_tx(bumped).vout) == 2  # and change now
    assert {op for op, family in locks.locked(db, wallet.id).items() if family == original.family_id} \
        == _outpoints(bumped)
    with pytest.raises(Conflict) as err:
        proposals.create(db, wallet, bob.id, [Payment(TO, 1_000)], "ink", RATE, coins=["%s:%d" % min(added)])
    assert err.value.code == "coin_locked"


def test_closed_members_cannot_be_bumped_and_a_bump_replaces_the_newest_member(db, funded):
    wallet, bob = funded
    first = proposals.create(db, wallet, bob.id, [Payment(TO, 50_000)], "toner", RATE, fee_ceiling=20_000, now=T0)
    second = replacements.bump(db, wallet, first.id, bob.id, 4_000, now=T0 + 1)

    third = replacements.bump(db, wallet, first.id, bob.id, 8_000, now=T0 + 2)  # asked of the first: chains on

    assert (second.replaces, third.replaces) == (first.id, second.id)
    assert _summary(wallet, third).fee > _summary(wallet, second).fee
    proposals.cancel(db, wallet.id, third.id, actor=bob.id, now=T0 + 3)
    with pytest.raises(Conflict) as err:
        replacements.bump(db, wallet, third.id, bob.id, 16_000, now=T0 + 4)
    assert err.value.code == "proposal_closed"
    expired = proposals.create(db, wallet, bob.id, [Payment(TO, 10_000)], "paper", RATE, ttl=600, now=T0)
    with pytest.raises(Conflict) as err:
        replacements.bump(db, wallet, expired.id, bob.id, 4_000, now=T0 + 600)
    assert err.value.code == "proposal_closed"


def test_cancelling_one_member_keeps_the_coins_another_live_member_spends(db, funded):
    wallet, bob = funded
    [coin, *_] = [f"{u.txid}:{u.vout}" for u in proposals.chain_store.coins(db, wallet.id)]
    original = proposals.create(db, wallet, bob.id, [Payment(TO, 99_500)], "all of one coin", RATE, coins=[coin],
                                fee_ceiling=20_000, now=T0)
    bumped = replacements.bump(db, wallet, original.id, bob.id, 10_000, now=T0 + 1)

    proposals.cancel(db, wallet.id, bumped.id, actor=bob.id, now=T0 + 2)

    assert set(locks.locked(db, wallet.id)) == _outpoints(original)  # the added coin is free again
    proposals.cancel(db, wallet.id, original.id, actor=bob.id, now=T0 + 3)
    assert locks.locked(db, wallet.id) == {}


def test_when_one_member_confirms_the_other_live_members_become_replaced(db, funded):
    wallet, bob = funded
    [coin, *_] = [f"{u.txid}:{u.vout}" for u in proposals.chain_store.coins(db, wallet.id)]
    first = proposals.create(db, wallet, bob.id, [Payment(TO, 99_500)], "all of one coin", RATE, coins=[coin],
                             fee_ceiling=40_000, now=T0)
    second = replacements.bump(db, wallet, first.id, bob.id, 10_000, now=T0 + 1)  # adds a coin
    third = replacements.bump(db, wallet, second.id, bob.id, 20_000, now=T0 + 2)
    proposals.cancel(db, wallet.id, third.id, actor=bob.id, now=T0 + 3)

    assert replacements.mark_replaced(db, first.family_id, first.id, now=T0 + 4) == [second.id]

    states = {p.id: p.state for p in proposals.family(db, first.family_id)}
    assert states == {first.id: "open", second.id: "replaced", third.id: "cancelled"}
    assert set(locks.locked(db, wallet.id)) == _outpoints(first)  # the coin only the bump spent is free
    entries = audit.entries(db, audit.wallet_chain(wallet.id))
    assert (entries[-1].type, entries[-1].body) == ("proposal_replaced", {"proposal": second.id, "by": first.id})
    assert [e.body.get("replaces") for e in entries if e.type == "proposal_created"] == [None, first.id, second.id]
    audit.verify(entries)
    event = outbox.since(db, audit.wallet_chain(wallet.id), 0)[-1]
    assert (event.type, event.data["proposal"], event.data["state"]) == ("proposal_closed", second.id, "replaced")
    with pytest.raises(proposals.NotFound):
        replacements.mark_replaced(db, first.family_id, 10_000)


def _signed_by_bdk(proposal) -> tuple[bytes, int, int]:
    """Signed with two test seeds, finalized by bdkpython: (raw tx, fee, vsize) as bdk sees them."""
    result = bdkpython.Psbt(sign(PSBT.from_base64(proposal.psbt), (0, 1)).to_string()).finalize()
    assert result.could_finalize, result.errors
    tx = result.psbt.extract_tx()
    return bytes(tx.serialize()), result.psbt.fee(), tx.vsize()


def test_the_sandbox_accepts_the_signed_replacement_of_a_broadcast_original_and_evicts_it(db, funded, chain,
                                                                                         client):  # noqa: F811
    wallet, bob = funded
    original = proposals.create(db, wallet, bob.id, [Payment(TO, 50_000)], "toner", RATE, fee_ceiling=20_000)
    raw, old_fee, old_vsize = _signed_by_bdk(original)
    old_txid = client.broadcast(raw)
    sync_wallet(db, wallet, client)  # the wallet now sees its coins spent by an unconfirmed transaction

    bumped = replacements.bump(db, wallet, original.id, bob.id, 5_000)
    raw, new_fee, new_vsize = _signed_by_bdk(bumped)
    new_txid = client.broadcast(raw)

    assert set(chain.mempool) == {new_txid} and old_txid not in chain.mempool
    ours = _summary(wallet, bumped)
    assert new_fee == ours.fee and new_vsize <= ours.vsize  # our estimate is an upper bound on bdk's real size
    assert new_fee >= old_fee + new_vsize and new_fee * old_vsize > old_fee * new_vsize  # BIP-125, as relayed
    assert new_fee * 1000 // new_vsize >= 5_000  # at least the rate asked for, after signing
