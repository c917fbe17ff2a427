"""The human summary: exact integer amounts, one wire shape, honest sizes."""

from __future__ import annotations

import json

import pytest
from embit.finalizer import finalize_psbt
from embit.transaction import Transaction, TransactionInput

from coordinator.psbt.build import Output, assemble
from coordinator.psbt.checks import check
from coordinator.psbt.model import MAX_MONEY
from coordinator.psbt.summary import (
    Summary,
    fee_rate_sat_per_kvb,
    format_btc,
    format_rate,
    output_label,
)

from .. import keys
from . import chain

PAY = bytes.fromhex("0014" + "22" * 20)


def summary_of(desc, network, outputs=None, amounts=(100_000, 50_000)):
    utxos = chain.fund(desc, list(amounts))
    outputs = outputs or [Output(PAY, 120_000), Output(desc.script_pubkey(1, 3).data, 20_000, 3)]
    psbt = assemble(desc, utxos, outputs, 800_000)
    return psbt, check(psbt, desc, network, max_change_index=19)


@pytest.mark.parametrize("sats,text", [
    (0, "0.00000000 BTC"), (1, "0.00000001 BTC"), (120_000, "0.00120000 BTC"),
    (100_000_000, "1.00000000 BTC"), (MAX_MONEY, "21,000,000.00000000 BTC"), (-546, "-0.00000546 BTC"),
])
def test_format_btc_is_exact(sats, text):
    assert format_btc(sats) == text


@pytest.mark.parametrize("bad", [0.1, 1e8, True, "100"])
def test_format_btc_takes_only_integer_satoshis(bad):
    with pytest.raises(TypeError):
        format_btc(bad)


def test_format_rate_shows_sat_per_vbyte():
    assert [format_rate(r) for r in (0, 1000, 12_345)] == ["0.000 sat/vB", "1.000 sat/vB", "12.345 sat/vB"]


def test_fee_rate_rounds_down_in_sat_per_kvb():
    assert fee_rate_sat_per_kvb(10_000, 294) == 34_013
    with pytest.raises(ValueError):
        fee_rate_sat_per_kvb(1, 0)


def test_summary_lists_recipients_change_and_fee():
    desc = keys.descriptor(2, 3)
    _, s = summary_of(desc, "testnet")
    assert s.recipients == ((output_label(PAY, "testnet"), 120_000),)
    assert s.change == ((desc.address(1, 3, "testnet"), 20_000, 3),)
    assert (s.fee, s.inputs_total, s.input_count, s.locktime) == (10_000, 150_000, 2, 800_000)
    assert s.spent_from_wallet == s.recipients_total + s.fee == 130_000
    assert s.fee_rate == s.fee * 1000 // s.vsize


def test_to_dict_is_json_with_integer_amounts():
    _, s = summary_of(keys.descriptor(2, 3), "testnet")
    data = json.loads(json.dumps(s.to_dict()))
    assert data["recipients"] == [{"address": s.recipients[0][0], "amount": 120_000}]
    assert data["change"] == [{"address": s.change[0][0], "amount": 20_000, "index": 3}]
    amounts = [data[k] for k in ("fee", "fee_rate", "vsize", "inputs_total", "spent_from_wallet")]
    assert all(type(v) is int for v in amounts)


def test_to_lines_render_every_output_and_the_fee():
    _, s = summary_of(keys.descriptor(2, 3), "testnet")
    text = "\n".join(s.to_lines())
    assert "Pay 0.00120000 BTC to tb1q" in text and "(change #3)" in text
    assert "Fee 0.00010000 BTC" in text and "sat/vB" in text


def test_mainnet_nested_segwit_addresses():
    desc = keys.descriptor(2, 3, is_test=False, script_type="sh-wsh")
    _, s = summary_of(desc, "bitcoin")
    assert s.change[0][0].startswith("3") and s.recipients[0][0].startswith("bc1q")


def test_outputs_without_an_address_are_described():
    assert output_label(bytes.fromhex("6a0568656c6c6f"), "bitcoin") == "OP_RETURN 0568656c6c6f"
    assert output_label(bytes.fromhex("51"), "bitcoin") == "script 51"


def test_op_return_output_is_shown_as_a_recipient():
    desc = keys.descriptor(2, 3)
    memo = bytes.fromhex("6a0568656c6c6f")
    _, s = summary_of(desc, "testnet", [Output(PAY, 140_000), Output(memo, 0)])
    assert s.recipients[1] == ("OP_RETURN 0568656c6c6f", 0)


@pytest.mark.parametrize("script_type", ["wsh", "sh-wsh"])
@pytest.mark.parametrize("m,n", [(2, 3), (3, 5)])
def test_vsize_estimate_bounds_the_signed_transaction(script_type, m, n):
    desc = keys.descriptor(m, n, script_type=script_type)
    psbt, s = summary_of(desc, "testnet", amounts=(100_000, 50_000, 30_000))
    tx = finalize_psbt(chain.sign(psbt, range(m), script_type=script_type))
    stripped = Transaction(tx.version, [TransactionInput(i.txid, i.vout, i.script_sig, i.sequence)
                                        for i in tx.vin], tx.vout, tx.locktime)
    real = -(-(len(stripped.serialize()) * 3 + len(tx.serialize())) // 4)
    # never under (the fee rate is not overstated), at most 1 vB per signature over
    assert real <= s.vsize <= real + m * 3


def test_summary_is_immutable():
    _, s = summary_of(keys.descriptor(2, 3), "testnet")
    with pytest.raises(AttributeError):
        s.fee = 0  # type: ignore[misc]
    assert isinstance(s, Summary)
