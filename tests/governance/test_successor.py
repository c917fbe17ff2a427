"""Successor wallets without Flask, on a real SQLite file: slots kept and replaced, M, N
and script type changed, the old wallet retired and linked both ways, spends refused
but sweeps planned in standard-size batches (hypothesis over coin counts and shapes),
and coins that arrive after retirement flagged once."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coordinator.errors import AccessDenied, Conflict, InvalidInput
from coordinator.governance import audit, proposals, successor, successor_errors, sweep, wallet_setup
from coordinator.psbt import sizes
from coordinator.psbt.model import Recipient
from coordinator.psbt.spend import MAX_STANDARD_TX_WEIGHT
from coordinator.store import wallets

from ..conftest import REPO_ROOT
from .test_wallet_setup import drafted, fill_all, key_text, people  # noqa: F401  (people: a fixture)


def _active(db, people, m=2, n=3):
    admin, members = people
    draft = fill_all(db, drafted(db, people, m, n), members)
    for i in range(n):
        draft = wallet_setup.confirm(db, draft.id, i, members[i].id, draft.first_address)
    return draft.wallet_id


def _activate(db, draft, members_by_slot):
    for i, member in enumerate(members_by_slot):
        draft = wallet_setup.confirm(db, draft.id, i, member.id, draft.first_address)
    return draft


def test_kept_slots_keep_key_and_owner_and_a_replaced_slot_waits_for_its_new_owner(db, people):
    admin, members = people
    old = _active(db, people)
    draft = successor.start(db, old, admin.id, [{"keep": 0}, {"owner": members[3].id}, {"keep": 1}], 2)
    assert [(s.user_id, s.key) for s in draft.slots] == [
        (members[0].id, key_text(0)), (members[3].id, None), (members[1].id, key_text(1))]
    draft = wallet_setup.fill(db, draft.id, 1, members[3].id, key_text(3))
    draft = _activate(db, draft, [members[0], members[3], members[1]])
    assert draft.state == "active"
    found = successor.retired(db, old)
    assert found.new_wallet_id == draft.wallet_id and successor.predecessor(db, draft.wallet_id) == found
    old_chain = {e.type: e.body for e in audit.entries(db, audit.wallet_chain(old))}
    assert old_chain["wallet_retired"]["successor"] == {"wallet": draft.wallet_id, "policy_id": found.new_policy_id}
    new_chain = {e.type: e.body for e in audit.entries(db, audit.wallet_chain(draft.wallet_id))}
    assert new_chain["successor_of"]["predecessor"] == {"wallet": old, "policy_id": found.old_policy_id}


def test_m_n_and_script_type_may_change_and_kept_owners_refill_for_another_script(db, people):
    admin, members = people
    old = _active(db, people)
    draft = successor.start(db, old, admin.id, [{"keep": 0}, {"keep": 1}, {"owner": members[3].id},
                                                {"owner": members[4].id}], 3, script_type="sh-wsh")
    assert (draft.threshold, draft.n, draft.script_type) == (3, 4, "sh-wsh")
    assert all(s.key is None for s in draft.slots)  # another script type's BIP-48 path: another key
    for i, member in enumerate([members[0], members[1], members[3], members[4]]):
        draft = wallet_setup.fill(db, draft.id, i, member.id, key_text([0, 1, 3, 4][i], "sh-wsh"))
    assert _activate(db, draft, [members[0], members[1], members[3], members[4]]).state == "active"


def test_only_the_wallets_admin_starts_a_successor(db, people):
    admin, members = people
    old = _active(db, people)
    with pytest.raises(AccessDenied):
        successor.start(db, old, members[0].id, [{"keep": 0}, {"keep": 1}, {"owner": members[3].id}], 2)


@pytest.mark.parametrize("slots", [[{"keep": 7}, {"keep": 1}], [{"keep": 0}, {"keep": 0}], [{"keep": 0}],
                                   [{"keep": 0}, {"who": 1}], [{"keep": True}, {"keep": 1}], "all"])
def test_bad_slot_lists_are_refused(db, people, slots):
    admin, _ = people
    with pytest.raises(InvalidInput) as err:
        successor.start(db, _active(db, people), admin.id, slots, 2)
    assert err.value.code == "bad_successor_slots"


def test_a_second_open_successor_draft_is_refused(db, people):
    admin, members = people
    old = _active(db, people)
    successor.start(db, old, admin.id, [{"keep": 0}, {"keep": 1}, {"owner": members[3].id}], 2)
    with pytest.raises(Conflict) as err:
        successor.start(db, old, admin.id, [{"keep": 0}, {"keep": 1}, {"owner": members[4].id}], 2, name="Other")
    assert err.value.code == "successor_draft_open"


def test_a_retired_wallet_refuses_spends_other_than_sweeps(db, people):
    admin, members = people
    old = _active(db, people)
    draft = successor.start(db, old, admin.id, [{"keep": 0}, {"keep": 1}, {"owner": members[3].id}], 2)
    draft = wallet_setup.fill(db, draft.id, 2, members[3].id, key_text(3))
    _activate(db, draft, [members[0], members[1], members[3]])
    wallet = wallets.get(db, "Family vault")
    with pytest.raises(Conflict) as err:
        proposals.create(db, wallet, members[0].id, [Recipient("bcrt1qg3pyysjzgfpyysjzgfpyysjzgfpyysjzyedenw",
                                                                10_000)], "rent", 2_000)
    assert err.value.code == "wallet_retired"
    with pytest.raises(Conflict) as err:
        successor.start(db, old, admin.id, [{"keep": 0}, {"keep": 1}], 2)
    assert err.value.code == "wallet_retired"


def test_an_active_wallet_is_not_swept(db, people):
    admin, members = people
    old = _active(db, people)
    with pytest.raises(Conflict) as err:
        sweep.propose(db, old, members[0].id, 2_000)
    assert err.value.code == "not_retired"


SHAPES = st.sampled_from([(1, 1, "wsh"), (2, 3, "wsh"), (3, 5, "sh-wsh"), (7, 15, "wsh"), (15, 15, "wsh")])


@settings(max_examples=200, deadline=None)
@given(count=st.integers(0, 5_000), shape=SHAPES)
def test_sweep_batches_cover_every_coin_once_each_within_the_standard_size(count, shape):
    m, n, script_type = shape
    plan = sweep.Shape(sizes.multisig_input_weight(m, n, script_type), sizes.output_weight(b"\x00\x20" + b"\x11" * 32))
    parts = sweep.batches(count, plan)
    covered = [i for part in parts for i in part]
    assert covered == list(range(count))
    assert all(plan.weight(len(part)) <= MAX_STANDARD_TX_WEIGHT for part in parts)
    per = plan.max_inputs()
    assert plan.weight(per + 1) > plan.limit  # one more would not fit
    assert len(parts) == -(-count // per)  # the fewest proposals


@given(values=st.lists(st.integers(1, 10_000), max_size=50), rate=st.integers(1_000, 50_000))
def test_coins_worth_less_than_their_input_fee_are_left_behind(values, rate):
    plan = sweep.Shape(sizes.multisig_input_weight(2, 3, "wsh"), sizes.output_weight(b"\x00\x20" + b"\x11" * 32))
    keep, dust = sweep.worth_sweeping(values, plan, rate)
    assert sorted(keep + dust) == list(range(len(values)))
    fee = -(-plan.input_weight * rate // 4000)
    assert all(values[i] > fee for i in keep) and all(values[i] <= fee for i in dust)


def test_a_coin_arriving_after_retirement_is_flagged_once(db, people):
    admin, members = people
    old = _active(db, people)
    draft = successor.start(db, old, admin.id, [{"keep": 0}, {"keep": 1}, {"owner": members[3].id}], 2)
    draft = wallet_setup.fill(db, draft.id, 2, members[3].id, key_text(3))
    _activate(db, draft, [members[0], members[1], members[3]])
    db.execute("INSERT INTO wallet_utxos (wallet_id, txid, vout, value, branch, idx, height) "
               "VALUES (?, ?, 0, 5000, 0, 3, 200)", [old, "ab" * 32])
    [late] = successor.flag_late_coins(db, old)
    assert late["outpoint"] == f"{'ab' * 32}:0" and late["value"] == 5000 and late["unspent"]
    assert successor.flag_late_coins(db, old) == [late]
    flagged = [e for e in audit.entries(db, audit.wallet_chain(old)) if e.type == "late_coin_flagged"]
    assert len(flagged) == 1 and flagged[0].body == {"coin": late["outpoint"], "value": 5000}


def test_removing_a_keyholder_offers_a_successor_that_replaces_their_slot(db, people):
    from coordinator.accounts import membership

    admin, members = people
    old = _active(db, people)
    removal = membership.remove(db, old, admin.id, members[2].id).to_dict()
    assert removal["successor"] == {"start": f"POST /api/v1/wallets/{old}/successor", "replace_slots": [2]}
    assert "successor wallet" in removal["message"]
    with pytest.raises(InvalidInput) as err:  # their slot can no longer be kept
        successor.start(db, old, admin.id, [{"keep": 0}, {"keep": 1}, {"keep": 2}], 2)
    assert err.value.code == "successor_slot_owner_gone"
    draft = successor.start(db, old, admin.id, [{"keep": 0}, {"keep": 1}, {"owner": members[3].id}], 2)
    assert draft.slots[2].user_id == members[3].id


@pytest.mark.parametrize("event", successor_errors.EVENTS, ids=lambda e: e.__name__)
def test_every_successor_event_is_documented(event):
    text = (REPO_ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    kind = event(**{f.name: 0 for f in dataclasses.fields(event)}).type
    assert f"### {kind}" in text


def test_the_chain_watchers_round_flags_a_late_coin_without_anyone_looking(db, people):
    from coordinator.chain.esplora import EsploraClient
    from coordinator.chain.sandbox import faucet
    from coordinator.sessions import watcher

    from ..sessions.ceremony_env import start_sandbox

    admin, members = people
    old = _active(db, people)
    draft = successor.start(db, old, admin.id, [{"keep": 0}, {"keep": 1}, {"owner": members[3].id}], 2)
    _activate(db, wallet_setup.fill(db, draft.id, 2, members[3].id, key_text(3)), [members[0], members[1], members[3]])
    wallet = wallets.get(db, db.execute("SELECT name FROM wallets WHERE id = ?", [old]).fetchone()[0])
    sandbox = start_sandbox()
    try:
        faucet.pay(sandbox.chain, wallet.descriptor.script_pubkey(0, 0).data, 7_000, confirm=True)
        with EsploraClient(sandbox.url, "regtest", retries=1) as backend:
            watcher.sync_one(db, wallet, backend)
    finally:
        sandbox.stop()

    flagged = [e.body for e in audit.entries(db, audit.wallet_chain(old)) if e.type == "late_coin_flagged"]
    assert [body["value"] for body in flagged] == [7_000]
