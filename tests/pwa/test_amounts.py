"""The PWA's amount converter (pwa/js/amounts.js), run in the browser: BTC text
becomes integer satoshis exactly, for every amount up to 21 million BTC, with
no floating point on the way; sats and fee rates likewise."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

MAX_SATS = 21_000_000 * 100_000_000
# Many calls per round trip: each answer is the result as text, or "error:<code>".
CALL = """(calls) => calls.map(([name, args]) => {
  try { return String(window.amounts[name](...args)); } catch (err) { return 'error:' + err.code; }
})"""


@pytest.fixture(scope="module")
def js(module_page):
    """A call into amounts.js: js(function_name, *args) -> its result as text."""
    page = module_page("amounts")

    def call(name: str, *args):
        return page.evaluate(CALL, [[name, list(args)]])[0]

    call.many = lambda calls: page.evaluate(CALL, [[name, list(args)] for name, *args in calls])
    return call


@settings(max_examples=30)  # of up to 50 amounts each
@given(st.lists(st.integers(min_value=1, max_value=MAX_SATS), min_size=1, max_size=50))
def test_btc_text_round_trips_to_the_same_satoshis(js, amounts):
    texts = js.many([("satsToBtc", str(sats)) for sats in amounts])

    assert [Decimal(btc) * 100_000_000 for btc in texts] == amounts
    assert js.many([("toSats", btc, "btc") for btc in texts]) == [str(sats) for sats in amounts]
    assert js.many([("toSats", str(sats), "sats") for sats in amounts]) == [str(sats) for sats in amounts]


def _expected(text: str) -> str:
    sats = int(Decimal(text) * 100_000_000)
    return str(sats) if 0 < sats <= MAX_SATS else "error:bad_amount"


@settings(max_examples=30)
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=21_000_000), st.text("0123456789", max_size=8)),
                min_size=1, max_size=50))
def test_any_btc_text_with_up_to_eight_decimals_converts_exactly(js, parts):
    texts = [f"{whole}.{fraction}" if fraction else str(whole) for whole, fraction in parts]

    assert js.many([("toSats", text, "btc") for text in texts]) == [_expected(text) for text in texts]


@pytest.mark.parametrize("text,unit", [("0.000000001", "btc"), ("1,5", "btc"), ("1.5", "sats"), ("", "btc"),
                                       ("abc", "sats"), ("0", "sats"), ("21000000.00000001", "btc"), ("-1", "btc"),
                                       ("1e3", "sats"), (".", "btc")])
def test_text_that_is_not_an_exact_amount_is_refused(js, text, unit):
    assert js("toSats", text, unit) == "error:bad_amount"


@pytest.mark.parametrize("text,kvb", [("1", "1000"), ("2.5", "2500"), ("12.345", "12345"), (" 3 ", "3000")])
def test_fee_rates_in_sat_per_vbyte_become_exact_sat_per_kvb(js, text, kvb):
    assert js("feeRateToSatPerKvb", text) == kvb


@pytest.mark.parametrize("text", ["0.5", "1.2345", "fast"])
def test_a_fee_rate_under_one_or_too_precise_is_refused(js, text):
    assert js("feeRateToSatPerKvb", text) == "error:bad_amount"
