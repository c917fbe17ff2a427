"""Roster changes in the core: the wallet's admin proposes, M keyholders' agents
confirm with the keys the pinned roster names, and only then does the new roster
take force; each step is an audit entry. The approval threshold is set this way."""

from __future__ import annotations

from pathlib import Path

import pytest

from coordinator.accounts import membership, passkeys, roles, users
from coordinator.errors import AccessDenied, Conflict, InvalidInput, NotFound
from coordinator.governance import agent_keys, audit, outbox, roster, roster_changes, roster_events
from coordinator.governance.roster import LOCAL_RP

from ..authenticator import SoftAuthenticator, b64url
from ..web.roster_world import agent_key
from .test_roster_v2 import set_up


def _confirm(db, wallet_id: int, user, signer: int, change=None):
    change = change or roster_changes.pending(db, wallet_id)
    body = agent_keys.roster_change_body(wallet_id, change.base_hash, change.roster.hash())
    return roster_changes.confirm(db, wallet_id, user.id, agent_keys.sign(agent_key(signer), "roster-change", body),
                                  change.roster.hash())


def test_a_threshold_change_applies_only_after_m_keyholder_agents_confirm(db):
    admin, members, draft = set_up(db)
    wallet = draft.wallet_id
    before = roster.pinned(db, wallet)

    proposed = roster_changes.propose(db, wallet, admin.id, LOCAL_RP, threshold=2)
    first = _confirm(db, wallet, members[0], 0)
    assert first.state == "pending" and roster.pinned(db, wallet) == before
    applied = _confirm(db, wallet, members[2], 2)

    assert proposed.summary == ("threshold 0 -> 2",) and proposed.needed == 2
    assert applied.state == "applied" and applied.confirmed_by == (members[0].id, members[2].id)
    assert roster.pinned(db, wallet).threshold == 2 and roster.pinned_version(db, wallet) == 2
    types = [e.type for e in audit.entries(db, audit.wallet_chain(wallet))]
    assert types[-4:] == ["roster_change_proposed", "roster_change_confirmed", "roster_change_confirmed",
                          "roster_changed"]


def test_a_new_member_and_a_new_passkey_show_in_the_change_and_are_pinned_once_confirmed(db):
    admin, members, draft = set_up(db)
    wallet = draft.wallet_id
    treasurer = users.create(db, "Treasurer")
    roles.grant(db, treasurer.id, wallet, "viewer")
    device = SoftAuthenticator(LOCAL_RP.origin, LOCAL_RP.rp_id)
    credential = b64url(device.credential_id)
    passkeys.add(db, members[1].id, passkeys.NewPasskey(credential, device.cose_public_key(), 0))

    change = roster_changes.propose(db, wallet, admin.id, LOCAL_RP)
    _confirm(db, wallet, members[0], 0)
    _confirm(db, wallet, members[1], 1)

    assert change.summary == (f"user:{members[1].id} passkey {credential} added",
                              f"user:{treasurer.id} added as viewer")
    pinned = roster.pinned(db, wallet)
    assert pinned.member(treasurer.id).role == "viewer" and treasurer.id not in pinned.approvers
    assert credential in pinned.member(members[1].id).passkeys


def test_a_replaced_agent_key_counts_only_once_the_change_naming_it_applies(db):
    admin, members, draft = set_up(db)
    wallet = draft.wallet_id
    agent_keys.register_key(db, members[0].id, agent_keys.public_key(agent_key(10)))

    change = roster_changes.propose(db, wallet, admin.id, LOCAL_RP)
    with pytest.raises(InvalidInput) as new_key_too_soon:
        _confirm(db, wallet, members[0], 10)  # the pinned roster still names the old key
    _confirm(db, wallet, members[0], 0)
    _confirm(db, wallet, members[1], 1)

    assert new_key_too_soon.value.code == "bad_agent_signature"
    assert change.summary == (f"user:{members[0].id} agent key {agent_keys.public_key(agent_key(0))} -> "
                              f"{agent_keys.public_key(agent_key(10))}",)
    assert roster.pinned(db, wallet).member(members[0].id).agent_key == agent_keys.public_key(agent_key(10))


def test_only_keyholders_with_a_pinned_agent_key_confirm_and_only_once(db):
    admin, members, draft = set_up(db, agents=(0, 1))
    wallet = draft.wallet_id
    roster_changes.propose(db, wallet, admin.id, LOCAL_RP, threshold=1)

    with pytest.raises(AccessDenied) as admin_no_slot:
        _confirm(db, wallet, admin, 0)
    with pytest.raises(AccessDenied) as qr_only:
        _confirm(db, wallet, members[2], 2)
    _confirm(db, wallet, members[0], 0)
    with pytest.raises(Conflict) as twice:
        _confirm(db, wallet, members[0], 0)

    assert admin_no_slot.value.code == qr_only.value.code == "not_a_confirmer"
    assert twice.value.code == "already_confirmed"
    assert roster_changes.pending(db, wallet).confirmed_by == (members[0].id,)


def test_only_the_wallet_admin_proposes_and_a_new_proposal_supersedes_the_pending_one(db):
    admin, members, draft = set_up(db)
    wallet = draft.wallet_id

    with pytest.raises(AccessDenied):
        roster_changes.propose(db, wallet, members[0].id, LOCAL_RP, threshold=1)
    first = roster_changes.propose(db, wallet, admin.id, LOCAL_RP, threshold=1)
    stale_body = agent_keys.roster_change_body(wallet, first.base_hash, first.roster.hash())
    second = roster_changes.propose(db, wallet, admin.id, LOCAL_RP, threshold=2)

    assert roster_changes.pending(db, wallet).id == second.id != first.id
    with pytest.raises(Conflict) as moved:
        roster_changes.confirm(db, wallet, members[0].id,
                               agent_keys.sign(agent_key(0), "roster-change", stale_body), first.roster.hash())
    assert moved.value.code == "roster_moved"
    assert "roster_change_superseded" in [e.type for e in audit.entries(db, audit.wallet_chain(wallet))]


@pytest.mark.parametrize("threshold,approvers,code", [
    (5, None, "bad_roster_change"),
    (-1, None, "bad_roster_change"),
    (1, [999], "bad_roster_change"),
    (None, None, "roster_change_empty"),
])
def test_bad_or_empty_changes_are_refused(db, threshold, approvers, code):
    admin, _, draft = set_up(db)

    with pytest.raises((InvalidInput, Conflict)) as caught:
        roster_changes.propose(db, draft.wallet_id, admin.id, LOCAL_RP, threshold, approvers)
    assert caught.value.code == code
    with pytest.raises(NotFound):
        roster_changes.pending(db, draft.wallet_id)


def test_narrowing_the_approvers_clamps_nothing_silently(db):
    admin, members, draft = set_up(db)

    change = roster_changes.propose(db, draft.wallet_id, admin.id, LOCAL_RP, 1, [members[0].id, members[1].id])

    assert change.roster.approvers == (members[0].id, members[1].id) and change.roster.threshold == 1
    assert change.summary[0].startswith("threshold 0 -> 1")


@pytest.mark.parametrize("event", roster_events.EVENTS, ids=lambda e: e.__name__)
def test_every_roster_event_is_documented(event):
    text = (Path(__file__).resolve().parents[2] / "docs" / "events.md").read_text(encoding="utf-8")

    assert f"### {event(**{f: 0 for f in event.__dataclass_fields__}).type}" in text


def test_roster_change_events_reach_the_wallets_room(db):
    admin, members, draft = set_up(db)
    roster_changes.propose(db, draft.wallet_id, admin.id, LOCAL_RP, threshold=1)
    _confirm(db, draft.wallet_id, members[0], 0)
    _confirm(db, draft.wallet_id, members[1], 1)

    sent = [e.type for e in outbox.since(db, f"wallet:{draft.wallet_id}", 0)]

    assert sent[-4:] == ["roster_change_proposed", "roster_change_confirmed", "roster_change_confirmed",
                         "roster_changed"]


def test_a_member_who_leaves_and_a_keyholder_who_joins_change_the_approvers_once_confirmed(db):
    admin, members, draft = set_up(db)
    wallet = draft.wallet_id
    newcomer = users.create(db, "Newcomer")
    roles.grant(db, newcomer.id, wallet, "keyholder")
    membership.remove(db, wallet, members[2].id, members[2].id)  # a slot owner leaves

    change = roster_changes.propose(db, wallet, admin.id, LOCAL_RP)
    assert roster.pinned(db, wallet).member(members[2].id) is not None  # not before M confirm
    _confirm(db, wallet, members[0], 0)
    _confirm(db, wallet, members[1], 1)

    assert f"user:{members[2].id} removed" in change.summary
    assert f"user:{newcomer.id} added as keyholder" in change.summary
    pinned = roster.pinned(db, wallet)
    assert pinned.member(members[2].id) is None
    assert pinned.approvers == (admin.id, members[0].id, members[1].id, newcomer.id)
