"""Fee limits of a spend: the least and most a group may pay.

Rates are integer satoshis per 1000 vB (``1500`` is 1.5 sat/vB), fees are
integer satoshis. The defaults and why they were chosen are in
docs/spending.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidInput
from .coinselect import BNB_MAX_TRIES
from .sizes import fee_for


@dataclass(frozen=True)
class FeePolicy:
    """Limits on fees, and the rates coin selection weighs the future with."""

    # 1 sat/vB: Core's minrelaytxfee for years (v29.1+ nodes accept 0.1, but
    # most of the network still drops anything under 1).
    min_fee_rate: int = 1_000
    # 1000 sat/vB: far above any fee market so far; catches a rate typed in
    # the wrong unit (sat/kvB for sat/vB, BTC/kvB for sat/vB).
    max_fee_rate: int = 1_000_000
    # 0.01 BTC. Core's -maxtxfee is 0.1 BTC, a last resort for a hot wallet;
    # for a group's savings a larger fee should be a deliberate choice. The
    # signer checks use the same cap (docs/signer-checks.md).
    max_fee: int = 1_000_000
    # The fee may not exceed the amount paid out: paying miners more than
    # the recipients is almost always a mistake. None turns the check off.
    # A self-transfer (every output verified change) pays nobody, so only
    # the absolute and rate caps apply to it (docs/signer-checks.md).
    max_fee_percent: int | None = 100
    # 10 sat/vB: Core's -consolidatefeerate; spending a coin now instead of
    # at this rate later counts as waste (or as saving, when cheaper now).
    long_term_fee_rate: int = 10_000
    # 3 sat/vB (Core's dust relay fee, its floor for the discard rate): what
    # spending a change output later is priced at.
    discard_fee_rate: int = 3_000
    # Try branch-and-bound for a change-free spend first.
    avoid_change: bool = True
    bnb_max_tries: int = BNB_MAX_TRIES

    def __post_init__(self) -> None:
        for name in ("min_fee_rate", "max_fee_rate", "max_fee", "long_term_fee_rate", "discard_fee_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InvalidInput("bad_config", f"fee policy {name} must be a positive whole number")
        if self.min_fee_rate > self.max_fee_rate:
            raise InvalidInput("bad_config", "fee policy min_fee_rate is above max_fee_rate")

    def check_rate(self, rate: object) -> None:
        """The asked-for rate is a whole number within the limits."""
        if not isinstance(rate, int) or isinstance(rate, bool):
            raise InvalidInput("bad_spend", "the fee rate must be a whole number of sat per 1000 vB")
        if rate < self.min_fee_rate:
            raise InvalidInput("fee_rate_too_low", f"{sat_per_vb(rate)} sat/vB is below the minimum of "
                               f"{sat_per_vb(self.min_fee_rate)} sat/vB; nodes would not relay it")
        if rate > self.max_fee_rate:
            raise InvalidInput("fee_rate_too_high", f"{sat_per_vb(rate)} sat/vB is above the cap of "
                               f"{sat_per_vb(self.max_fee_rate)} sat/vB")

    def check_fee(self, fee: int, vsize: int, amount: int) -> None:
        """The final fee is within the caps (``amount``: paid to others; 0 for a self-transfer)."""
        if fee > self.max_fee:
            raise InvalidInput("fee_too_high", f"the fee of {fee} sat is above the cap of {self.max_fee} sat",
                               fee=fee, cap=self.max_fee)
        if self.max_fee_percent is not None and amount > 0 and fee * 100 > amount * self.max_fee_percent:
            raise InvalidInput("fee_too_high", f"the fee of {fee} sat is more than {self.max_fee_percent}% "
                               f"of the {amount} sat paid", fee=fee, amount=amount)
        # Change given up to the fee can push the real rate past the cap.
        if fee > fee_for(vsize, self.max_fee_rate):
            raise InvalidInput("fee_rate_too_high", f"the fee of {fee} sat for {vsize} vB is above the cap "
                               f"of {sat_per_vb(self.max_fee_rate)} sat/vB", fee=fee, vsize=vsize)


DEFAULT_POLICY = FeePolicy()


def sat_per_vb(rate: int) -> str:
    """A rate in sat/kvB as people read it: 1500 -> "1.5"."""
    whole, frac = divmod(rate, 1000)
    return f"{whole}.{frac:03d}".rstrip("0").rstrip(".")
