"""Signatures in: verified by the merge, append-only, combined on read, idempotent,
refused when foreign or stale; the combination does not depend on the order of
submissions, and equals what BDK's own combiner makes of the same signed PSBTs."""

from __future__ import annotations

import bdkpython as bdk
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embit.psbt import PSBT

from coordinator.accounts.passkeys import RelyingParty
from coordinator.errors import Conflict, Unprocessable
from coordinator.governance import audit, outbox, proposals, roster
from coordinator.psbt import codec
from coordinator.sessions import requests, signatures
from coordinator.store.db import write
from coordinator.sessions.events import room

from ..psbt.chain import sign
from .ceremony_env import broken_signature, foreign_signature, signed_by


def _submit(setting, psbt: str, user=None, channel="upload", proposal=None):
    return signatures.submit(setting.db, setting.wallet, proposal or setting.proposal, psbt, user or setting.bob,
                             channel)


def test_a_valid_signature_is_stored_with_its_audit_entry_and_event(setting):
    done = _submit(setting, signed_by(setting.proposal.psbt, 1))

    assert (done.added, done.ceremony.state, done.threshold_reached) == (1, "collecting", False)
    entry = audit.entries(setting.db, f"wallet:{setting.wallet.id}")[-1]
    (row,) = signatures.stored(setting.db, setting.wallet, setting.proposal)
    assert (entry.type, entry.body) == ("signature_added", {"proposal": setting.proposal.id, "input": 0,
                                                            "pubkey": row.pubkey, "user": setting.bob,
                                                            "channel": "upload"})
    (event,) = outbox.since(setting.db, room(setting.proposal.id), 0)
    assert (event.type, event.data["fingerprint"], event.data["inputs"]) == \
        ("signature_added", setting.wallet.descriptor.cosigners[1].fingerprint, [0])


def test_the_same_signature_twice_is_accepted_and_adds_nothing(setting):
    _submit(setting, signed_by(setting.proposal.psbt, 1))

    again = _submit(setting, signed_by(setting.proposal.psbt, 1), channel="qr")

    assert again.added == 0
    assert len(signatures.stored(setting.db, setting.wallet, setting.proposal)) == 1
    assert [e.type for e in outbox.since(setting.db, room(setting.proposal.id), 0)] == ["signature_added"]


@pytest.mark.parametrize("forge, code", [(foreign_signature, "foreign_key"), (broken_signature, "invalid_signature")])
def test_a_foreign_or_invalid_signature_is_refused_and_nothing_is_kept(setting, forge, code):
    with pytest.raises(Unprocessable) as refused:
        _submit(setting, forge(setting.proposal.psbt))

    assert refused.value.code == code
    assert signatures.stored(setting.db, setting.wallet, setting.proposal) == []


def test_two_cosigners_reach_the_threshold(setting):
    _submit(setting, signed_by(setting.proposal.psbt, 1))

    done = _submit(setting, signed_by(setting.proposal.psbt, 2), user=setting.carol)

    assert (done.ceremony.state, done.threshold_reached) == ("ready", True)
    types = [e.type for e in outbox.since(setting.db, room(setting.proposal.id), 0)]
    assert types == ["signature_added", "signature_added", "threshold_reached"]


@pytest.mark.parametrize("close", ["cancelled", "broadcast", "replaced", "expired"])
def test_a_stale_ceremony_refuses_signatures_with_409(setting, close):
    setting.db.execute("UPDATE proposals SET state = ? WHERE id = ?", [close, setting.proposal.id])
    if close == "broadcast":
        setting.db.execute("INSERT INTO ceremonies (proposal_id, wallet_id, state, updated_at) "
                           "VALUES (?, ?, 'broadcast', 0)", [setting.proposal.id, setting.wallet.id])
    proposal = proposals.get(setting.db, setting.wallet.id, setting.proposal.id)

    with pytest.raises(Conflict) as stale:
        _submit(setting, signed_by(setting.proposal.psbt, 1), proposal=proposal)

    assert stale.value.code == "ceremony_stale"
    assert signatures.stored(setting.db, setting.wallet, setting.proposal) == []


def test_combining_on_read_equals_bdks_combination_of_the_same_signed_psbts(setting):
    signed = [signed_by(setting.proposal.psbt, i) for i in (0, 2)]
    for psbt in signed:
        _submit(setting, psbt)

    ours = signatures.combined(setting.db, setting.wallet, setting.proposal)

    theirs = bdk.Psbt(setting.proposal.psbt)
    for psbt in signed:
        theirs = theirs.combine(bdk.Psbt(psbt))
    assert bdk.Psbt(codec.to_base64(ours)).serialize() == theirs.serialize()


SUBMISSIONS = [(0,), (1,), (2,), (0, 1), (1, 2)]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(len(SUBMISSIONS))),
       repeat=st.lists(st.integers(0, len(SUBMISSIONS) - 1), max_size=3))
def test_the_combined_psbt_does_not_depend_on_order_or_repeats(setting, order, repeat):
    if proposals.get(setting.db, setting.wallet.id, setting.proposal.id).state == "open":
        proposals.cancel(setting.db, setting.wallet.id, setting.proposal.id, setting.bob)  # frees the coin
    fresh = setting.propose(25_000)
    try:
        added = sum(_submit(setting, signed_by(fresh.psbt, *SUBMISSIONS[i]), proposal=fresh).added
                    for i in [*order, *repeat])
        mine = signatures.combined(setting.db, setting.wallet, fresh)
    finally:
        proposals.cancel(setting.db, setting.wallet.id, fresh.id, setting.bob)

    everyone = sign(PSBT.from_string(fresh.psbt), [0, 1, 2])  # deterministic (RFC 6979) signatures
    assert added == 3  # each cosigner's signature was new exactly once
    assert _sigs(mine) == _sigs(everyone)
    assert codec.serialize(mine) == codec.serialize(signatures.combined(setting.db, setting.wallet, fresh))


def _sigs(psbt) -> list[dict]:
    return [{pub.sec(): sig for pub, sig in scope.partial_sigs.items()} for scope in psbt.inputs]


def test_signatures_and_sign_requests_wait_for_the_approvals_the_pinned_roster_asks_for(setting):
    descriptor = setting.db.execute("SELECT descriptor FROM wallets WHERE id = ?", [setting.wallet.id]).fetchone()[0]
    pinned = roster.build(setting.db, "regtest", descriptor, 2, {setting.bob: "keyholder", setting.carol: "keyholder"},
                          {}, RelyingParty("localhost", "http://localhost:5000"), policy=(1, (setting.bob, setting.carol)))
    with write(setting.db):
        roster.pin(setting.db, setting.wallet.id, pinned, 0)

    with pytest.raises(Conflict) as gated:
        _submit(setting, signed_by(setting.proposal.psbt, 1))
    with pytest.raises(Conflict) as asked:
        requests.ask(setting.db, setting.wallet, setting.proposal, setting.carol, setting.bob)

    assert gated.value.code == asked.value.code == "approvals_needed"
    assert signatures.stored(setting.db, setting.wallet, setting.proposal) == []
