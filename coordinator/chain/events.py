"""What a wallet sync found out, as typed events the server can push to clients.

Every event names its wallet and serialises with ``to_dict()`` to
``{"type": "tx_seen", ...fields}``, the shape the socket layer and the audit log
record. A sync returns its events in a fixed order: chain reorganisation
first, then per-transaction events (by txid), then conflicts, then the balance.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Callable, Union


@dataclass(frozen=True)
class _Event:
    wallet_id: int

    @property
    def type(self) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()

    def to_dict(self) -> dict:
        return {"type": self.type, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class TxSeen(_Event):
    """A transaction touching the wallet, seen for the first time."""

    txid: str
    net: int  # satoshis into (+) or out of (-) the wallet
    fee: int
    height: int | None  # None while in the mempool


@dataclass(frozen=True)
class TxConfirmed(_Event):
    """A known mempool transaction got into a block."""

    txid: str
    height: int


@dataclass(frozen=True)
class TxReorged(_Event):
    """A confirmed transaction left its block: back in the mempool (``height``
    None) or confirmed in another block of the new best chain."""

    txid: str
    old_height: int
    height: int | None


@dataclass(frozen=True)
class TxDropped(_Event):
    """A known transaction is gone from both chain and mempool (replaced,
    evicted, or reorganised out and double-spent)."""

    txid: str
    old_height: int | None


@dataclass(frozen=True)
class ChainReorged(_Event):
    """The block at the last synced tip is no longer in the best chain."""

    height: int
    old_hash: str
    new_hash: str | None  # None when the chain is now shorter than that


@dataclass(frozen=True)
class ConflictDetected(_Event):
    """A coin locked by a pending proposal was spent by a transaction the
    proposal did not expect. Reported on every sync while the lock stands."""

    outpoint: str  # "txid:vout"
    spending_txid: str
    expected_txid: str | None
    height: int | None


@dataclass(frozen=True)
class BalanceChanged(_Event):
    confirmed: int
    unconfirmed: int
    immature: int
    old_confirmed: int
    old_unconfirmed: int
    old_immature: int


ChainEvent = Union[TxSeen, TxConfirmed, TxReorged, TxDropped, ChainReorged, ConflictDetected,
                   BalanceChanged]
Listener = Callable[[ChainEvent], None]
