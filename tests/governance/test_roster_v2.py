"""The version 2 roster and its pinning at the setup ceremony, in the core (no
Flask): the draft's roster, agent-signed confirmations, keyholders with only a
QR device, a roster that moves during the ceremony, and the pinned roster in
the wallet's first audit entry. Version 1 roster files still load."""

from __future__ import annotations

import dataclasses

import pytest

from coordinator import canonical
from coordinator.accounts import passkeys, users
from coordinator.errors import Conflict, InvalidInput
from coordinator.governance import agent_keys, audit, roster, roster_audit, setup_roster, wallet_setup
from coordinator.governance.roster import LOCAL_RP, PinnedRoster

from ..authenticator import SoftAuthenticator, b64url
from ..web.roster_world import agent_key
from .test_wallet_setup import NET, key_text


def people_with_agents(db, agents=(0, 1, 2)):
    """A server admin and three keyholders; those in ``agents`` registered an agent key,
    and everyone has a passkey."""
    admin = users.create(db, "Admin", is_admin=True)
    members = [users.create(db, f"Member {i}") for i in range(3)]
    for user in (admin, *members):
        device = SoftAuthenticator(LOCAL_RP.origin, LOCAL_RP.rp_id)
        passkeys.add(db, user.id, passkeys.NewPasskey(b64url(device.credential_id), device.cose_public_key(), 0))
    for i in agents:
        agent_keys.register_key(db, members[i].id, agent_keys.public_key(agent_key(i)))
    return admin, members


def filled_draft(db, admin, members):
    draft = wallet_setup.create(db, admin.id, "Family vault", NET, "wsh", 2, [u.id for u in members])
    for i, user in enumerate(members):
        draft = wallet_setup.fill(db, draft.id, i, user.id, key_text(i))
    return draft


def confirm(db, draft, i: int, user, signer: int | None = None, roster_hash: str | None = None):
    """Slot i's owner confirms; with ``signer``, that agent key signs the draft's roster as it is now."""
    if signer is None:
        return wallet_setup.confirm(db, draft.id, i, user.id, draft.first_address)
    shown = setup_roster.draft_roster(db, wallet_setup.get(db, draft.id, user.id))
    body = agent_keys.roster_confirm_body(draft.id, roster_hash or shown.hash(), draft.first_address)
    return wallet_setup.confirm(db, draft.id, i, user.id, draft.first_address,
                                agent_signature=agent_keys.sign(agent_key(signer), "roster-confirm", body),
                                roster_hash=roster_hash)


def set_up(db, agents=(0, 1, 2)):
    """The whole ceremony in the core; (admin, members, the active draft)."""
    admin, members = people_with_agents(db, agents)
    draft = filled_draft(db, admin, members)
    for i, user in enumerate(members):
        draft = confirm(db, draft, i, user, i if i in agents else None)
    assert draft.state == "active"
    return admin, members, draft


def test_the_ceremony_pins_the_roster_it_showed_in_the_wallets_first_entry(db):
    admin, members = people_with_agents(db)
    draft = filled_draft(db, admin, members)
    shown = setup_roster.draft_roster(db, draft)
    for i, user in enumerate(members):
        draft = confirm(db, draft, i, user, i)

    pinned = roster.pinned(db, draft.wallet_id)
    genesis = audit.entries(db, audit.wallet_chain(draft.wallet_id))[0]
    assert pinned == shown and roster.pinned_version(db, draft.wallet_id) == 1
    assert genesis.body["roster"] == {"version": 1, "hash": shown.hash(), "body": shown.to_dict()}
    assert [(m.user, m.role, m.slot) for m in pinned.members] == [
        (admin.id, "admin", None), *((u.id, "keyholder", i) for i, u in enumerate(members))]
    assert pinned.threshold == 0 and pinned.approvers == (admin.id, *(u.id for u in members))
    assert all(len(m.passkeys) == 1 for m in pinned.members)


def test_a_keyholder_with_an_agent_key_cannot_confirm_without_its_signature(db):
    admin, members = people_with_agents(db)
    draft = filled_draft(db, admin, members)

    with pytest.raises(InvalidInput) as plain:
        confirm(db, draft, 0, members[0])
    with pytest.raises(InvalidInput) as foreign:
        confirm(db, draft, 0, members[0], signer=1)
    assert plain.value.code == "agent_confirmation_required" and foreign.value.code == "bad_agent_signature"
    assert not wallet_setup.get(db, draft.id, admin.id).slots[0].confirmed_address


def test_keyholders_with_only_a_qr_device_confirm_as_before_and_are_pinned_without_an_agent_key(db):
    _, members, draft = set_up(db, agents=(1,))

    pinned = roster.pinned(db, draft.wallet_id)
    assert [pinned.member(u.id).approves_with for u in members] == ["passkey", "agent", "passkey"]


def test_a_signature_over_a_roster_that_has_since_moved_is_refused(db):
    admin, members = people_with_agents(db)
    draft = filled_draft(db, admin, members)
    old_hash = setup_roster.draft_roster(db, draft).hash()
    agent_keys.register_key(db, admin.id, agent_keys.public_key(agent_key(7)))

    with pytest.raises(Conflict) as moved:
        confirm(db, draft, 0, members[0], signer=0, roster_hash=old_hash)
    assert moved.value.code == "roster_moved" and moved.value.details["roster_hash"] != old_hash


def test_confirmations_over_an_older_roster_are_withdrawn_instead_of_activating(db):
    admin, members = people_with_agents(db, agents=(0, 1))
    draft = filled_draft(db, admin, members)
    draft = confirm(db, draft, 0, members[0], 0)
    device = SoftAuthenticator(LOCAL_RP.origin, LOCAL_RP.rp_id)  # member 2 adds a passkey: the roster moves
    passkeys.add(db, members[2].id, passkeys.NewPasskey(b64url(device.credential_id), device.cose_public_key(), 0))
    draft = confirm(db, draft, 1, members[1], 1)
    draft = confirm(db, draft, 2, members[2])

    assert draft.state == "confirming" and [s.confirmed_address is not None for s in draft.slots] == [False, True, True]
    setup = audit.entries(db, wallet_setup.setup_chain(draft.id))
    assert setup[-1].type == "confirmation_withdrawn" and setup[-1].body["position"] == 0
    draft = confirm(db, draft, 0, members[0], 0)
    assert draft.state == "active"
    assert len(roster.pinned(db, draft.wallet_id).member(members[2].id).passkeys) == 2


def test_a_roster_round_trips_through_its_canonical_form_and_its_hash_is_of_that_form(db):
    _, _, draft = set_up(db)
    pinned = roster.pinned(db, draft.wallet_id)
    text = canonical.encode(pinned.to_dict())

    assert PinnedRoster.from_dict(canonical.decode(text)) == pinned
    assert pinned.hash() == canonical.digest(pinned.to_dict()).hex()
    assert isinstance(roster.load(pinned.to_dict()), PinnedRoster)
    assert isinstance(roster.load(roster.from_db(db, draft.wallet_id, "localhost", "http://localhost").to_dict()),
                      roster.Roster)


@pytest.mark.parametrize("breakage", [
    lambda r: r.update(v=3),
    lambda r: r["members"].append(dict(r["members"][0])),
    lambda r: r["policy"].update(threshold=len(r["policy"]["approvers"]) + 1),
    lambda r: r["policy"].update(approvers=[999]),
    lambda r: r["members"][0].update(agent_key="ff" * 32),
    lambda r: r["members"][0].update(role="owner"),
    lambda r: r.update(extra=1),
    lambda r: r.pop("origin"),
], ids=["version", "duplicate member", "threshold above approvers", "approver not a member", "agent key off curve",
        "unknown role", "unknown field", "missing origin"])
def test_a_malformed_roster_is_refused(db, breakage):
    _, _, draft = set_up(db)
    data = roster.pinned(db, draft.wallet_id).to_dict()
    breakage(data)

    with pytest.raises(InvalidInput) as caught:
        PinnedRoster.from_dict(data)
    assert caught.value.code == "bad_roster"


def test_replacing_an_agent_key_names_the_wallets_whose_pinned_roster_has_the_old_one(db):
    _, members, draft = set_up(db)

    key, old, wallets = agent_keys.register_key(db, members[0].id, agent_keys.public_key(agent_key(8)))
    again = agent_keys.register_key(db, members[0].id, key)

    assert old == agent_keys.public_key(agent_key(0)) and wallets == [draft.wallet_id]
    assert again == (key, None, []) and agent_keys.active(db, members[0].id) == key
    with pytest.raises(Conflict) as taken:
        agent_keys.register_key(db, members[1].id, old)
    assert taken.value.code == "agent_key_taken"


@pytest.mark.parametrize("kind,body", [
    ("roster_change_confirmed", {"change": [1]}),
    ("approval_added", {"family": "f", "approval": "not an approval"}),
    ("roster_change_proposed", {"roster": {"v": 2}}),
])
def test_a_chain_entry_of_the_wrong_shape_is_named_rather_than_crashing_verify(db, kind, body):
    _, _, draft = set_up(db)
    entries = audit.entries(db, audit.wallet_chain(draft.wallet_id))
    odd = dataclasses.replace(entries[-1], seq=entries[-1].seq + 1, type=kind, body=body)

    with pytest.raises(InvalidInput) as caught:
        roster_audit.verify_wallet_chain([*entries, odd], roster.pinned(db, draft.wallet_id))
    assert caught.value.details["seq"] == odd.seq
    assert caught.value.code in ("audit_roster_invalid", "audit_approval_invalid")
