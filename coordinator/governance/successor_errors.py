"""Error codes and events of successor wallets, sweeps and retired wallets
(issue 15; docs/errors-successor.md, docs/events.md). proposals.py raises
``wallet_retired`` too, so the codes stand alone here."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import register
from .events import WalletEvent

CODES: dict[str, str] = {
    "wallet_retired": "the wallet is retired (it has a successor): it is watch-only, and the only spends it "
                      "takes are sweeps of its coins into the successor",
    "bad_successor_slots": "a successor's slots are a list of {\"keep\": old position} or {\"owner\": user id}",
    "successor_slot_owner_gone": "a kept slot's owner is no longer a member of the wallet; replace that slot",
    "successor_draft_open": "the wallet already has a successor draft in progress; finish or cancel it first",
    "not_retired": "only a retired wallet (one whose successor is active) is swept",
    "nothing_to_sweep": "the retired wallet has no coin to sweep that no proposal already spends",
}
register(CODES)


@dataclass(frozen=True)
class SuccessorStarted(WalletEvent):
    """The wallet's admin started a successor setup draft (``draft``): its slot owners fill and confirm it."""

    draft: int
    user: int


@dataclass(frozen=True)
class WalletRetired(WalletEvent):
    """The successor (``successor``, a wallet id) is active: this wallet is retired and watch-only."""

    successor: int


@dataclass(frozen=True)
class SweepProposed(WalletEvent):
    """A sweep proposal (``proposal``, ``batch`` of ``batches``) moves coins into the successor."""

    proposal: int
    batch: int
    batches: int


@dataclass(frozen=True)
class LateCoinFlagged(WalletEvent):
    """A coin arrived at the retired wallet after it retired (``outpoint``, ``value`` in sat)."""

    outpoint: str
    value: int


EVENTS = (SuccessorStarted, WalletRetired, SweepProposed, LateCoinFlagged)
