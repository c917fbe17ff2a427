"""The wallet-setup ceremony without Flask, on a real SQLite file: a server admin
drafts, each slot owner fills their slot with their BIP-48 key, the server
builds the descriptor, each owner confirms the first address their device
showed, and the wallet becomes active with its chain rooted in the setup's."""

from __future__ import annotations

import pytest
from embit import base58
from embit.descriptor import Descriptor
from embit.networks import NETWORKS

from coordinator.accounts import roles, users
from coordinator.errors import AccessDenied, Conflict, InvalidInput, NotFound
from coordinator.governance import audit, wallet_setup
from coordinator.store import wallets

from .. import keys

NET = "regtest"
SHAPES = [(2, 3), (3, 5)]


def key_text(i: int, script_type: str = "wsh", is_test: bool = True) -> str:
    """What `huddle agent xpub` prints for test seed i: [fingerprint/path]xpub."""
    return f"[{keys.fingerprint(i)}/{keys.path(is_test, script_type)[2:]}]{keys.xpub(i, is_test, script_type)}"


def device_first_address(m: int, n: int, script_type: str) -> str:
    """The first receive address as a device computes it: embit's own descriptor
    code over the test seeds' account keys, not Huddle's."""
    body = f"sortedmulti({m},{','.join(key_text(i, script_type) + '/0/*' for i in range(n))})"
    text = f"wsh({body})" if script_type == "wsh" else f"sh(wsh({body}))"
    return Descriptor.from_string(text).derive(0).address(NETWORKS["regtest"])


@pytest.fixture
def people(db):
    """A server admin and five members, each holding test seed i."""
    admin = users.create(db, "Admin", is_admin=True)
    return admin, [users.create(db, f"Member {i}") for i in range(5)]


def drafted(db, people, m=2, n=3, script_type="wsh"):
    admin, members = people
    return wallet_setup.create(db, admin.id, "Family vault", NET, script_type, m, [u.id for u in members[:n]])


def fill_all(db, draft, members, script_type="wsh"):
    for i in range(draft.n):
        draft = wallet_setup.fill(db, draft.id, i, members[i].id, key_text(i, script_type))
    return draft


@pytest.mark.parametrize("script_type", ["wsh", "sh-wsh"])
@pytest.mark.parametrize("m,n", SHAPES)
def test_a_drafted_wallet_becomes_active_once_every_keyholder_confirmed(db, people, script_type, m, n):
    admin, members = people
    draft = fill_all(db, drafted(db, people, m, n, script_type), members, script_type)
    assert draft.state == "confirming"
    first = device_first_address(m, n, script_type)
    assert draft.first_address == first
    for i in range(n):
        assert draft.state == "confirming" and draft.wallet_id is None
        draft = wallet_setup.confirm(db, draft.id, i, members[i].id, first)
    assert draft.state == "active"
    wallet = wallets.get(db, "Family vault")
    assert wallet.id == draft.wallet_id and wallet.descriptor.to_string() == draft.descriptor
    assert (wallet.descriptor.threshold, wallet.descriptor.n, wallet.descriptor.script_type) == (m, n, script_type)
    assert [c.label for c in wallet.descriptor.cosigners] == [u.name for u in members[:n]]
    assert wallet.descriptor.address(0, 0, NET) == first
    assert roles.role_of(db, admin.id, wallet.id) == "admin"
    assert all(roles.role_of(db, u.id, wallet.id) == "keyholder" for u in members[:n])
    assert all(roles.role_of(db, u.id, wallet.id) is None for u in members[n:])


def test_the_wallet_chain_starts_by_committing_to_the_setup_chain(db, people):
    _, members = people
    draft = fill_all(db, drafted(db, people), members)
    for i in range(3):
        draft = wallet_setup.confirm(db, draft.id, i, members[i].id, draft.first_address)
    setup = audit.entries(db, wallet_setup.setup_chain(draft.id))
    assert [e.type for e in setup] == ["draft_created", "slot_filled", "slot_filled", "slot_filled",
                                       "descriptor_built", "address_confirmed", "address_confirmed",
                                       "address_confirmed", "wallet_activated"]
    assert [e.actor for e in setup[1:4]] == [f"user:{u.id}" for u in members[:3]]
    genesis, = audit.entries(db, audit.wallet_chain(draft.wallet_id))
    assert genesis.type == "wallet_created" and genesis.seq == 1
    assert genesis.body["policy_id"] == wallets.get(db, "Family vault").descriptor.policy_id
    assert genesis.body["setup"] == {"chain": f"setup:{draft.id}", "head": f"8:{setup[7].hash}"}
    assert setup[-1].body["genesis"] == genesis.hash
    audit.verify(setup)
    audit.verify([genesis])


def test_a_key_in_another_slip132_dress_is_stored_as_a_tpub(db, people):
    _, members = people
    draft = drafted(db, people)
    raw = base58.decode_check(keys.xpub(0))
    vpub = base58.encode_check(bytes.fromhex("02575483") + raw[4:])  # SLIP-132 Vpub: testnet P2WSH multisig
    draft = wallet_setup.fill(db, draft.id, 0, members[0].id, f"[{keys.fingerprint(0)}/48h/1h/0h/2h]{vpub}")
    assert draft.slots[0].key == key_text(0)


def test_a_mainnet_key_is_refused_on_a_test_network(db, people):
    _, members = people
    draft = drafted(db, people)
    with pytest.raises(InvalidInput) as err:
        wallet_setup.fill(db, draft.id, 0, members[0].id, key_text(0, is_test=False))
    assert err.value.code == "wrong_network"


def test_a_key_without_its_origin_is_refused(db, people):
    _, members = people
    draft = drafted(db, people)
    with pytest.raises(InvalidInput) as err:
        wallet_setup.fill(db, draft.id, 0, members[0].id, keys.xpub(0))
    assert err.value.code == "setup_origin_required"


@pytest.mark.parametrize("script_type,other", [("wsh", "sh-wsh"), ("sh-wsh", "wsh")])
def test_a_key_at_another_script_types_path_is_refused(db, people, script_type, other):
    _, members = people
    draft = drafted(db, people, script_type=script_type)
    with pytest.raises(InvalidInput) as err:
        wallet_setup.fill(db, draft.id, 0, members[0].id, key_text(0, other))
    assert err.value.code == "setup_wrong_path"


def test_a_key_outside_bip48_is_refused(db, people):
    _, members = people
    draft = drafted(db, people)
    bip84 = keys.root(0).derive("m/84h/1h/0h").to_public()
    bip84.version = NETWORKS["test"]["xpub"]
    with pytest.raises(InvalidInput) as err:
        wallet_setup.fill(db, draft.id, 0, members[0].id, f"[{keys.fingerprint(0)}/84h/1h/0h]{bip84.to_base58()}")
    assert err.value.code == "setup_wrong_path"


def test_the_same_key_in_two_slots_is_refused(db, people):
    _, members = people
    draft = drafted(db, people)
    wallet_setup.fill(db, draft.id, 0, members[0].id, key_text(0))
    with pytest.raises(InvalidInput) as err:
        wallet_setup.fill(db, draft.id, 1, members[1].id, key_text(0))
    assert err.value.code == "duplicate_cosigner"


def test_only_the_slot_owner_fills_a_slot(db, people):
    admin, members = people
    draft = drafted(db, people)
    for intruder in (members[1], admin):
        with pytest.raises(AccessDenied) as err:
            wallet_setup.fill(db, draft.id, 0, intruder.id, key_text(1))
        assert err.value.code == "not_slot_owner"
    with pytest.raises(NotFound) as err:  # not part of the draft at all: as if it did not exist
        wallet_setup.fill(db, draft.id, 0, members[4].id, key_text(4))
    assert err.value.code == "draft_not_found"
    assert wallet_setup.get(db, draft.id, admin.id).slots[0].key is None


def test_a_filled_slot_keeps_its_key(db, people):
    _, members = people
    draft = drafted(db, people)
    wallet_setup.fill(db, draft.id, 0, members[0].id, key_text(0))
    with pytest.raises(Conflict) as err:
        wallet_setup.fill(db, draft.id, 0, members[0].id, key_text(3))
    assert err.value.code == "slot_filled"


def test_confirming_before_every_slot_is_filled_is_refused(db, people):
    _, members = people
    draft = drafted(db, people)
    wallet_setup.fill(db, draft.id, 0, members[0].id, key_text(0))
    with pytest.raises(Conflict) as err:
        wallet_setup.confirm(db, draft.id, 0, members[0].id, device_first_address(2, 3, "wsh"))
    assert err.value.code == "setup_not_ready"


def test_confirming_another_address_is_refused_and_recorded_nowhere(db, people):
    _, members = people
    draft = fill_all(db, drafted(db, people), members)
    other = Descriptor.from_string(f"wsh(sortedmulti(2,{','.join(key_text(i) + '/0/*' for i in (0, 1, 3))}))")
    before = audit.head(db, wallet_setup.setup_chain(draft.id))
    with pytest.raises(InvalidInput) as err:
        wallet_setup.confirm(db, draft.id, 0, members[0].id, other.derive(0).address(NETWORKS["regtest"]))
    assert err.value.code == "setup_address_mismatch"
    assert err.value.details["expected"] == draft.first_address
    assert wallet_setup.get(db, draft.id, members[0].id).slots[0].confirmed_address is None
    assert audit.head(db, wallet_setup.setup_chain(draft.id)) == before


def test_a_bech32_address_read_in_upper_case_confirms(db, people):
    _, members = people
    draft = fill_all(db, drafted(db, people), members)
    draft = wallet_setup.confirm(db, draft.id, 0, members[0].id, draft.first_address.upper())
    assert draft.slots[0].confirmed_address == draft.first_address


def test_confirming_twice_changes_nothing(db, people):
    _, members = people
    draft = fill_all(db, drafted(db, people), members)
    wallet_setup.confirm(db, draft.id, 0, members[0].id, draft.first_address)
    head = audit.head(db, wallet_setup.setup_chain(draft.id))
    again = wallet_setup.confirm(db, draft.id, 0, members[0].id, draft.first_address)
    assert again.state == "confirming" and again.slots[0].confirmed_address == draft.first_address
    assert audit.head(db, wallet_setup.setup_chain(draft.id)) == head


def test_the_last_confirmation_repeated_after_activation_changes_nothing(db, people):
    _, members = people
    draft = fill_all(db, drafted(db, people), members)
    for i in range(3):
        draft = wallet_setup.confirm(db, draft.id, i, members[i].id, draft.first_address)
    head = audit.head(db, wallet_setup.setup_chain(draft.id))
    again = wallet_setup.confirm(db, draft.id, 2, members[2].id, draft.first_address)
    assert again.state == "active" and audit.head(db, wallet_setup.setup_chain(draft.id)) == head
    with pytest.raises(InvalidInput) as err:  # a retry with another address is still refused
        wallet_setup.confirm(db, draft.id, 2, members[2].id, keys.descriptor(2, 3, first=3).address(0, 0, NET))
    assert err.value.code == "setup_address_mismatch"


def test_only_a_server_admin_drafts(db, people):
    _, members = people
    with pytest.raises(AccessDenied) as err:
        wallet_setup.create(db, members[0].id, "Mine", NET, "wsh", 2, [members[0].id, members[1].id])
    assert err.value.code == "forbidden"


@pytest.mark.parametrize("script_type,m,owners", [
    ("tr", 2, 3), ("wsh", 0, 3), ("wsh", 4, 3), ("wsh", 1, 1), ("wsh", 2, 16), ("wsh", True, 3)])
def test_a_draft_of_an_impossible_shape_is_refused(db, people, script_type, m, owners):
    admin, members = people
    with pytest.raises(InvalidInput) as err:
        wallet_setup.create(db, admin.id, "Odd", NET, script_type, m, [members[i % 5].id for i in range(owners)])
    assert err.value.code == "bad_draft"


def test_a_revoked_or_unknown_user_cannot_own_a_slot(db, people):
    admin, members = people
    users.revoke(db, members[2].id)
    for owners in ([members[0].id, members[2].id], [members[0].id, 999]):
        with pytest.raises(InvalidInput) as err:
            wallet_setup.create(db, admin.id, "Vault", NET, "wsh", 2, owners)
        assert err.value.code == "bad_draft"


def test_a_draft_may_not_take_a_wallets_name(db, people):
    admin, members = people
    drafted(db, people)
    with pytest.raises(Conflict) as err:
        drafted(db, people)
    assert err.value.code == "wallet_exists"


def test_a_cancelled_draft_takes_no_more_keys(db, people):
    admin, members = people
    draft = drafted(db, people)
    with pytest.raises(AccessDenied):
        wallet_setup.cancel(db, draft.id, members[0].id)
    assert wallet_setup.cancel(db, draft.id, admin.id).state == "cancelled"
    with pytest.raises(Conflict) as err:
        wallet_setup.fill(db, draft.id, 0, members[0].id, key_text(0))
    assert err.value.code == "draft_closed"
    assert drafted(db, people).state == "collecting"  # the name is free again


def test_keys_making_a_stored_wallet_are_refused_when_the_last_slot_fills(db, people):
    _, members = people
    wallets.add(db, "Already here", NET, keys.descriptor(2, 3))
    draft = drafted(db, people)
    wallet_setup.fill(db, draft.id, 0, members[0].id, key_text(0))
    wallet_setup.fill(db, draft.id, 1, members[1].id, key_text(1))
    with pytest.raises(Conflict) as err:
        wallet_setup.fill(db, draft.id, 2, members[2].id, key_text(2))
    assert err.value.code == "wallet_duplicate"
    assert wallet_setup.get(db, draft.id, members[2].id).slots[2].key is None


def test_a_member_sees_only_drafts_they_are_part_of(db, people):
    admin, members = people
    draft = drafted(db, people)
    assert [d.id for d in wallet_setup.list_for(db, members[0].id)] == [draft.id]
    assert [d.id for d in wallet_setup.list_for(db, admin.id)] == [draft.id]
    assert wallet_setup.list_for(db, members[4].id) == []
    with pytest.raises(NotFound):
        wallet_setup.get(db, draft.id, members[4].id)
