"""The signer's checks refuse every tampered PSBT, each for its own reason.

Every adversarial case starts from a real PSBT made by ``build.assemble``
(the ``base`` fixture), proves that the untouched PSBT passes, changes
exactly one thing, and expects exactly one error code.
"""

from __future__ import annotations

from collections import OrderedDict

import pytest
from embit.bip32 import HDKey
from embit.ec import PublicKey
from embit.networks import NETWORKS
from embit.psbt import PSBT, DerivationPath
from embit.script import Script, p2wsh
from embit.transaction import TransactionOutput
from hypothesis import given, settings
from hypothesis import strategies as st

from coordinator.errors import HuddleError
from coordinator.psbt.build import Output, assemble
from coordinator.psbt.checks import change_index_limit, check, dust_limit
from coordinator.psbt.fees import FeePolicy
from coordinator.psbt.model import MAX_MONEY
from coordinator.wallet.descriptor import MultisigDescriptor

from .. import keys
from . import chain

PAY = bytes.fromhex("0014" + "22" * 20)  # a P2WPKH recipient
MAX_CHANGE = 19


def make(desc, amounts=(5_000_000, 3_000_000), pay=7_000_000, change=990_000, change_index=0, salt=b""):
    """A real PSBT: pay ``pay`` sat, ``change`` back to change/``change_index``."""
    utxos = chain.fund(desc, list(amounts), salt=salt)
    outputs = [Output(PAY, pay)]
    if change:
        outputs.append(Output(desc.script_pubkey(1, change_index).data, change, change_index))
    return PSBT.parse(assemble(desc, utxos, outputs, 800_000).serialize())


def network_of(desc) -> str:
    return "testnet" if desc.is_test else "bitcoin"


def run(psbt, desc, network=None, **kw):
    kw.setdefault("max_change_index", MAX_CHANGE)
    return check(psbt, desc, network or network_of(desc), **kw)


def refused(psbt, desc, network=None, **kw) -> str:
    with pytest.raises(HuddleError) as err:
        run(psbt, desc, network, **kw)
    return err.value.code


def swapped(desc, seed=5):
    """The wallet with its last cosigner replaced by an attacker's key."""
    evil = keys.cosigner(seed, desc.is_test, desc.script_type)
    return MultisigDescriptor(desc.script_type, desc.threshold, (*desc.cosigners[:-1], evil))


def claim(scope, desc, branch, index, script=True):
    """Write scripts and derivations for desc at branch/index, like build does."""
    ws = desc.witness_script(branch, index)
    if script:
        scope.script_pubkey = desc.script_pubkey(branch, index)
    scope.witness_script = ws
    scope.redeem_script = p2wsh(ws) if desc.script_type == "sh-wsh" else None
    scope.bip32_derivations = OrderedDict(
        (PublicKey.parse(c.child_pubkey(branch, index)),
         DerivationPath(c.origin.fingerprint, [*c.origin.path, branch, index]))
        for c in desc.cosigners
    )


def retag_paths(derivations, step, value):
    for der in derivations.values():
        der.derivation[step] = value


def other_coin(d) -> int:
    return 0x80000000 + (0 if d.is_test else 1)


def other_net(d) -> str:
    return "main" if d.is_test else "test"


def with_version(psbt, net):
    items = list(psbt.xpubs.items())
    psbt.xpubs = OrderedDict()
    for key, der in items:
        key = HDKey.parse(key.serialize())
        key.version = NETWORKS[net]["xpub"]
        psbt.xpubs[key] = der


@pytest.fixture(scope="module", params=[("wsh", True), ("sh-wsh", True), ("wsh", False)],
                ids=["wsh-testnet", "sh-wsh-testnet", "wsh-mainnet"])
def desc(request):
    script_type, is_test = request.param
    return keys.descriptor(2, 3, is_test, script_type)


@pytest.fixture(scope="module")
def base(desc):
    return make(desc).serialize()


# -- the corpus: (code, what is tampered) ------------------------------------------


def set_wu(i, value_delta=0, script=None):
    def tamper(p, d):
        wu = p.inputs[i].witness_utxo
        p.inputs[i].witness_utxo = TransactionOutput(wu.value + value_delta, script or wu.script_pubkey)
    return tamper


def other_prev_tx(p, d):
    p.inputs[0].non_witness_utxo = p.inputs[1].non_witness_utxo


def set_attr(where, i, name, value):
    def tamper(p, d):
        setattr(getattr(p, where)[i], name, value)
    return tamper


def foreign_witness_script(p, d):
    p.inputs[0].witness_script = swapped(d).witness_script(0, 0)


def input_claims_other_index(p, d):
    claim(p.inputs[0], d, 0, 5, script=False)


def change_to_swapped_cosigner(p, d):
    evil = swapped(d)
    claim(p.outputs[1], evil, 1, 0)


def change_script_swapped_only(p, d):
    p.outputs[1].script_pubkey = swapped(d).script_pubkey(1, 0)


def change_claims_other_index(p, d):
    claim(p.outputs[1], d, 1, 3, script=False)


def change_with_foreign_path(p, d):
    retag_paths(p.outputs[1].bip32_derivations, 2, 0x80000000 + 7)  # another account


def change_on_receive_branch(p, d):
    claim(p.outputs[1], d, 0, 0)


def change_at(index):
    def tamper(p, d):
        claim(p.outputs[1], d, 1, index)
    return tamper


def pay_less(sats):
    def tamper(p, d):
        p.outputs[0].value -= sats
    return tamper


def set_value_keep_fee(i, value):
    """Output i pays ``value``; the difference goes to the other output, so the fee stays put."""
    def tamper(p, d):
        other = p.outputs[1 - i]
        other.value += p.outputs[i].value - value
        p.outputs[i].value = value
    return tamper


def remove_xpub(p, d):
    p.xpubs.popitem()


def add_xpub(p, d):
    extra = keys.cosigner(5, d.is_test, d.script_type)
    p.xpubs[HDKey.from_string(extra.xpub)] = DerivationPath(extra.origin.fingerprint, list(extra.origin.path))


def swap_xpub(p, d):
    remove_xpub(p, d)
    add_xpub(p, d)


def xpub_origin(fingerprint=None, step=None):
    def tamper(p, d):
        der = next(iter(p.xpubs.values()))
        if fingerprint:
            der.fingerprint = fingerprint
        if step:
            der.derivation[2] = step
    return tamper


def slip132_xpub(p, d):
    net = "test" if d.is_test else "main"
    with_version(p, net)
    key = next(iter(p.xpubs))
    der = p.xpubs.pop(key)
    key.version = NETWORKS[net]["Zpub"]
    p.xpubs[key] = der


CORPUS = [
    ("utxo_mismatch", "witness_utxo +1 sat", set_wu(0, +1)),
    ("utxo_mismatch", "witness_utxo -1 sat", set_wu(0, -1)),
    ("utxo_mismatch", "witness_utxo of input 1 -1 sat", set_wu(1, -1)),
    ("utxo_mismatch", "segwit fee attack: witness_utxo understates", set_wu(1, -2_000_000)),
    ("utxo_mismatch", "witness_utxo script of another wallet address", lambda p, d: set_wu(0, script=d.script_pubkey(0, 7))(p, d)),
    ("utxo_mismatch", "non_witness_utxo is another tx", other_prev_tx),
    ("missing_utxo", "non_witness_utxo removed", set_attr("inputs", 0, "non_witness_utxo", None)),
    ("missing_utxo", "witness_utxo removed", set_attr("inputs", 1, "witness_utxo", None)),
    ("foreign_input", "witness_script of a swapped wallet", foreign_witness_script),
    ("foreign_input", "derivations claim another index", input_claims_other_index),
    ("foreign_input", "derivations stripped", set_attr("inputs", 0, "bip32_derivations", OrderedDict())),
    ("foreign_input", "witness_script stripped", set_attr("inputs", 0, "witness_script", None)),
    ("change_foreign", "change to a swapped cosigner", change_to_swapped_cosigner),
    ("change_foreign", "change script swapped, derivations ours", change_script_swapped_only),
    ("change_foreign", "change derivations claim another index", change_claims_other_index),
    ("change_foreign", "change derivations with our fingerprint, other account", change_with_foreign_path),
    ("change_foreign", "change witness_script stripped", set_attr("outputs", 1, "witness_script", None)),
    ("change_wrong_branch", "change on the receive branch", change_on_receive_branch),
    ("change_beyond_gap", "change index one past the limit", change_at(MAX_CHANGE + 1)),
    ("change_beyond_gap", "change index 2^31-1", change_at(2**31 - 1)),
    ("fee_too_high", "recipient paid 1.5M sat less", pay_less(1_500_000)),
    ("fee_rate_too_high", "recipient paid 400k sat less", pay_less(400_000)),
    ("output_dust", "recipient below P2WPKH dust", set_value_keep_fee(0, 293)),
    ("output_dust", "change below P2WSH/P2SH dust", set_value_keep_fee(1, 329)),
    ("output_dust", "recipient paid 0 sat", set_value_keep_fee(0, 0)),
    ("amount_too_large", "output above MAX_MONEY", set_attr("outputs", 0, "value", MAX_MONEY + 1)),
    ("wrong_network", "global xpubs with the other network's version", lambda p, d: with_version(p, other_net(d))),
    ("wrong_network", "input paths with the other coin type", lambda p, d: retag_paths(p.inputs[0].bip32_derivations, 1, other_coin(d))),
    ("wrong_network", "change paths with the other coin type", lambda p, d: retag_paths(p.outputs[1].bip32_derivations, 1, other_coin(d))),
    ("bad_sighash_type", "SIGHASH_DEFAULT (0) is taproot only", set_attr("inputs", 0, "sighash_type", 0)),
    ("bad_sighash_type", "SIGHASH_NONE", set_attr("inputs", 0, "sighash_type", 2)),
    ("bad_sighash_type", "SIGHASH_SINGLE", set_attr("inputs", 1, "sighash_type", 3)),
    ("bad_sighash_type", "ALL|ANYONECANPAY", set_attr("inputs", 0, "sighash_type", 0x81)),
    ("bad_sighash_type", "NONE|ANYONECANPAY", set_attr("inputs", 0, "sighash_type", 0x82)),
    ("bad_sighash_type", "SINGLE|ANYONECANPAY", set_attr("inputs", 0, "sighash_type", 0x83)),
    ("bad_sighash_type", "ALL|FORKID (BCH)", set_attr("inputs", 0, "sighash_type", 0x41)),
    ("xpub_mismatch", "one global xpub missing", remove_xpub),
    ("xpub_mismatch", "an extra global xpub", add_xpub),
    ("xpub_mismatch", "a global xpub swapped", swap_xpub),
    ("xpub_mismatch", "a global xpub's fingerprint changed", xpub_origin(fingerprint=b"\xde\xad\xbe\xef")),
    ("xpub_mismatch", "a global xpub's origin path changed", xpub_origin(step=0x80000000 + 9)),
    ("xpub_mismatch", "a global xpub in SLIP-132 dress", slip132_xpub),
]


@pytest.mark.parametrize("code,what,tamper", CORPUS, ids=[f"{c}: {w}" for c, w, _ in CORPUS])
def test_tampered_psbt_is_refused_with_its_own_code(base, desc, code, what, tamper):
    run(PSBT.parse(base), desc)  # the control: untouched, it passes
    psbt = PSBT.parse(base)
    tamper(psbt, desc)
    assert refused(psbt, desc) == code


def test_corpus_covers_every_code_of_the_brief():
    wanted = {"utxo_mismatch", "missing_utxo", "foreign_input", "change_foreign", "change_wrong_branch",
              "change_beyond_gap", "fee_too_high", "fee_rate_too_high", "output_dust", "amount_too_large",
              "wrong_network", "bad_sighash_type", "xpub_mismatch"}
    assert {code for code, _, _ in CORPUS} == wanted


# -- cases that need their own real PSBT -----------------------------------------------


def test_coin_of_another_wallet_is_a_foreign_input(desc):
    other = keys.descriptor(2, 3, script_type=desc.script_type, first=3)
    mine, theirs = chain.fund(desc, [5_000_000]), chain.fund(other, [3_000_000])
    outputs = [Output(PAY, 7_000_000), Output(desc.script_pubkey(1, 0).data, 990_000, 0)]
    assert refused(assemble(desc, [*mine, *theirs], outputs, 800_000), desc) == "foreign_input"


def test_input_above_max_money_is_refused(desc):
    psbt = make(desc, amounts=(MAX_MONEY + 1,), pay=MAX_MONEY - 100_000, change=0)
    assert refused(psbt, desc) == "amount_too_large"


def test_inputs_adding_up_above_max_money_are_refused(desc):
    psbt = make(desc, amounts=(MAX_MONEY // 2 + 1, MAX_MONEY // 2 + 1), pay=MAX_MONEY, change=0)
    assert refused(psbt, desc, policy=FeePolicy(max_fee=MAX_MONEY, max_fee_percent=None)) == "amount_too_large"


def test_psbt_checked_for_the_other_network_is_wrong_network(base, desc):
    assert refused(PSBT.parse(base), desc, network="signet" if not desc.is_test else "bitcoin") == "wrong_network"


def test_change_at_the_limit_passes_and_one_past_fails(desc):
    psbt = make(desc, change_index=MAX_CHANGE + 1)
    assert run(psbt, desc, max_change_index=MAX_CHANGE + 1).change[0][2] == MAX_CHANGE + 1
    assert refused(psbt, desc, max_change_index=MAX_CHANGE) == "change_beyond_gap"


def test_change_index_limit_follows_the_gap_limit():
    from coordinator.wallet.addresses import GAP_LIMIT

    assert change_index_limit(None) == GAP_LIMIT - 1  # addresses 0..19 are what a restore scans
    assert change_index_limit(4) == 4 + GAP_LIMIT


# -- fail closed on broken or stripped PSBTs ---------------------------------------------


def test_stripped_psbt_fails_closed(base, desc):
    psbt = PSBT.parse(base)
    for scope in psbt.inputs + psbt.outputs:
        scope.clear_metadata()
    assert refused(psbt, desc) == "missing_utxo"


@pytest.mark.parametrize("data", [b"", b"psbt\xff", b"not a psbt", "cHNidP8=", "%%%"])
def test_garbage_is_malformed(desc, data):
    assert refused(data, desc) == "malformed_psbt"


def test_outputs_above_inputs_are_malformed(base, desc):
    psbt = PSBT.parse(base)
    psbt.outputs[0].value += 1_000_000
    assert refused(psbt, desc) == "malformed_psbt"


def test_same_coin_twice_is_malformed(base, desc):
    psbt = PSBT.parse(base)
    psbt.inputs.append(PSBT.parse(base).inputs[0])
    assert refused(psbt, desc) == "malformed_psbt"


# -- everything real passes --------------------------------------------------------------


@pytest.mark.parametrize("script_type", ["wsh", "sh-wsh"])
@pytest.mark.parametrize("m,n", [(2, 3), (3, 5)])
@pytest.mark.parametrize("network", ["testnet", "signet", "regtest", "bitcoin"])
def test_untampered_psbt_passes(script_type, m, n, network):
    desc = keys.descriptor(m, n, is_test=network != "bitcoin", script_type=script_type)
    summary = run(make(desc), desc, network)
    assert summary.fee == 10_000 and summary.inputs_total == 8_000_000
    assert [a for _, a in summary.recipients] == [7_000_000]
    assert summary.change == ((desc.address(1, 0, network), 990_000, 0),)


def test_sighash_all_passes(base, desc):
    psbt = PSBT.parse(base)
    psbt.inputs[0].sighash_type = 1
    run(psbt, desc)


def test_partly_signed_psbt_passes(base, desc):
    signed = chain.sign(PSBT.parse(base), [0], script_type=desc.script_type)
    assert any(scope.partial_sigs for scope in signed.inputs)
    run(signed, desc)


def test_base64_and_bytes_are_accepted(base, desc):
    assert run(base, desc) == run(PSBT.parse(base).to_string(), desc)


def test_output_exactly_at_dust_passes(base, desc):
    psbt = PSBT.parse(base)
    set_value_keep_fee(0, dust_limit(PAY))(psbt, desc)
    set_value_keep_fee(1, dust_limit(psbt.outputs[1].script_pubkey.data))(psbt, desc)
    run(psbt, desc)


def test_payment_without_derivations_to_a_swapped_wallet_is_shown_as_a_recipient(base, desc):
    # Not change: the signer sees it, as an external payment, on the summary.
    psbt = PSBT.parse(base)
    evil = swapped(desc)
    psbt.outputs[1].script_pubkey = evil.script_pubkey(1, 0)
    psbt.outputs[1].bip32_derivations = OrderedDict()
    psbt.outputs[1].witness_script = psbt.outputs[1].redeem_script = None
    summary = run(psbt, desc)
    assert summary.change == () and summary.recipients[1] == (evil.address(1, 0, network_of(desc)), 990_000)


def test_caller_objects_are_not_modified(base, desc):
    psbt = PSBT.parse(base)
    run(psbt, desc)
    assert psbt.serialize() == base


@pytest.mark.parametrize("dust,script", [(546, "76a914" + "00" * 20 + "88ac"), (540, "a914" + "00" * 20 + "87"),
                                         (294, "0014" + "00" * 20), (330, "0020" + "00" * 32),
                                         (330, "5120" + "00" * 32), (0, "6a0568656c6c6f")])
def test_dust_thresholds_match_bitcoin_core(dust, script):
    assert dust_limit(bytes.fromhex(script)) == dust


def test_policy_rejects_nonsense_caps():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(HuddleError):
            FeePolicy(max_fee=bad)


# -- property: no single change to witness_utxo gets through ---------------------------

_WSH = keys.descriptor(2, 3)
_BASE = make(_WSH, salt=b"hypothesis").serialize()


@settings(max_examples=150, deadline=None)
@given(which=st.integers(0, 1), value=st.one_of(st.none(), st.integers(0, 2**64 - 1)),
       script=st.one_of(st.none(), st.binary(max_size=60)))
def test_any_witness_utxo_tampering_is_refused(which, value, script):
    psbt = PSBT.parse(_BASE)
    wu = psbt.inputs[which].witness_utxo
    new = TransactionOutput(wu.value if value is None else value,
                            wu.script_pubkey if script is None else Script(script))
    if new.serialize() == wu.serialize():
        run(psbt, _WSH)  # nothing changed: it must still pass
        return
    psbt.inputs[which].witness_utxo = new
    assert refused(psbt, _WSH) == "utxo_mismatch"
