"""The roster pinned beside the descriptor: kept with its safety code, checked when read,
changed only by a roster change, and the wallet found by its policy id."""

from __future__ import annotations

import dataclasses
import json

import pytest

from coordinator.errors import HuddleError
from coordinator.governance import agent_keys
from coordinator.governance.roster import PinnedRoster
from coordinator.hw.pinned import PinStore

from .agent_server import Group


def code_of(call) -> str:
    with pytest.raises(HuddleError) as err:
        call()
    return err.value.code


@pytest.mark.parametrize("script_type", ["wsh", "sh-wsh"])
def test_the_roster_is_pinned_with_its_safety_code_and_read_back(tmp_path, script_type):
    group = Group(script_type=script_type)
    store = PinStore(tmp_path / "agent")
    wallet, new = store.pin_roster("family", group.roster, None)

    again = PinStore(tmp_path / "agent").get("family")
    assert new and again.roster == group.roster and again.wallet_id is None
    assert again.safety_code == agent_keys.safety_code(group.roster) and len(again.safety_code.split()) == 6
    assert again.descriptor.to_string() == group.descriptor.to_string()
    assert store.pin_roster("family", group.roster, 4) == (store.get("family"), True)
    assert store.get("family").wallet_id == 4
    assert store.by_policy(group.descriptor.policy_id).name == "family"


def test_a_roster_edited_on_disk_is_refused_when_read(tmp_path):
    group = Group()
    store = PinStore(tmp_path / "agent")
    store.pin_roster("family", group.roster, 1)
    path = next((tmp_path / "agent" / "wallets").glob("*.json"))
    data = json.loads(path.read_text())
    data["roster"]["policy"]["threshold"] = 0  # fewer approvals, without a roster change
    path.write_text(json.dumps(data))

    assert code_of(lambda: store.get("family")) == "agent_dir_error"


def test_another_roster_under_a_pinned_name_is_refused(tmp_path):
    group = Group()
    store = PinStore(tmp_path / "agent")
    store.pin_roster("family", group.roster, 1)
    lowered = dataclasses.replace(PinnedRoster.from_dict(group.roster), threshold=0).to_dict()

    assert code_of(lambda: store.pin_roster("family", lowered, 1)) == "wallet_pinned_differently"
    assert code_of(lambda: store.pin_roster("family", Group(script_type="sh-wsh").roster, 1)) \
        == "wallet_pinned_differently"
    assert store.get("family").roster == group.roster


def test_a_roster_change_keeps_the_same_wallet(tmp_path):
    group = Group()
    store = PinStore(tmp_path / "agent")
    wallet, _ = store.pin_roster("family", group.roster, 1)
    raised = dataclasses.replace(PinnedRoster.from_dict(group.roster), threshold=3).to_dict()

    assert store.change_roster(wallet, raised).pinned_roster().threshold == 3
    assert code_of(lambda: store.change_roster(wallet, Group(script_type="sh-wsh").roster)) == "descriptor_mismatch"


def test_a_policy_never_pinned_is_not_pinned(tmp_path):
    assert code_of(lambda: PinStore(tmp_path / "agent").by_policy("deadbeef")) == "not_pinned"
