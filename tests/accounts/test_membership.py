"""Membership changes without Flask, on a real SQLite file, for a wallet set up
at a ceremony (so its slots have owners): a wallet admin changes roles and
removes members, a member may leave, the wallet never loses its last admin,
a slot owner is never demoted to viewer but may be removed (the answer names
the key the wallet still depends on), and each change is in the wallet's
chain and room."""

from __future__ import annotations

import pytest

from coordinator.accounts import membership, roles, users
from coordinator.errors import AccessDenied, Conflict, NotFound
from coordinator.governance import audit, outbox, wallet_setup
from coordinator.store import wallets

from .. import keys
from .conftest import T0


def _key(i: int) -> str:
    return f"[{keys.fingerprint(i)}/{keys.path(True, 'wsh')[2:]}]{keys.xpub(i)}"


@pytest.fixture
def group(db):
    """Ada (server admin) drafted a 2-of-3 for Bob, Carol and Dan, who set it up;
    Vic is a viewer. Ada is the wallet's only admin."""
    ada = users.create(db, "Ada", is_admin=True)
    bob, carol, dan, vic = (users.create(db, name) for name in ("Bob", "Carol", "Dan", "Vic"))
    owners = (bob, carol, dan)
    draft = wallet_setup.create(db, ada.id, "Roof fund", "regtest", "wsh", 2, [u.id for u in owners])
    for i, owner in enumerate(owners):
        draft = wallet_setup.fill(db, draft.id, i, owner.id, _key(i))
    for i, owner in enumerate(owners):
        draft = wallet_setup.confirm(db, draft.id, i, owner.id, draft.first_address)
    roles.grant(db, vic.id, draft.wallet_id, "viewer")
    return draft.wallet_id, ada, bob, carol, dan, vic


def test_members_are_listed_with_roles_and_slots_and_a_lone_admin_is_warned_about(db, group):
    wallet_id, ada, bob, carol, dan, vic = group

    listed = [m.to_dict() for m in membership.members(db, wallet_id)]

    assert [(m["name"], m["role"]) for m in listed] == [("Ada", "admin"), ("Bob", "keyholder"),
                                                       ("Carol", "keyholder"), ("Dan", "keyholder"), ("Vic", "viewer")]
    assert listed[1]["slots"] == [{"position": 0, "key": wallet_setup.read_key(_key(0), "regtest", "wsh")
                                   .key_expression()}]
    assert listed[0]["slots"] == listed[4]["slots"] == []
    assert "Ada is this wallet's only admin" in membership.warning(db, wallet_id)


def test_a_wallet_admin_changes_a_role_and_the_chain_and_the_room_record_it(db, group):
    wallet_id, ada, bob, *_ = group

    changed = membership.change_role(db, wallet_id, ada.id, bob.id, "admin", now=T0)

    assert changed.role == "admin" and roles.role_of(db, bob.id, wallet_id) == "admin"
    assert membership.warning(db, wallet_id) is None
    entry = audit.entries(db, audit.wallet_chain(wallet_id))[-1]
    assert (entry.type, entry.actor, entry.body) == ("role_changed", f"user:{ada.id}",
                                                     {"user": bob.id, "from": "keyholder", "to": "admin"})
    event = outbox.since(db, audit.wallet_chain(wallet_id), 0)[-1]
    assert (event.type, event.data) == ("role_changed", {"wallet_id": wallet_id, "user": bob.id, "role": "admin",
                                                         "previous": "keyholder"})
    again = len(audit.entries(db, audit.wallet_chain(wallet_id)))
    assert membership.change_role(db, wallet_id, ada.id, bob.id, "admin").role == "admin"
    assert len(audit.entries(db, audit.wallet_chain(wallet_id))) == again  # the same role changes nothing


def test_the_last_admin_is_never_demoted_removed_or_let_go(db, group):
    wallet_id, ada, bob, *_ = group

    for attempt in (lambda: membership.change_role(db, wallet_id, ada.id, ada.id, "keyholder"),
                    lambda: membership.remove(db, wallet_id, ada.id, ada.id)):
        with pytest.raises(Conflict) as err:
            attempt()
        assert err.value.code == "last_admin"
    assert roles.role_of(db, ada.id, wallet_id) == "admin"

    membership.change_role(db, wallet_id, ada.id, bob.id, "admin")
    left = membership.remove(db, wallet_id, ada.id, ada.id)
    assert left.left and roles.role_of(db, ada.id, wallet_id) is None
    assert "Bob is this wallet's only admin" in membership.warning(db, wallet_id)


def test_a_slot_owner_is_not_demoted_to_viewer_but_may_be_removed_and_the_answer_names_the_key(db, group):
    wallet_id, ada, bob, *_ = group
    bobs_key = wallet_setup.read_key(_key(0), "regtest", "wsh").key_expression()

    with pytest.raises(Conflict) as err:
        membership.change_role(db, wallet_id, ada.id, bob.id, "viewer")
    assert err.value.code == "member_holds_key" and bobs_key in err.value.message
    assert "still depends on their key" in err.value.message

    removal = membership.remove(db, wallet_id, ada.id, bob.id, now=T0).to_dict()

    assert removal["wallet_still_depends_on"] == [{"position": 0, "key": bobs_key}] and not removal["left"]
    assert "still depends on their key" in removal["message"] and bobs_key in removal["message"]
    assert roles.role_of(db, bob.id, wallet_id) is None
    entry = audit.entries(db, audit.wallet_chain(wallet_id))[-1]
    assert (entry.type, entry.actor, entry.body) == ("member_removed", f"user:{ada.id}", {"user": bob.id})
    event = outbox.since(db, audit.wallet_chain(wallet_id), 0)[-1]
    assert (event.type, event.data) == ("member_removed", {"wallet_id": wallet_id, "user": bob.id, "by": ada.id})
    audit.verify(audit.entries(db, audit.wallet_chain(wallet_id)))


def test_only_a_wallet_admin_changes_or_removes_others_but_any_member_may_leave(db, group):
    wallet_id, ada, bob, carol, dan, vic = group

    for attempt in (lambda: membership.change_role(db, wallet_id, carol.id, vic.id, "keyholder"),
                    lambda: membership.remove(db, wallet_id, carol.id, vic.id)):
        with pytest.raises(AccessDenied):
            attempt()
    left = membership.remove(db, wallet_id, vic.id, vic.id)

    assert left.left and left.depends_on == () and "no longer a member" in left.message
    with pytest.raises(NotFound) as err:
        membership.remove(db, wallet_id, vic.id, vic.id)
    assert err.value.code == "wallet_not_found"  # no longer a member: the wallet is gone for them
    with pytest.raises(NotFound) as err:
        membership.change_role(db, wallet_id, ada.id, vic.id, "viewer")
    assert err.value.code == "member_not_found"


def test_a_keyholder_of_an_imported_wallet_owns_no_recorded_slot_and_may_become_a_viewer(db):
    ada, bob = users.create(db, "Ada", is_admin=True), users.create(db, "Bob")
    wallet_id = wallets.add(db, "Imported", "regtest", keys.descriptor(2, 3)).id
    roles.grant(db, ada.id, wallet_id, "admin")
    roles.grant(db, bob.id, wallet_id, "keyholder")

    assert membership.change_role(db, wallet_id, ada.id, bob.id, "viewer").role == "viewer"
