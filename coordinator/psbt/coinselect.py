"""Choosing which coins to spend, on effective values (Bitcoin Core's
``wallet/coinselection.cpp``; Murch, "An Evaluation of Coin Selection
Strategies", 2016).

A coin's *effective value* is what it adds once the fee to spend it is paid:
``value - fee``. Selecting on effective values makes the fee part of the
target, so no algorithm here ever has to loop "add a coin, the fee grew, add
another".

The *waste* of a selection compares it with spending the same coins later at
the long-term fee rate:

    waste = sum(fee - long_term_fee) + (cost_of_change if change else excess)

Lower is better. ``spend.py`` runs branch-and-bound (change-free), single
random draw and largest-first, and keeps the selection with the least waste,
as Core's ``ChooseSelectionResult`` does.

Everything is integer satoshis; none of this module knows about scripts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Generic, Sequence, TypeVar

T = TypeVar("T")

BNB_MAX_TRIES = 100_000  # Core's TOTAL_TRIES: bounds the search to well under a second


@dataclass(frozen=True)
class Coin(Generic[T]):
    """A spendable coin as the selector sees it; ``item`` is the caller's own."""

    item: T
    value: int
    fee: int  # to spend it at the target rate
    long_term_fee: int  # to spend it at the long-term rate

    @property
    def effective(self) -> int:
        return self.value - self.fee


def waste(coins: Sequence[Coin], change_cost: int | None, excess: int) -> int:
    """Core's GetSelectionWaste: ``change_cost`` when there is change, else ``excess``."""
    timing = sum(c.fee - c.long_term_fee for c in coins)
    return timing + (change_cost if change_cost is not None else excess)


def branch_and_bound(pool: Sequence[Coin], target: int, cost_of_change: int,
                     max_tries: int = BNB_MAX_TRIES) -> list[Coin] | None:
    """Coins whose effective values sum into ``[target, target + cost_of_change]``.

    Depth-first search over include/exclude, largest first, keeping the
    least-waste match (Core's SelectCoinsBnB). Any match needs no change: the
    excess (at most the cost of change) goes to the fee. None when no match
    is found within ``max_tries`` steps.
    """
    coins = sorted((c for c in pool if c.effective > 0), key=lambda c: c.effective, reverse=True)
    available = sum(c.effective for c in coins)
    if available < target or not coins:
        return None
    # When fees are above the long-term rate, adding inputs only adds waste,
    # so a branch already wasting more than the best can be cut.
    fee_is_high = coins[0].fee > coins[0].long_term_fee
    state = _Search(coins, available)
    best: list[int] | None = None
    best_waste = None
    for _ in range(max_tries):
        over = state.value > target + cost_of_change
        wasteful = fee_is_high and best_waste is not None and state.waste > best_waste
        if state.value + state.available < target or over or wasteful:
            if not state.backtrack():
                break
        elif state.value >= target:
            total = state.waste + state.value - target
            if best_waste is None or total <= best_waste:
                best, best_waste = list(state.selected), total
            if not state.backtrack():
                break
        else:
            state.step()
    return None if best is None else [coins[i] for i in best]


class _Search:
    """The mutable walk of branch-and-bound: which indexes are in, and sums."""

    def __init__(self, coins: list[Coin], available: int) -> None:
        self.coins = coins
        self.available = available  # effective value not yet decided on
        self.value = 0
        self.waste = 0
        self.selected: list[int] = []
        self.index = 0  # next coin to decide on

    def step(self) -> None:
        """Decide on the next coin: include it, unless an equal coin was just
        excluded (that branch has been searched already)."""
        coin = self.coins[self.index]
        self.available -= coin.effective
        prev = self.coins[self.index - 1] if self.index else None
        skip = (prev is not None and bool(self.selected) and self.selected[-1] != self.index - 1
                and prev.effective == coin.effective and prev.fee == coin.fee)
        if not skip:
            self.selected.append(self.index)
            self.value += coin.effective
            self.waste += coin.fee - coin.long_term_fee
        self.index += 1

    def backtrack(self) -> bool:
        """Undo back to the last included coin and exclude it; False when done."""
        while self.selected and self.selected[-1] != self.index - 1:
            self.index -= 1
            self.available += self.coins[self.index].effective
        if not self.selected:
            return False
        last = self.coins[self.selected.pop()]
        self.value -= last.effective
        self.waste -= last.fee - last.long_term_fee
        return True


def single_random_draw(pool: Sequence[Coin], target: int, rng: random.Random) -> list[Coin] | None:
    """Random coins until ``target`` is reached (Core's SelectCoinsSRD).

    The caller's target includes a change output and a viable change amount,
    so SRD always makes change. Random picks keep the wallet's coin sizes
    varied instead of grinding the largest coins down.
    """
    coins = [c for c in pool if c.effective > 0]
    rng.shuffle(coins)
    return _accumulate(coins, target)


def largest_first(pool: Sequence[Coin], target: int) -> list[Coin] | None:
    """Largest coins until ``target`` is reached: fewest inputs, lowest fee now."""
    coins = sorted((c for c in pool if c.effective > 0), key=lambda c: (-c.effective, _order(c)))
    return _accumulate(coins, target)


def _order(coin: Coin) -> str:
    return str(getattr(coin.item, "outpoint", ""))  # a stable tie-break


def _accumulate(coins: list[Coin], target: int) -> list[Coin] | None:
    chosen, total = [], 0
    for coin in coins:
        chosen.append(coin)
        total += coin.effective
        if total >= target:
            return chosen
    return None
