"""Building spends: fees that hold after real signing, coin choice, change,
caps and limits, locktime and RBF, shuffling, and complete PSBT fields."""

from __future__ import annotations

import random

import pytest
from embit.ec import PrivateKey
from embit.networks import NETWORKS
from embit.script import p2pkh, p2sh, p2tr, p2wpkh
from hypothesis import given, settings
from hypothesis import strategies as st

from coordinator.errors import HuddleError
from coordinator.psbt import sizes
from coordinator.psbt.fees import FeePolicy
from coordinator.psbt.model import MAX_MONEY, Recipient
from coordinator.psbt.recipients import dust_limit, script_for
from coordinator.psbt.spend import anti_fee_sniping_locktime, plan_spend

from .. import keys
from . import chain
from .test_sizes import WALLET_IDS, WALLETS, finalized

TIP = 850_000
TEST = NETWORKS["test"]
_KEY = PrivateKey(b"\x11" * 32).get_public_key()
# One testnet address of each kind, with Core's dust limit for it.
ADDRESSES = {
    "p2wsh": (keys.descriptor(2, 3, True, "wsh", first=10).address(0, 0, "testnet"), 330),
    "p2tr": (p2tr(_KEY).address(TEST), 330),
    "p2wpkh": (p2wpkh(_KEY).address(TEST), 294),
    "p2sh": (p2sh(p2wpkh(_KEY)).address(TEST), 540),
    "p2pkh": (p2pkh(_KEY).address(TEST), 546),
}
PAYEE = ADDRESSES["p2wsh"][0]


def build(desc, utxos, recipients, rate=1_000, seed=1, **kw):
    recipients = [Recipient(*r) if isinstance(r, tuple) else r for r in recipients]
    return plan_spend(desc, "testnet", utxos, recipients, rate, 5, TIP, rng=random.Random(seed), **kw)


def error_code(fn, *args, **kw) -> str:
    with pytest.raises(HuddleError) as info:
        fn(*args, **kw)
    return info.value.code


def assert_rate_after_signing(spend, m, rate):
    """Real fee rate within 1% of the target, never below (BDK finalizes).

    ``excess`` (change given up to the fee on purpose) is left out: it is
    not an estimate, and the spend reports it.
    """
    actual = finalized(spend.psbt, m).vsize()
    fee = spend.fee - spend.excess
    assert fee * 1000 >= rate * actual
    assert fee * 1000 * 100 <= rate * actual * 101
    return actual


@pytest.fixture(params=WALLETS, ids=WALLET_IDS)
def wallet(request):
    script_type, m, n = request.param
    return keys.descriptor(m, n, True, script_type), m


# -- fee rates that survive signing ---------------------------------------------


@pytest.mark.parametrize("inputs", [1, 2, 10, 50])
@pytest.mark.parametrize("rate", [1_000, 1_500, 27_000])
def test_the_signed_fee_rate_lands_within_one_percent_of_the_target(wallet, inputs, rate):
    desc, m = wallet
    utxos = chain.fund(desc, [200_000 + i for i in range(inputs)], salt=b"rate")
    spend = build(desc, utxos, [(PAYEE, 100_000 * inputs)], rate, coins=[u.outpoint for u in utxos])
    assert len(spend.inputs) == inputs and spend.change is not None and spend.excess == 0
    assert_rate_after_signing(spend, m, rate)


def test_send_max_signs_within_one_percent_and_leaves_nothing(wallet):
    desc, m = wallet
    utxos = chain.fund(desc, [120_000, 80_000, 33_333], salt=b"max")
    spend = build(desc, utxos, [(PAYEE, 0)], 3_000, send_max=True)
    assert spend.change is None and len(spend.outputs) == 1
    assert sorted(spend.inputs, key=str) == sorted(utxos, key=str)
    assert spend.outputs[0].value + spend.fee == sum(u.value for u in utxos)
    assert_rate_after_signing(spend, m, 3_000)


def test_send_max_with_coin_control_spends_only_the_chosen_coins(wallet):
    desc, _ = wallet
    utxos = chain.fund(desc, [120_000, 80_000, 33_333], salt=b"max-cc")
    spend = build(desc, utxos, [(PAYEE, 0)], coins=[utxos[0].outpoint, utxos[2].outpoint], send_max=True)
    assert {u.outpoint for u in spend.inputs} == {utxos[0].outpoint, utxos[2].outpoint}
    assert spend.outputs[0].value == 153_333 - spend.fee


def test_send_max_leaves_coins_that_cost_more_than_they_hold():
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [50_000, 100], salt=b"uneconomic")
    spend = build(desc, utxos, [(PAYEE, 0)], send_max=True)
    assert [u.value for u in spend.inputs] == [50_000]


# -- coin selection -------------------------------------------------------------


def test_branch_and_bound_pays_an_exact_match_without_change():
    desc = keys.descriptor(2, 3)
    values = [100_000, 60_000, 37_000, 12_345]
    utxos = chain.fund(desc, values, salt=b"bnb")
    rate = 20_000  # above the long-term rate, so fewer inputs win
    weight = sizes.tx_weight([sizes.multisig_input_weight(2, 3, "wsh")], [sizes.output_weight(bytes(34))])
    amount = 60_000 - sizes.fee_for(sizes.vsize(weight), rate) - 50  # 2.5 vB: rounding room
    spend = build(desc, utxos, [(PAYEE, amount)], rate)
    assert spend.algorithm == "bnb" and spend.change is None
    assert [u.value for u in spend.inputs] == [60_000] and spend.excess == 50
    assert_rate_after_signing(spend, 2, rate)


def test_without_an_exact_match_the_fallback_makes_change_on_the_change_branch(wallet):
    desc, m = wallet
    utxos = chain.fund(desc, [100_000, 60_000, 37_000], salt=b"fallback")
    spend = build(desc, utxos, [(PAYEE, 70_000)], 2_000)
    assert spend.algorithm in ("srd", "largest_first")
    index, amount = spend.change
    change = [o for o in spend.outputs if o.change_index is not None]
    assert change[0].script_pubkey == desc.script_pubkey(1, index).data and change[0].value == amount
    assert sum(u.value for u in spend.inputs) == 70_000 + amount + spend.fee
    assert_rate_after_signing(spend, m, 2_000)


def test_avoid_change_off_skips_branch_and_bound():
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [100_000, 60_000], salt=b"nobnb")
    spend = build(desc, utxos, [(PAYEE, 59_000)], 20_000, policy=FeePolicy(avoid_change=False))
    assert spend.algorithm != "bnb"


def test_coin_control_spends_exactly_the_chosen_coins(wallet):
    desc, _ = wallet
    utxos = chain.fund(desc, [500_000, 40_000, 30_000, 20_000], salt=b"cc")
    chosen = [utxos[1].outpoint, utxos[3].outpoint]
    spend = build(desc, utxos, [(PAYEE, 45_000)], coins=chosen)
    assert sorted(u.outpoint for u in spend.inputs) == sorted(chosen)
    again = build(desc, utxos, [(PAYEE, 45_000)], coins=[utxos[1], utxos[3]])  # Utxos do too
    assert again.psbt.serialize() == spend.psbt.serialize()


def test_several_recipients_each_get_their_amount():
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [1_000_000], salt=b"many")
    payees = [(ADDRESSES[k][0], 10_000 + i) for i, k in enumerate(ADDRESSES)]
    spend = build(desc, utxos, payees)
    paid = {(o.script_pubkey, o.value) for o in spend.outputs if o.change_index is None}
    assert paid == {(_spk(a), v) for a, v in payees}


def _spk(address: str) -> bytes:
    return script_for(address, "testnet")


def test_change_below_the_dust_limit_goes_to_the_fee():
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [100_000], salt=b"dust-change")
    in_w, out_w = sizes.multisig_input_weight(2, 3, "wsh"), sizes.output_weight(bytes(34))
    fee_with_change = sizes.fee_for(sizes.vsize(sizes.tx_weight([in_w], [out_w, out_w])), 1_000)
    kept = build(desc, utxos, [(PAYEE, 100_000 - fee_with_change - 330)], coins=[utxos[0].outpoint])
    assert kept.change[1] == 330
    dropped = build(desc, utxos, [(PAYEE, 100_000 - fee_with_change - 329)], coins=[utxos[0].outpoint])
    assert dropped.change is None and len(dropped.outputs) == 1
    assert dropped.fee == 100_000 - dropped.amount
    assert dropped.excess == dropped.fee - sizes.fee_for(dropped.vsize, 1_000) > 0


# -- caps and limits, each with its own code ------------------------------------


def test_a_fee_above_the_absolute_cap_is_refused():
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [1_000_000], salt=b"cap")
    assert error_code(build, desc, utxos, [(PAYEE, 100_000)], 10_000, policy=FeePolicy(max_fee=1_000)) \
        == "fee_too_high"


def test_a_fee_larger_than_the_payment_is_refused():
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [1_000_000], salt=b"share")
    assert error_code(build, desc, utxos, [(PAYEE, 1_000)], 10_000) == "fee_too_high"
    assert build(desc, utxos, [(PAYEE, 1_000)], 10_000, policy=FeePolicy(max_fee_percent=None)).fee > 1_000


def test_a_fee_rate_above_the_cap_is_refused():
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [1_000_000], salt=b"rate-cap")
    assert error_code(build, desc, utxos, [(PAYEE, 100_000)], 1_000_001) == "fee_rate_too_high"


def test_change_dropped_to_the_fee_cannot_push_the_rate_past_the_cap():
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [100_000], salt=b"rate-cap-2")
    policy = FeePolicy(max_fee_rate=2_000)
    assert error_code(build, desc, utxos, [(PAYEE, 99_400)], 2_000, coins=[utxos[0].outpoint],
                      policy=policy) == "fee_rate_too_high"


@pytest.mark.parametrize("rate", [999, 0, -5])
def test_a_fee_rate_below_one_sat_per_vbyte_is_refused(rate):
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [100_000], salt=b"low")
    assert error_code(build, desc, utxos, [(PAYEE, 10_000)], rate) == "fee_rate_too_low"


@pytest.mark.parametrize("kind", sorted(ADDRESSES))
def test_outputs_below_cores_dust_limit_are_refused(kind):
    address, limit = ADDRESSES[kind]
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [100_000], salt=b"dust")
    assert dust_limit(_spk(address)) == limit
    assert error_code(build, desc, utxos, [(address, limit - 1)], policy=FeePolicy(max_fee_percent=None)) \
        == "output_dust"
    assert build(desc, utxos, [(address, limit)], policy=FeePolicy(max_fee_percent=None)).amount == limit


def test_send_max_that_leaves_dust_is_refused():
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [450], salt=b"max-dust")
    assert error_code(build, desc, utxos, [(PAYEE, 0)], coins=[utxos[0].outpoint], send_max=True,
                      policy=FeePolicy(max_fee_percent=None)) == "output_dust"


@pytest.mark.parametrize("amounts", [[MAX_MONEY + 1], [MAX_MONEY, 1_000]])
def test_amounts_above_max_money_are_refused(amounts):
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [100_000], salt=b"max-money")
    payees = [(a, v) for a, v in zip([PAYEE, ADDRESSES["p2tr"][0]], amounts)]
    assert error_code(build, desc, utxos, payees) == "amount_too_large"


def test_coins_above_max_money_are_refused():
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [MAX_MONEY, 1_000], salt=b"max-money-coins")
    assert error_code(build, desc, utxos, [(PAYEE, 10_000)]) == "amount_too_large"


def test_paying_more_than_the_coins_hold_is_insufficient_funds():
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [50_000, 20_000], salt=b"poor")
    assert error_code(build, desc, utxos, [(PAYEE, 70_000)]) == "insufficient_funds"
    assert error_code(build, desc, utxos, [(PAYEE, 30_000)], coins=[utxos[1].outpoint]) \
        == "insufficient_funds"
    assert error_code(build, desc, [], [(PAYEE, 30_000)]) == "insufficient_funds"


@pytest.mark.parametrize("address", [
    "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",  # mainnet P2WSH
    "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",  # mainnet P2PKH
    "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",  # mainnet P2SH
    "bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw",  # regtest
])
def test_an_address_of_another_network_is_wrong_network(address):
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [100_000], salt=b"net")
    assert error_code(build, desc, utxos, [(address, 10_000)]) == "wrong_network"


def test_a_test_wallet_cannot_spend_on_bitcoin():
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [100_000], salt=b"net2")
    assert error_code(plan_spend, desc, "bitcoin", utxos, [Recipient(PAYEE, 10_000)], 1_000, 0, TIP) \
        == "wrong_network"


@pytest.mark.parametrize(("recipients", "kw"), [
    ([("not an address", 10_000)], {}),
    ([("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsy", 10_000)], {}),  # bad checksum
    ([("TB1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KXpjzsx", 10_000)], {}),  # mixed case
    ([("mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfo", 10_000)], {}),  # bad base58 checksum
    ([(PAYEE, 0)], {}),
    ([(PAYEE, -1)], {}),
    ([(PAYEE, 1.5e4)], {}),
    ([], {}),
    ([(PAYEE, 10_000), (PAYEE, 20_000)], {}),
    ([(PAYEE, 10_000), (ADDRESSES["p2tr"][0], 0)], {"send_max": True}),
    ([(PAYEE, 10_000)], {"coins": ["00" * 32 + ":0"]}),
    ([(PAYEE, 10_000)], {"coins": []}),
], ids=["garbage", "bech32-checksum", "mixed-case", "base58-checksum", "zero", "negative", "float",
        "no-recipients", "same-address-twice", "send-max-two", "unknown-coin", "no-coins"])
def test_a_request_that_makes_no_sense_is_bad_spend(recipients, kw):
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [100_000], salt=b"bad")
    assert error_code(build, desc, utxos, recipients, **kw) == "bad_spend"


def test_a_fractional_fee_rate_is_bad_spend():
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [100_000], salt=b"bad-rate")
    assert error_code(build, desc, utxos, [(PAYEE, 10_000)], 1500.0) == "bad_spend"


def test_a_coin_that_does_not_pay_the_wallet_is_refused():
    desc = keys.descriptor(2, 3)
    other = chain.fund(keys.descriptor(2, 3, first=4), [100_000], salt=b"foreign")
    assert error_code(build, desc, other, [(PAYEE, 10_000)]) == "foreign_input"


# -- locktime, RBF, shuffling, PSBT fields --------------------------------------


def test_locktime_is_the_tip_and_every_input_signals_rbf():
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [40_000] * 4, salt=b"lock")
    locktimes = []
    for seed in range(60):
        spend = build(desc, utxos, [(PAYEE, 100_000)], seed=seed)
        assert spend.psbt.tx.locktime == spend.locktime
        assert all(vin.sequence == 0xFFFFFFFD for vin in spend.psbt.tx.vin)
        locktimes.append(spend.locktime)
    assert all(TIP - 99 <= t <= TIP for t in locktimes)
    assert locktimes.count(TIP) >= 45  # about one in ten goes back, as in Core


def test_locktime_jitter_is_one_in_ten_and_deterministic():
    jittered = [anti_fee_sniping_locktime(TIP, random.Random(s)) for s in range(2_000)]
    assert 150 <= sum(t != TIP for t in jittered) <= 260
    assert jittered == [anti_fee_sniping_locktime(TIP, random.Random(s)) for s in range(2_000)]
    assert anti_fee_sniping_locktime(5, random.Random(19)) >= 0


def test_outputs_and_inputs_are_shuffled_deterministically_by_the_rng():
    desc = keys.descriptor(2, 3)
    utxos = chain.fund(desc, [40_000] * 5, salt=b"shuffle")
    coins = [u.outpoint for u in utxos]
    change_at, first_input = set(), set()
    for seed in range(20):
        spend = build(desc, utxos, [(PAYEE, 100_000)], coins=coins, seed=seed)
        assert spend.psbt.serialize() == build(desc, utxos, [(PAYEE, 100_000)], coins=coins,
                                               seed=seed).psbt.serialize()
        change_at.add(next(i for i, o in enumerate(spend.outputs) if o.change_index is not None))
        first_input.add(spend.inputs[0].outpoint)
    assert change_at == {0, 1} and len(first_input) > 2


def test_every_input_and_change_output_carries_what_signers_need(wallet):
    desc, _ = wallet
    utxos = chain.fund(desc, [70_000, 50_000], branch=1, first_index=3, salt=b"fields")
    spend = build(desc, utxos, [(PAYEE, 100_000)], coins=[u.outpoint for u in utxos])
    psbt = spend.psbt
    assert len(psbt.xpubs) == desc.n
    for scope, utxo in zip(psbt.inputs, spend.inputs):
        assert scope.non_witness_utxo is not None and scope.witness_utxo is not None
        assert scope.witness_script is not None and len(scope.bip32_derivations) == desc.n
        assert (scope.redeem_script is not None) == (desc.script_type == "sh-wsh")
        assert {tuple(d.derivation[-2:]) for d in scope.bip32_derivations.values()} == {(1, utxo.index)}
    for scope, output in zip(psbt.outputs, spend.outputs):
        if output.change_index is None:
            assert not scope.bip32_derivations
            continue
        assert scope.witness_script is not None and len(scope.bip32_derivations) == desc.n
        assert {tuple(d.derivation[-2:]) for d in scope.bip32_derivations.values()} == {(1, 5)}


# -- properties -----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.integers(1_000, 3_000_000), min_size=1, max_size=12),
       amounts=st.lists(st.integers(330, 4_000_000), min_size=1, max_size=2),
       rate=st.integers(1_000, 60_000), wallet_at=st.sampled_from(range(len(WALLETS))),
       seed=st.integers(0, 2**32), mode=st.sampled_from(["auto", "coin_control", "send_max"]))
def test_a_successful_build_balances_pays_the_rate_and_makes_no_dust(values, amounts, rate, wallet_at,
                                                                     seed, mode):
    script_type, m, n = WALLETS[wallet_at]
    desc = keys.descriptor(m, n, True, script_type)
    utxos = chain.fund(desc, values, salt=seed.to_bytes(5, "big"))
    payees = list(zip([PAYEE, ADDRESSES["p2tr"][0]], amounts))
    kw = {"auto": {}, "coin_control": {"coins": utxos[: len(utxos) // 2 + 1]}, "send_max": {"send_max": True}}
    payees = payees[:1] if mode == "send_max" else payees
    try:
        spend = build(desc, utxos, payees, rate, seed=seed, **kw[mode])
    except HuddleError as e:
        assert e.code in ("insufficient_funds", "fee_too_high", "output_dust" if mode == "send_max" else "-")
        return
    total_in = sum(u.value for u in spend.inputs)
    assert all(isinstance(v, int) for v in (total_in, spend.fee, *(o.value for o in spend.outputs)))
    assert total_in == sum(o.value for o in spend.outputs) + spend.fee
    assert spend.fee * 1000 >= rate * spend.vsize
    assert spend.fee == sizes.fee_for(spend.vsize, rate) + spend.excess
    assert all(o.value >= dust_limit(o.script_pubkey) for o in spend.outputs)
    if mode != "send_max":
        assert sum(amounts) == spend.amount
    if mode == "coin_control":
        assert {u.outpoint for u in spend.inputs} == {u.outpoint for u in utxos[: len(utxos) // 2 + 1]}
