"""Amounts and fee rates as people type them, to the integers the core uses.

``100000`` and ``100000sat`` are satoshis; ``0.001btc`` is bitcoin, parsed
exactly (never through a float). Fee rates are sat/vB with up to three
decimals, to integer sat per 1000 vB.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ..errors import InvalidInput
from .model import MAX_MONEY

_AMOUNT = re.compile(r"^\s*(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>sats?|btc)?\s*$", re.IGNORECASE)


def parse_amount(text: str) -> int:
    """'100000', '100000sat' or '0.001btc' -> satoshis."""
    match = _AMOUNT.match(text)
    if not match:
        raise InvalidInput("bad_spend", f"amount {text!r} is not a number of sat or btc (e.g. 0.001btc)")
    number, unit = Decimal(match["number"]), (match["unit"] or "sat").lower()
    sats = number * 100_000_000 if unit == "btc" else number
    if sats != sats.to_integral_value():
        raise InvalidInput("bad_spend", f"amount {text!r} is not a whole number of satoshis")
    if not 0 < sats <= MAX_MONEY:
        raise InvalidInput("amount_too_large" if sats > MAX_MONEY else "bad_spend",
                           f"amount {text!r} must be above 0 and at most 21 million BTC")
    return int(sats)


def parse_fee_rate(text: str) -> int:
    """'2.5' (sat/vB) -> 2500 (sat per 1000 vB)."""
    try:
        rate = Decimal(text.strip()) * 1000
    except InvalidOperation:
        raise InvalidInput("bad_spend", f"fee rate {text!r} is not a number of sat/vB") from None
    if not rate.is_finite() or rate != rate.to_integral_value() or rate <= 0:
        raise InvalidInput("bad_spend", f"fee rate {text!r} must be positive, with at most 3 decimals")
    return int(rate)
