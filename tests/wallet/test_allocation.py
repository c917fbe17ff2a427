"""Handing out addresses: fresh, sequential, recorded before shown, never
twice (also across processes), and never beyond the gap limit."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coordinator.errors import Conflict
from coordinator.store import open_database, wallets
from coordinator.wallet import addresses
from coordinator.wallet.addresses import GAP_LIMIT
from coordinator.wallet.descriptor import CHANGE, RECEIVE
from tests import keys

REPO_ROOT = Path(__file__).resolve().parents[2]
NETWORK = "testnet"


@pytest.fixture(params=["wsh", "sh-wsh"])
def script_type(request) -> str:
    return request.param


@pytest.fixture
def wallet(db, script_type):
    return wallets.add(db, "shared", NETWORK, keys.descriptor(2, 3, True, script_type))


def issue_n(db, wallet, n: int, branch: int = RECEIVE) -> list[addresses.Address]:
    return [addresses.issue(db, wallet, branch) for _ in range(n)]


def stored_rows(db, wallet) -> int:
    return db.execute("SELECT COUNT(*) FROM addresses WHERE wallet_id = ?", [wallet.id]).fetchone()[0]


# -- fresh and sequential ---------------------------------------------------------


def test_issued_addresses_are_sequential_and_match_derivation(db, wallet):
    issued = issue_n(db, wallet, 5)

    derived = addresses.derive(wallet.descriptor, NETWORK, RECEIVE, 0, 5)
    assert [a.index for a in issued] == [0, 1, 2, 3, 4]
    assert [a.address for a in issued] == [d.address for d in derived]
    assert [a.script_pubkey for a in issued] == [d.script_pubkey for d in derived]
    assert [a.address for a in issued] == [wallet.descriptor.address(RECEIVE, i, NETWORK) for i in range(5)]
    assert all(a.issued and not a.used and a.branch == RECEIVE for a in issued)
    assert len({a.address for a in issued}) == 5


def test_wsh_and_sh_wsh_wallets_give_their_own_address_kinds(db, wallet, script_type):
    [first] = issue_n(db, wallet, 1)

    assert first.address.startswith("tb1q" if script_type == "wsh" else "2")


def test_derive_does_not_record_anything(db, wallet):
    addresses.derive(wallet.descriptor, NETWORK, RECEIVE, 0, 30)

    assert stored_rows(db, wallet) == 0
    assert addresses.issue(db, wallet).index == 0


def test_allocation_survives_reopening_the_database(db_path, db, wallet):
    issue_n(db, wallet, 2)
    db.close()

    reopened = open_database(db_path)
    nxt = addresses.issue(reopened, wallets.get(reopened, "shared"))

    assert nxt.index == 2
    reopened.close()


def test_two_wallets_allocate_independently(db, wallet):
    other = wallets.add(db, "other", NETWORK, keys.descriptor(2, 2, True, "wsh", first=7))
    issue_n(db, wallet, 3)

    first_other = addresses.issue(db, other)

    assert first_other.index == 0
    assert first_other.address == other.descriptor.address(RECEIVE, 0, NETWORK)


# -- gap limit ------------------------------------------------------------------


def test_twenty_unused_addresses_can_be_handed_out_and_the_21st_is_refused(db, wallet):
    issued = issue_n(db, wallet, GAP_LIMIT)
    assert [a.index for a in issued] == list(range(20))

    with pytest.raises(Conflict) as caught:
        addresses.issue(db, wallet)

    assert caught.value.code == "gap_limit_reached"
    assert stored_rows(db, wallet) == 20  # the refused attempt recorded nothing


def test_a_used_address_lets_allocation_continue_up_to_twenty_past_it(db, wallet):
    issue_n(db, wallet, GAP_LIMIT)
    k = 7

    addresses.mark_used(db, wallet, RECEIVE, k)
    more = issue_n(db, wallet, k + 1)  # indexes 20 .. k+20

    assert [a.index for a in more] == list(range(20, k + 21))
    with pytest.raises(Conflict) as caught:
        addresses.issue(db, wallet)
    assert caught.value.code == "gap_limit_reached"


def test_coins_on_a_never_issued_address_move_allocation_past_it(db, wallet):
    addresses.mark_used(db, wallet, RECEIVE, 4)

    assert addresses.issue(db, wallet).index == 5


def test_the_change_branch_is_independent_of_the_receive_branch(db, wallet):
    issue_n(db, wallet, GAP_LIMIT, RECEIVE)

    change = addresses.issue(db, wallet, CHANGE)

    assert (change.branch, change.index) == (CHANGE, 0)
    assert change.address == addresses.derive(wallet.descriptor, NETWORK, CHANGE, 0, 1)[0].address
    assert change.address != wallet.descriptor.address(RECEIVE, 0, NETWORK)
    with pytest.raises(Conflict):
        addresses.issue(db, wallet, RECEIVE)
    assert [a.index for a in issue_n(db, wallet, GAP_LIMIT - 1, CHANGE)] == list(range(1, 20))
    with pytest.raises(Conflict) as caught:
        addresses.issue(db, wallet, CHANGE)
    assert caught.value.code == "gap_limit_reached"


# -- what the store knows ---------------------------------------------------------


def test_listing_reports_which_addresses_were_issued_and_used(db, wallet):
    issue_n(db, wallet, 3)
    addresses.mark_used(db, wallet, RECEIVE, 1)
    addresses.mark_used(db, wallet, RECEIVE, 4)  # paid without being handed out

    listed = addresses.listing(db, wallet, RECEIVE, 0, 6)

    assert [a.index for a in listed] == [0, 1, 2, 3, 4, 5]
    assert [a.issued for a in listed] == [True, True, True, False, False, False]
    assert [a.used for a in listed] == [False, True, False, False, True, False]
    assert [a.address for a in listed] == [a.address for a in addresses.derive(wallet.descriptor, NETWORK, RECEIVE, 0, 6)]


def test_listing_a_window_shows_only_that_window(db, wallet):
    issue_n(db, wallet, 4)

    listed = addresses.listing(db, wallet, RECEIVE, 2, 3)

    assert [(a.index, a.issued) for a in listed] == [(2, True), (3, True), (4, False)]


def test_listing_the_change_branch_ignores_receive_records(db, wallet):
    issue_n(db, wallet, 2, RECEIVE)

    listed = addresses.listing(db, wallet, CHANGE, 0, 2)

    assert [a.issued for a in listed] == [False, False]
    assert all(a.branch == CHANGE for a in listed)


def test_issued_unused_lists_handed_out_addresses_not_yet_paid(db, wallet):
    issued = issue_n(db, wallet, 4)
    addresses.mark_used(db, wallet, RECEIVE, 2)
    addresses.issue(db, wallet, CHANGE)

    waiting = addresses.issued_unused(db, wallet)

    assert [a.index for a in waiting] == [0, 1, 3]
    assert [a.address for a in waiting] == [issued[i].address for i in (0, 1, 3)]
    assert all(a.issued and not a.used for a in waiting)
    assert [a.index for a in addresses.issued_unused(db, wallet, CHANGE)] == [0]


def test_an_address_dict_names_its_branch(db, wallet):
    change = addresses.issue(db, wallet, CHANGE)

    assert change.to_dict() == {"branch": "change", "index": 0, "address": change.address,
                                "issued": True, "used": False}


# -- several processes at once -------------------------------------------------------

_ISSUER = """
import json, sys, time
from coordinator.errors import Conflict
from coordinator.store import open_database, wallets
from coordinator.wallet import addresses
path, go, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
db = open_database(path)
wallet = wallets.get(db, "shared")
while time.time() < go:
    time.sleep(0.001)
out = []
for _ in range(n):
    try:
        a = addresses.issue(db, wallet)
        out.append([a.index, a.address])
    except Conflict as err:
        out.append(err.code)
print(json.dumps(out))
"""


def issue_from_processes(db_path: Path, processes: int, per_process: int) -> list:
    go = repr(time.time() + 0.8)
    workers = [
        subprocess.Popen([sys.executable, "-c", _ISSUER, str(db_path), go, str(per_process)],
                         cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=30)
        assert worker.returncode == 0, f"an allocating process failed:\n{err}"
        results.extend(json.loads(out))
    return results


@pytest.mark.parametrize("script_type", ["wsh"])
def test_processes_allocating_at_once_get_distinct_sequential_addresses(db_path, db, wallet):
    results = issue_from_processes(db_path, processes=4, per_process=5)

    assert "gap_limit_reached" not in results
    indexes = sorted(index for index, _ in results)
    assert indexes == list(range(20))
    derived = {a.index: a.address for a in addresses.derive(wallet.descriptor, NETWORK, RECEIVE, 0, 20)}
    assert {index: address for index, address in results} == derived
    assert len({address for _, address in results}) == 20
    with pytest.raises(Conflict) as caught:
        addresses.issue(db, wallet)
    assert caught.value.code == "gap_limit_reached"


@pytest.mark.parametrize("script_type", ["wsh"])
def test_processes_asking_for_more_than_the_gap_limit_get_exactly_twenty(db_path, db, wallet):
    results = issue_from_processes(db_path, processes=5, per_process=5)

    granted = [r for r in results if r != "gap_limit_reached"]
    assert sorted(index for index, _ in granted) == list(range(20))
    assert results.count("gap_limit_reached") == 5
    assert stored_rows(db, wallet) == 20
