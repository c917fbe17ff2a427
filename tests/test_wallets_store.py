"""Stored wallets: add/get/list/remove, names, duplicates, networks, and
importing the real wallet files other tools write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from embit import base58
from embit.networks import NETWORKS

from coordinator.errors import Conflict, InvalidInput, NotFound
from coordinator.store import open_database, wallets
from coordinator.wallet.descriptor import RECEIVE, MultisigDescriptor
from coordinator.wallet.keys import Cosigner
from tests import keys
from tests.conftest import VECTORS

EXPORTS = VECTORS / "wallet_exports"
PEOPLE = [("Alice", "coldcard"), ("Bob", "ledger"), ("Carol", "trezor")]


@pytest.fixture(scope="module")
def exports() -> Path:
    if not EXPORTS.is_dir():
        pytest.fail(f"wallet export vectors not found at {EXPORTS}")
    return EXPORTS


def labelled(desc: MultisigDescriptor, people=PEOPLE) -> MultisigDescriptor:
    cosigners = tuple(
        Cosigner.from_parts(c.origin, c.xpub, label, device)
        for c, (label, device) in zip(desc.cosigners, people)
    )
    return MultisigDescriptor(desc.script_type, desc.threshold, cosigners, desc.sorted)


def reordered(desc: MultisigDescriptor, sorted_: bool | None = None) -> MultisigDescriptor:
    return MultisigDescriptor(desc.script_type, desc.threshold, tuple(reversed(desc.cosigners)),
                              desc.sorted if sorted_ is None else sorted_)


def zpub_dressed(desc: MultisigDescriptor) -> str:
    """The same descriptor text with every mainnet xpub written as a SLIP-132 Zpub."""
    text = desc.to_string(checksummed=False)
    for c in desc.cosigners:
        raw = base58.decode_check(c.xpub)
        text = text.replace(c.xpub, base58.encode_check(NETWORKS["main"]["Zpub"] + raw[4:]))
    assert "Zpub" in text and "xpub" not in text
    return text


def code_of(excinfo) -> str:
    return excinfo.value.code


# -- round trip -------------------------------------------------------------------


def test_a_wallet_survives_add_get_and_list_with_labels_and_devices(db):
    desc = labelled(keys.descriptor(2, 3))

    added = wallets.add(db, "Family vault", "testnet", desc)
    got = wallets.get(db, "Family vault")

    for w in (added, got):
        assert w.name == "Family vault"
        assert w.network == "testnet"
        assert w.descriptor.to_string() == desc.to_string()
        assert w.descriptor.policy_id == desc.policy_id
        assert [(c.label, c.device) for c in w.descriptor.cosigners] == PEOPLE
        assert w.created_at
    assert [w.name for w in wallets.list_all(db)] == ["Family vault"]
    assert [(c.label, c.device) for c in wallets.list_all(db)[0].descriptor.cosigners] == PEOPLE


def test_wallets_are_listed_by_name(db):
    wallets.add(db, "zeta", "testnet", keys.descriptor(2, 2, first=0))
    wallets.add(db, "alpha", "testnet", keys.descriptor(2, 2, first=2))
    wallets.add(db, "mid", "testnet", keys.descriptor(2, 2, first=4))

    assert [w.name for w in wallets.list_all(db)] == ["alpha", "mid", "zeta"]


def test_an_empty_store_lists_no_wallets(db):
    assert wallets.list_all(db) == []


def test_a_removed_wallet_is_gone(db):
    wallets.add(db, "old", "testnet", keys.descriptor(2, 3))

    wallets.remove(db, "old")

    assert wallets.list_all(db) == []
    with pytest.raises(NotFound) as caught:
        wallets.get(db, "old")
    assert code_of(caught) == "wallet_not_found"


def test_a_removed_wallet_can_be_added_again(db):
    wallets.add(db, "old", "testnet", keys.descriptor(2, 3))
    wallets.remove(db, "old")

    assert wallets.add(db, "old", "testnet", keys.descriptor(2, 3)).name == "old"


def test_names_are_trimmed(db):
    wallets.add(db, "  padded  ", "testnet", keys.descriptor(2, 3))

    assert wallets.get(db, "padded").name == "padded"
    assert wallets.get(db, " padded ").name == "padded"


@pytest.mark.parametrize("network", ["bitcoin", "testnet", "regtest"])
def test_a_wallet_is_stored_for_the_network_its_keys_fit(db, network):
    desc = keys.descriptor(2, 3, is_test=network != "bitcoin")

    assert wallets.add(db, "w", network, desc).network == network


# -- conflicts ---------------------------------------------------------------------


def test_a_taken_name_is_refused(db):
    wallets.add(db, "vault", "testnet", keys.descriptor(2, 3))

    with pytest.raises(Conflict) as caught:
        wallets.add(db, "vault", "testnet", keys.descriptor(2, 2, first=8))
    assert code_of(caught) == "wallet_exists"
    with pytest.raises(Conflict) as caught:
        wallets.add(db, " vault ", "testnet", keys.descriptor(2, 2, first=8))
    assert code_of(caught) == "wallet_exists"


def test_the_same_keys_in_another_order_under_another_name_are_a_duplicate(db):
    desc = keys.descriptor(2, 3)
    wallets.add(db, "first", "testnet", desc)

    with pytest.raises(Conflict) as caught:
        wallets.add(db, "second", "testnet", reordered(desc))

    assert code_of(caught) == "wallet_duplicate"
    assert "first" in caught.value.message


def test_the_same_keys_with_other_labels_are_a_duplicate(db):
    desc = keys.descriptor(2, 3)
    wallets.add(db, "first", "testnet", desc)

    with pytest.raises(Conflict) as caught:
        wallets.add(db, "second", "testnet", labelled(desc))

    assert code_of(caught) == "wallet_duplicate"


def test_the_same_keys_as_zpub_instead_of_xpub_are_a_duplicate(db):
    desc = keys.descriptor(2, 3, is_test=False)
    wallets.add(db, "xpubs", "bitcoin", desc)
    as_zpub = MultisigDescriptor.from_string(zpub_dressed(desc))

    with pytest.raises(Conflict) as caught:
        wallets.add(db, "zpubs", "bitcoin", as_zpub)

    assert code_of(caught) == "wallet_duplicate"


def test_a_different_threshold_over_the_same_keys_is_another_wallet(db):
    wallets.add(db, "two", "testnet", keys.descriptor(2, 3))

    assert wallets.add(db, "three", "testnet", keys.descriptor(3, 3)).name == "three"


def test_an_unsorted_multi_wallet_in_another_key_order_is_another_wallet(db):
    multi = reordered(keys.descriptor(2, 3), sorted_=False)
    wallets.add(db, "multi", "testnet", multi)

    assert wallets.add(db, "multi-reversed", "testnet", reordered(multi)).name == "multi-reversed"


def test_a_refused_duplicate_changes_nothing(db):
    wallets.add(db, "first", "testnet", keys.descriptor(2, 3))
    with pytest.raises(Conflict):
        wallets.add(db, "second", "testnet", reordered(keys.descriptor(2, 3)))

    assert [w.name for w in wallets.list_all(db)] == ["first"]


# -- networks and names ---------------------------------------------------------------


def test_a_tpub_wallet_on_bitcoin_is_refused(db):
    with pytest.raises(InvalidInput) as caught:
        wallets.add(db, "w", "bitcoin", keys.descriptor(2, 3, is_test=True))

    assert code_of(caught) == "wrong_network"
    assert wallets.list_all(db) == []


def test_an_xpub_wallet_on_testnet_is_refused(db):
    with pytest.raises(InvalidInput) as caught:
        wallets.add(db, "w", "testnet", keys.descriptor(2, 3, is_test=False))

    assert code_of(caught) == "wrong_network"


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "../x", " ../x", "-dash-first", "a/b", "tab\tname", "new\nline"])
def test_bad_wallet_names_are_refused(db, name):
    with pytest.raises(InvalidInput) as caught:
        wallets.add(db, name, "testnet", keys.descriptor(2, 3))

    assert code_of(caught) == "bad_wallet_name"
    assert wallets.list_all(db) == []


@pytest.mark.parametrize("name", ["x" * 64, "A", "Family vault 2024", "a.b_c-d", "9lives"])
def test_good_wallet_names_are_accepted(db, name):
    assert wallets.add(db, name, "testnet", keys.descriptor(2, 3)).name == name


def test_an_unknown_wallet_is_not_found(db):
    with pytest.raises(NotFound) as caught:
        wallets.get(db, "nosuch")
    assert code_of(caught) == "wallet_not_found"
    with pytest.raises(NotFound) as caught:
        wallets.remove(db, "nosuch")
    assert code_of(caught) == "wallet_not_found"


# -- importing real wallet files ---------------------------------------------------------

# file -> (network to run on, --name to pass or None, stored name, m, n)
VECTOR_IMPORTS = {
    "bsms-2of2-p2wsh.bsms": ("bitcoin", "bsms vault", "bsms vault", 2, 2),
    "caravan-2of2-p2wsh-testnet.json": ("testnet", None, "P2WSH-T", 2, 2),
    "caravan-2of2-p2wsh-testnet.coldcard.txt": ("testnet", None, "p2wsh-t", 2, 2),
    "coldcard-multisig-2of4-p2wsh-testnet.txt": ("testnet", None, "CC-2-of-4", 2, 4),
    "coldcard-multisig-2of4-p2wsh-testnet.descriptor.txt": ("testnet", "cc descriptor", "cc descriptor", 2, 4),
    "sparrow-passport-multisig-3of3-p2wsh.txt": ("bitcoin", None, "Jade File Test", 3, 3),
    "specter-desktop-multisig-1of2-testnet.json": ("testnet", None, "MyTestMultisig", 1, 2),
}


def read_vector(exports: Path, name: str) -> str:
    return (exports / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("filename", sorted(VECTOR_IMPORTS))
def test_each_real_wallet_file_imports_on_its_network(db, exports, filename):
    network, name, stored_name, m, n = VECTOR_IMPORTS[filename]

    wallet = wallets.import_text(db, read_vector(exports, filename), network, name)

    assert wallet.name == stored_name
    assert wallet.network == network
    assert (wallet.descriptor.threshold, wallet.descriptor.n) == (m, n)
    assert wallet.descriptor.script_type == "wsh"
    assert wallets.get(db, stored_name).descriptor.policy_id == wallet.descriptor.policy_id


def test_the_bsms_file_gives_its_recorded_first_address(db, exports):
    text = read_vector(exports, "bsms-2of2-p2wsh.bsms")
    recorded = text.strip().splitlines()[-1]

    wallet = wallets.import_text(db, text, "bitcoin", "bsms vault")

    assert wallet.descriptor.address(RECEIVE, 0, "bitcoin") == recorded


def test_caravan_key_names_and_specter_devices_become_cosigner_labels(db, exports):
    caravan = wallets.import_text(db, read_vector(exports, "caravan-2of2-p2wsh-testnet.json"), "testnet")
    specter = wallets.import_text(db, read_vector(exports, "specter-desktop-multisig-1of2-testnet.json"), "testnet")

    assert [c.label for c in wallets.get(db, caravan.name).descriptor.cosigners] == ["osw", "three"]
    assert [(c.label, c.device) for c in wallets.get(db, specter.name).descriptor.cosigners] == [
        ("MyColdcard", "coldcard"), ("MyTestTrezor", "trezor")]


def test_a_descriptor_file_without_a_name_needs_one(db, exports):
    text = read_vector(exports, "coldcard-multisig-2of4-p2wsh-testnet.descriptor.txt")

    with pytest.raises(InvalidInput) as caught:
        wallets.import_text(db, text, "testnet")

    assert code_of(caught) == "bad_wallet_name"


@pytest.mark.parametrize("first, second", [
    ("coldcard-multisig-2of4-p2wsh-testnet.txt", "coldcard-multisig-2of4-p2wsh-testnet.descriptor.txt"),
    ("caravan-2of2-p2wsh-testnet.json", "caravan-2of2-p2wsh-testnet.coldcard.txt"),
])
def test_the_same_wallet_from_two_tools_is_a_duplicate(db, exports, first, second):
    wallets.import_text(db, read_vector(exports, first), "testnet", "one")

    with pytest.raises(Conflict) as caught:
        wallets.import_text(db, read_vector(exports, second), "testnet", "two")

    assert code_of(caught) == "wallet_duplicate"


def test_a_caravan_testnet_file_is_refused_on_a_bitcoin_huddle(db, exports):
    text = read_vector(exports, "caravan-2of2-p2wsh-testnet.json")
    assert json.loads(text)["network"] == "testnet"

    with pytest.raises(InvalidInput) as caught:
        wallets.import_text(db, text, "bitcoin")

    assert code_of(caught) == "wrong_network"
    assert wallets.list_all(db) == []


def test_a_mainnet_file_is_refused_on_a_testnet_huddle(db, exports):
    with pytest.raises(InvalidInput) as caught:
        wallets.import_text(db, read_vector(exports, "sparrow-passport-multisig-3of3-p2wsh.txt"), "testnet")

    assert code_of(caught) == "wrong_network"


def test_a_testnet_file_imports_on_regtest(db, exports):
    wallet = wallets.import_text(db, read_vector(exports, "caravan-2of2-p2wsh-testnet.json"), "regtest")

    assert wallet.network == "regtest"
    assert wallet.descriptor.address(RECEIVE, 0, "regtest").startswith("bcrt1")


# -- exporting ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["descriptor", "coldcard", "bsms", "caravan", "specter"])
def test_an_exported_wallet_reimports_as_the_same_wallet(tmp_path, db, exports, fmt):
    original = wallets.import_text(db, read_vector(exports, "caravan-2of2-p2wsh-testnet.json"), "testnet")

    text = wallets.export_text(original, fmt)
    fresh = open_database(tmp_path / "fresh.sqlite3")
    again = wallets.import_text(fresh, text, "testnet", "re-imported")
    fresh.close()

    assert again.descriptor.policy_id == original.descriptor.policy_id
    assert again.descriptor.to_string() == original.descriptor.to_string()
    assert [c.fingerprint for c in again.descriptor.cosigners] == ["f57ec65d", "00000003"]


# -- issue 9: birth heights and supplied origins ----------------------------------------

CORPUS = EXPORTS / "corpus"


def test_a_birth_height_in_the_file_is_stored_and_written_back_to_specter(db):
    desc = keys.descriptor(2, 3, is_test=False)
    text = json.dumps({"label": "born", "blockheight": 812345, "descriptor": desc.to_string(branch=RECEIVE)})

    wallets.import_text(db, text, "bitcoin")

    stored = wallets.get(db, "born")
    assert stored.birth_height == 812345
    assert json.loads(wallets.export_text(stored, "specter"))["blockheight"] == 812345


def test_a_file_without_a_birth_height_stores_none(db):
    wallets.import_text(db, keys.descriptor(2, 3).to_string(), "testnet", "unborn")

    assert wallets.get(db, "unborn").birth_height is None


def test_a_caravan_text_key_imports_with_its_origin_supplied(db):
    text = (CORPUS / "built-caravan-download-text-key.json").read_text(encoding="utf-8")

    with pytest.raises(InvalidInput) as caught:
        wallets.import_text(db, text, "bitcoin")
    assert code_of(caught) == "missing_origin"

    wallet = wallets.import_text(db, text, "bitcoin", origins=("f57ec65d:m/48'/0'/100'/2'",))
    assert [c.fingerprint for c in wallets.get(db, wallet.name).descriptor.cosigners][1] == "f57ec65d"


def test_a_wallet_stored_before_birth_heights_existed_reads_back_without_one(tmp_path):
    import sqlite3

    from sqlite_utils import Database

    from coordinator.store.migrations import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    before = Database(sqlite3.connect(str(path), isolation_level=None))
    MIGRATIONS.apply(before, stop_before="m004_wallet_birth_height")  # the schema before issue 9
    row = wallets.Wallet(0, "old", "testnet", keys.descriptor(2, 3), "2026-01-01T00:00:00+00:00").to_row()
    del row["birth_height"]
    before["wallets"].insert(row)
    before.conn.close()

    db = open_database(path)

    assert wallets.get(db, "old").birth_height is None
    assert wallets.get(db, "old").descriptor.to_string() == keys.descriptor(2, 3).to_string()
