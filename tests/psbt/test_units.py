"""Amounts and fee rates as typed by people, parsed exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coordinator.errors import InvalidInput
from coordinator.psbt.model import MAX_MONEY
from coordinator.psbt.summary import format_btc
from coordinator.psbt.units import parse_amount, parse_fee_rate


@given(st.integers(1, MAX_MONEY))
def test_a_displayed_btc_amount_parses_back_to_the_same_satoshis(sats):
    assert parse_amount(format_btc(sats).replace(",", "").replace(" BTC", "btc")) == sats
    assert parse_amount(str(sats)) == parse_amount(f"{sats}sat") == sats


@pytest.mark.parametrize("text,sats", [("0.1btc", 10_000_000), ("0.00000001BTC", 1), ("546", 546),
                                       ("21000000btc", MAX_MONEY)])
def test_amounts_in_btc_and_sat(text, sats):
    assert parse_amount(text) == sats


@pytest.mark.parametrize("text,code", [("0", "bad_spend"), ("1.5", "bad_spend"), ("0.000000001btc", "bad_spend"),
                                       ("-5", "bad_spend"), ("1e3", "bad_spend"), ("5 euro", "bad_spend"),
                                       ("21000000.00000001btc", "amount_too_large")])
def test_bad_amounts_are_refused_with_a_code(text, code):
    with pytest.raises(InvalidInput) as e:
        parse_amount(text)
    assert e.value.code == code


@pytest.mark.parametrize("text,rate", [("1", 1000), ("2.5", 2500), ("0.123", 123), ("1000", 1_000_000)])
def test_fee_rates_become_sat_per_kvb(text, rate):
    assert parse_fee_rate(text) == rate


@pytest.mark.parametrize("text", ["0", "-1", "1.2345", "fast", "nan", "inf"])
def test_bad_fee_rates_are_refused(text):
    with pytest.raises(InvalidInput) as e:
        parse_fee_rate(text)
    assert e.value.code == "bad_spend"
