"""The agent's own copy of each wallet: private files, never silently replaced."""

from __future__ import annotations

import stat

import pytest

from coordinator.errors import HuddleError
from coordinator.hw.pinned import PinStore, agent_dir
from coordinator.wallet.descriptor import CHANGE, RECEIVE

from .. import keys
from ..psbt.test_checks import swapped


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_directory_is_private_and_each_wallet_file_too(store, pinned):
    files = list(store.wallets_dir.glob("*.json"))
    assert mode(store.root) == mode(store.wallets_dir) == 0o700
    assert len(files) == 1 and mode(files[0]) == 0o600


def test_a_pinned_wallet_reads_back_whole(store, pinned):
    again = PinStore(store.root).get("family")
    assert again.descriptor.to_string() == keys.descriptor(2, 3).to_string()
    assert (again.network, again.last_used) == ("testnet", {"receive": None, "change": None})


def test_pinning_the_same_wallet_again_changes_nothing(store, pinned):
    wallet, new = store.pin("family", "testnet", keys.descriptor(2, 3))
    assert not new and wallet.pinned_at == pinned.pinned_at


@pytest.mark.parametrize("other", ["swapped cosigner", "another network"])
def test_another_wallet_under_a_pinned_name_is_refused(store, pinned, other):
    desc, network = keys.descriptor(2, 3), "testnet"
    if other == "swapped cosigner":
        desc = swapped(desc)
    else:
        network = "signet"
    with pytest.raises(HuddleError) as err:
        store.pin("family", network, desc)
    assert err.value.code == "wallet_pinned_differently"
    assert store.get("family").descriptor.to_string() == keys.descriptor(2, 3).to_string()


def test_a_wallet_for_another_network_cannot_be_pinned(store):
    with pytest.raises(HuddleError) as err:
        store.pin("family", "bitcoin", keys.descriptor(2, 3))
    assert err.value.code == "wrong_network"


def test_an_unknown_wallet_says_which_are_pinned(store, pinned):
    with pytest.raises(HuddleError) as err:
        store.get("savings")
    assert err.value.code == "wallet_not_pinned" and "family" in err.value.message


def test_a_loosened_file_is_made_private_again_when_read(store, pinned):
    path = next(store.wallets_dir.glob("*.json"))
    path.chmod(0o644)
    store.get("family")
    assert mode(path) == 0o600


@pytest.mark.parametrize("content", ["{", "[]", '{"version": 1}', '{"version": 2}'])
def test_a_broken_wallet_file_is_a_clear_error(store, pinned, content):
    next(store.wallets_dir.glob("*.json")).write_text(content)
    with pytest.raises(HuddleError) as err:
        store.get("family")
    assert err.value.code == "agent_dir_error"


def test_a_wallet_file_whose_descriptor_was_edited_is_refused(store, pinned):
    path = next(store.wallets_dir.glob("*.json"))
    path.write_text(path.read_text().replace(keys.xpub(2), keys.xpub(5)))
    with pytest.raises(HuddleError) as err:
        store.get("family")
    assert err.value.code == "agent_dir_error"


def test_seen_indexes_only_ever_move_the_windows_on(store, pinned):
    first = store.saw_used(pinned, [(RECEIVE, 4), (CHANGE, 2)])
    second = store.saw_used(first, [(RECEIVE, 1)])
    assert second.last_used == {"receive": 4, "change": 2}
    assert (second.index_limit(RECEIVE), second.max_change_index()) == (24, 22)


def test_the_agent_directory_comes_from_the_environment(tmp_path):
    assert agent_dir({"HUDDLE_AGENT_DIR": str(tmp_path)}) == tmp_path
    assert agent_dir({}).name == "huddle-agent"
