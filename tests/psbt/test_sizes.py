"""Size estimates hold against real signed, finalized transactions.

Finalizing uses bdkpython, an implementation independent of ours.
"""

from __future__ import annotations

import bdkpython
import pytest
from embit.transaction import Transaction

from coordinator.psbt import sizes
from coordinator.psbt.build import Output, assemble
from coordinator.wallet.descriptor import CHANGE

from .. import keys
from . import chain

WALLETS = [("wsh", 2, 3), ("wsh", 3, 5), ("sh-wsh", 2, 3), ("sh-wsh", 3, 5)]
WALLET_IDS = [f"{t}-{m}of{n}" for t, m, n in WALLETS]


def finalized(psbt, m: int) -> bdkpython.Transaction:
    """Sign with the first ``m`` test seeds, finalize with BDK, extract."""
    signed = chain.sign(psbt, list(range(m)))
    result = bdkpython.Psbt(signed.to_string()).finalize()
    assert result.could_finalize, result.errors
    return result.psbt.extract_tx()


def short_signatures(bdk_tx: bdkpython.Transaction) -> int:
    """How many bytes the signatures fall short of the 72 the estimate assumes."""
    tx = Transaction.parse(bdk_tx.serialize())
    return sum(sizes.MAX_SIG_WITH_SIGHASH - len(item)
               for vin in tx.vin for item in vin.witness.items[1:-1])


@pytest.mark.parametrize(("script_type", "m", "n"), WALLETS, ids=WALLET_IDS)
@pytest.mark.parametrize("inputs", [1, 2, 10, 50])
def test_estimate_is_an_upper_bound_within_one_percent_of_the_signed_size(script_type, m, n, inputs):
    desc = keys.descriptor(m, n, True, script_type)
    utxos = chain.fund(desc, [50_000 + i for i in range(inputs)], salt=b"sizes")
    outputs = [Output(bytes.fromhex("0020" + "ab" * 32), 30_000),
               Output(desc.script_pubkey(CHANGE, 7).data, 1_000, change_index=7)]
    tx = finalized(assemble(desc, utxos, outputs, 0), m)
    estimate = sizes.tx_weight([sizes.multisig_input_weight(m, n, script_type)] * inputs,
                               [sizes.output_weight(o.script_pubkey) for o in outputs])
    actual = tx.weight()
    assert estimate - actual == short_signatures(tx)  # exact but for signature lengths
    assert sizes.vsize(actual) <= sizes.vsize(estimate) <= sizes.vsize(actual) * 101 // 100


def test_input_weights_match_the_well_known_sizes():
    # 2-of-3 P2WSH spends are 104.5 vB with 72-byte signatures; nested adds
    # the 35-byte scriptSig at 4 WU a byte.
    assert sizes.multisig_input_weight(2, 3, "wsh") == 418
    assert sizes.multisig_input_weight(2, 3, "sh-wsh") == 418 + 35 * 4
    assert sizes.multisig_input_weight(3, 5, "wsh") == 559


def test_a_fifteen_key_witness_script_takes_a_three_byte_length():
    # 15 keys make a 513-byte script: its length needs a 0xfd varint.
    assert sizes.multisig_script_len(15) == 513
    small = sizes.multisig_input_weight(11, 15, "wsh")
    assert small == 41 * 4 + 1 + 1 + 11 * 73 + 3 + 513


def test_vsize_and_fees_round_up():
    assert sizes.vsize(401) == 101
    assert sizes.vsize(400) == 100
    assert sizes.fee_for(101, 1_500) == 152  # 151.5 -> 152: never under the rate
    assert sizes.fee_for(100, 1_000) == 100


def test_the_input_count_varint_grows_past_252_inputs():
    one = sizes.multisig_input_weight(2, 3, "wsh")
    assert sizes.tx_weight([one] * 253, []) - sizes.tx_weight([one] * 252, []) == one + 2 * 4
