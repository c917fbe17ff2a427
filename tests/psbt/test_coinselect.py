"""Coin selection on effective values: branch-and-bound, SRD, largest-first."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from coordinator.psbt.coinselect import (
    Coin,
    branch_and_bound,
    largest_first,
    single_random_draw,
    waste,
)

FEE, LONG_TERM = 105, 1_050  # a 2-of-3 P2WSH input at 1 and at 10 sat/vB


def coins(*effective: int, fee: int = FEE, long_term: int = LONG_TERM) -> list[Coin]:
    return [Coin(i, e + fee, fee, long_term) for i, e in enumerate(effective)]


def effective_sum(selection) -> int:
    return sum(c.effective for c in selection)


def test_branch_and_bound_finds_an_exact_match():
    pool = coins(50_000, 30_000, 20_000, 7_000, 1_000)
    found = branch_and_bound(pool, 57_000, cost_of_change=0)
    assert effective_sum(found) == 57_000


def test_branch_and_bound_accepts_excess_up_to_the_cost_of_change():
    pool = coins(50_000, 30_000)
    assert branch_and_bound(pool, 49_900, cost_of_change=99) is None
    assert effective_sum(branch_and_bound(pool, 49_900, cost_of_change=100)) == 50_000


def test_branch_and_bound_fails_when_no_subset_lands_in_the_window():
    assert branch_and_bound(coins(50_000, 30_000, 20_000), 45_000, cost_of_change=500) is None


def test_branch_and_bound_fails_when_the_coins_cannot_reach_the_target():
    assert branch_and_bound(coins(1_000, 2_000), 3_001, cost_of_change=10_000) is None
    assert branch_and_bound([], 1, cost_of_change=10) is None


def test_branch_and_bound_ignores_coins_that_cost_more_than_they_hold():
    pool = coins(10_000) + [Coin("dust", 100, FEE, LONG_TERM)]
    found = branch_and_bound(pool, 10_000, cost_of_change=0)
    assert [c.item for c in found] == [0]


def test_at_low_fees_branch_and_bound_prefers_more_inputs():
    # Spending now is cheaper than later, so consolidating lowers the waste.
    pool = coins(60_000, 40_000, 20_000)
    found = branch_and_bound(pool, 60_000, cost_of_change=0)
    assert sorted(c.item for c in found) == [1, 2]


def test_at_high_fees_branch_and_bound_prefers_fewer_inputs():
    pool = coins(60_000, 40_000, 20_000, fee=2_000, long_term=1_050)
    found = branch_and_bound(pool, 60_000, cost_of_change=0)
    assert [c.item for c in found] == [0]


def test_branch_and_bound_handles_many_equal_coins():
    pool = coins(*([10_000] * 60), 5_000)
    found = branch_and_bound(pool, 205_000, cost_of_change=0)
    assert effective_sum(found) == 205_000


def test_branch_and_bound_gives_up_after_its_tries():
    pool = coins(*[random.Random(i).randrange(10_000, 1_000_000) * 2 for i in range(40)])
    # An odd target with only even coins has no exact match; the search is bounded.
    assert branch_and_bound(pool, 1_000_001, cost_of_change=0, max_tries=1_000) is None


def test_single_random_draw_reaches_the_target_and_depends_only_on_the_rng():
    pool = coins(*range(1_000, 30_000, 1_000))
    first = single_random_draw(pool, 50_000, random.Random(7))
    again = single_random_draw(pool, 50_000, random.Random(7))
    assert effective_sum(first) >= 50_000
    assert [c.item for c in first] == [c.item for c in again]
    assert single_random_draw(pool, 10**9, random.Random(7)) is None


def test_largest_first_uses_the_fewest_coins():
    found = largest_first(coins(5_000, 90_000, 20_000, 60_000), 100_000)
    assert [c.item for c in found] == [1, 3]


def test_waste_counts_change_cost_or_excess():
    pool = coins(10_000, 20_000)
    assert waste(pool, change_cost=300, excess=0) == 2 * (FEE - LONG_TERM) + 300
    assert waste(pool, change_cost=None, excess=42) == 2 * (FEE - LONG_TERM) + 42


def _brute_force(pool, target, cost_of_change):
    """Least waste over every subset in the window, or None."""
    best = None
    usable = [c for c in pool if c.effective > 0]
    for r in range(1, len(usable) + 1):
        for subset in itertools.combinations(usable, r):
            total = effective_sum(subset)
            if target <= total <= target + cost_of_change:
                w = waste(subset, None, total - target)
                best = w if best is None else min(best, w)
    return best


@settings(max_examples=150, deadline=None)
@given(values=st.lists(st.integers(1, 200_000), min_size=1, max_size=9),
       target=st.integers(1, 600_000), cost_of_change=st.integers(0, 5_000),
       fee=st.sampled_from([50, 105, 2_000]))
def test_branch_and_bound_finds_a_match_whenever_one_exists(values, target, cost_of_change, fee):
    pool = [Coin(i, v, fee, LONG_TERM) for i, v in enumerate(values)]
    found = branch_and_bound(pool, target, cost_of_change)
    best = _brute_force(pool, target, cost_of_change)
    if best is None:
        assert found is None
        return
    total = effective_sum(found)
    assert target <= total <= target + cost_of_change
    if fee > LONG_TERM:
        # Above the long-term rate every extra coin adds waste, and Core's
        # search (which stops growing a selection once it is enough) is exact.
        # Below it, a bigger selection can waste less; Core does not look.
        assert waste(found, None, total - target) == best
