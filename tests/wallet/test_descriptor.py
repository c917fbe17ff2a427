"""Multisig descriptors: every rejection with its exact code, round trips,
policy ids and index bounds."""

from __future__ import annotations

import json

import pytest
from embit import base58
from embit.networks import NETWORKS

from coordinator import networks
from coordinator.errors import InvalidInput, Unsupported
from coordinator.wallet import checksum
from coordinator.wallet.descriptor import MultisigDescriptor, parse
from coordinator.wallet.keys import Cosigner
from tests import keys

MULTI = "/<0;1>/*"


def key(i: int, is_test: bool = True, script_type: str = "wsh", suffix: str = MULTI) -> str:
    """Seed i's key expression with origin and derivation suffix."""
    return keys.cosigner(i, is_test, script_type).key_expression() + suffix


def wsh(m: int, *exprs: str) -> str:
    return checksum.add(f"wsh(sortedmulti({m},{','.join(exprs)}))")


def rejected(text: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as exc:
        MultisigDescriptor.from_string(text)
    return exc.value


def refused(*args) -> InvalidInput:
    with pytest.raises(InvalidInput) as exc:
        MultisigDescriptor(*args)
    return exc.value


def slip132(i: int, is_test: bool, kind: str) -> str:
    """Seed i's wsh account key in SLIP-132 dress ``kind`` (Zpub -> Vpub on test)."""
    raw = base58.decode_check(keys.account_key(i, is_test, "wsh").to_public().to_base58())
    return base58.encode_check(NETWORKS["test" if is_test else "main"][kind] + raw[4:])


# -- duplicate cosigners --------------------------------------------------------


def test_same_key_as_xpub_and_zpub_is_a_duplicate():
    origin = f"[{keys.fingerprint(0)}/48h/0h/0h/2h]"
    zpub = slip132(0, False, "Zpub")
    assert zpub.startswith("Zpub")
    text = wsh(2, key(0, is_test=False), f"{origin}{zpub}{MULTI}", key(1, is_test=False))
    assert rejected(text).code == "duplicate_cosigner"


def test_same_key_as_tpub_and_vpub_is_a_duplicate():
    origin = f"[{keys.fingerprint(0)}/48h/1h/0h/2h]"
    vpub = slip132(0, True, "Zpub")
    assert vpub.startswith("Vpub")
    text = wsh(2, key(0), key(1), f"{origin}{vpub}{MULTI}")
    assert rejected(text).code == "duplicate_cosigner"


def test_same_key_under_another_origin_fingerprint_is_a_duplicate():
    # A depth-4 key's master fingerprint cannot be checked, so the strings
    # differ while the key is the same.
    other = f"[deadbeef/48h/1h/0h/2h]{keys.xpub(0)}{MULTI}"
    assert other != key(0)
    assert rejected(wsh(2, key(0), other, key(1))).code == "duplicate_cosigner"


def test_same_key_with_another_label_is_a_duplicate():
    a = keys.cosigner(0, label="alice")
    b = keys.cosigner(0, label="alice's laptop")
    assert a != b
    assert refused("wsh", 2, (a, b, keys.cosigner(1))).code == "duplicate_cosigner"


def test_identical_key_expressions_are_a_duplicate():
    assert rejected(wsh(2, key(0), key(1), key(0))).code == "duplicate_cosigner"


def test_same_seed_at_another_account_is_not_a_duplicate():
    other_account = keys.xpub(0, True, "wsh", account=1)
    c = Cosigner.create(other_account, keys.fingerprint(0), keys.path(True, "wsh", account=1))
    desc = MultisigDescriptor("wsh", 2, (keys.cosigner(0), c))
    assert desc.n == 2


# -- thresholds and sizes ---------------------------------------------------------


def test_threshold_zero_is_refused_in_text():
    assert rejected(wsh(0, key(0), key(1), key(2))).code == "threshold_zero"


@pytest.mark.parametrize("m", [0, -1])
def test_threshold_below_one_is_refused_when_built(m):
    assert refused("wsh", m, (keys.cosigner(0), keys.cosigner(1))).code == "threshold_zero"


def test_threshold_above_n_is_refused_in_text():
    assert rejected(wsh(4, key(0), key(1), key(2))).code == "threshold_above_n"


def test_threshold_above_n_is_refused_when_built():
    assert refused("sh-wsh", 3, (keys.cosigner(0, script_type="sh-wsh"), keys.cosigner(1, script_type="sh-wsh"))).code == "threshold_above_n"


def test_threshold_equal_to_n_is_accepted():
    desc = MultisigDescriptor.from_string(wsh(3, key(0), key(1), key(2)))
    assert (desc.threshold, desc.n) == (3, 3)


@pytest.mark.parametrize("m", [2, 15, 16])
def test_sixteen_cosigners_are_too_many(m):
    exprs = [key(i) for i in range(16)]
    assert len({keys.fingerprint(i) for i in range(16)}) == 16
    assert rejected(wsh(m, *exprs)).code == "too_many_cosigners"


def test_sixteen_cosigners_are_too_many_when_built():
    cosigners = tuple(keys.cosigner(i) for i in range(16))
    assert refused("wsh", 2, cosigners).code == "too_many_cosigners"


def test_fifteen_cosigners_are_allowed():
    desc = MultisigDescriptor.from_string(wsh(15, *(key(i) for i in range(15))))
    assert desc.n == 15
    assert desc.address(0, 0, "regtest").startswith("bcrt1q")


def test_more_cosigners_from_second_accounts_are_still_too_many():
    # 16 seeds x 2 accounts: 17 distinct keys, none a duplicate.
    extra = Cosigner.create(
        keys.xpub(0, True, "wsh", account=1),
        keys.fingerprint(0), keys.path(True, "wsh", account=1),
    )
    cosigners = tuple(keys.cosigner(i) for i in range(16)) + (extra,)
    assert refused("wsh", 2, cosigners).code == "too_many_cosigners"


# -- networks ---------------------------------------------------------------------


@pytest.mark.parametrize("network", ["bitcoin", "mainnet"])
def test_tpub_wallet_on_bitcoin_is_the_wrong_network(network):
    desc = keys.descriptor(2, 3, is_test=True)
    with pytest.raises(InvalidInput) as exc:
        desc.check_network(network)
    assert exc.value.code == "wrong_network"
    with pytest.raises(InvalidInput) as exc:
        desc.address(0, 0, network)
    assert exc.value.code == "wrong_network"


@pytest.mark.parametrize("network", ["testnet", "testnet4", "signet", "regtest"])
def test_xpub_wallet_on_a_test_network_is_the_wrong_network(network):
    desc = keys.descriptor(2, 3, is_test=False)
    with pytest.raises(InvalidInput) as exc:
        desc.check_network(network)
    assert exc.value.code == "wrong_network"
    with pytest.raises(InvalidInput) as exc:
        desc.address(1, 0, network)
    assert exc.value.code == "wrong_network"


@pytest.mark.parametrize("network", networks.NAMES)
def test_wallet_on_its_own_network_derives_addresses(network):
    desc = keys.descriptor(2, 3, is_test=networks.is_test(network))
    desc.check_network(network)
    assert desc.address(0, 0, network)


def test_mixed_xpub_and_tpub_cosigners_are_the_wrong_network():
    text = wsh(2, key(0, is_test=False), key(1, is_test=True), key(2, is_test=False))
    assert rejected(text).code == "wrong_network"


def test_mixed_xpub_and_tpub_cosigners_are_the_wrong_network_when_built():
    cosigners = (keys.cosigner(0, is_test=False), keys.cosigner(1, is_test=True))
    assert refused("wsh", 1, cosigners).code == "wrong_network"


def test_tpub_under_a_mainnet_path_in_a_descriptor_is_the_wrong_network():
    bad = f"[{keys.fingerprint(0)}/48h/0h/0h/2h]{keys.xpub(0, is_test=True)}{MULTI}"
    assert rejected(wsh(2, bad, key(1))).code == "wrong_network"


def test_unknown_network_name_is_refused():
    with pytest.raises(InvalidInput) as exc:
        keys.descriptor(2, 3).address(0, 0, "litecoin")
    assert exc.value.code == "unknown_network"


# -- malformed keys ----------------------------------------------------------------


def test_key_with_a_typo_in_a_descriptor_is_malformed():
    good = keys.xpub(1)
    typo = good[:40] + ("z" if good[40] != "z" else "y") + good[41:]
    expr = f"[{keys.fingerprint(1)}/48h/1h/0h/2h]{typo}{MULTI}"
    assert rejected(wsh(2, key(0), expr)).code == "malformed_key"


def test_key_of_unknown_version_in_a_descriptor_is_malformed():
    raw = base58.decode_check(keys.xpub(1))
    odd = base58.encode_check(b"\x04\x88\x00\x00" + raw[4:])
    expr = f"[{keys.fingerprint(1)}/48h/1h/0h/2h]{odd}{MULTI}"
    assert rejected(wsh(2, key(0), expr)).code == "malformed_key"


# -- private keys ----------------------------------------------------------------------
# Found by these tests: a private key pasted without an origin is reported as
# ``missing_origin``, and that message repeats 36 characters of the secret.

BIP380_XPRV = "xprvA1RpRA33e1JQ7ifknakTFpgNXPmW2YvmhqLQYMmrj4xJXXWYpDPS3xz7iAxn8L39njGVyuoseXzU6rcxFLJ8HFsTjSyQbLYnMpCqE2VbFWc"
BIP380_WIF = "L4rK1yDtCWekvXuE6oXD9jCYfFNV2cWRpVuPLBcCU2z8TrisoyY1"
BIP380_WIF_UNCOMPRESSED = "5KYZdUEo39z3FPrtuX2QbbwGnNP5zTd7yyr2SC1j299sBCnWjss"


def _tprv() -> str:
    raw = base58.decode_check(keys.account_key(1, True, "wsh").to_base58())
    return base58.encode_check(NETWORKS["test"]["xprv"] + raw[4:])


PRIVATE_WITHOUT_ORIGIN = {
    "tprv with multipath": lambda: _tprv() + MULTI,
    "BIP-380 xprv": lambda: BIP380_XPRV,
    "BIP-380 xprv with multipath": lambda: BIP380_XPRV + MULTI,
    "WIF compressed": lambda: BIP380_WIF,
    "WIF uncompressed": lambda: BIP380_WIF_UNCOMPRESSED,
}


def _echoes(secret: str, text: str, window: int = 10) -> bool:
    return any(secret[i:i + window] in text for i in range(len(secret) - window + 1))


@pytest.mark.parametrize("make", PRIVATE_WITHOUT_ORIGIN.values(), ids=PRIVATE_WITHOUT_ORIGIN.keys())
def test_private_key_without_origin_is_refused_as_a_private_key(make):
    assert rejected(wsh(1, make(), key(0))).code == "private_key"


@pytest.mark.parametrize(
    "expr",
    [
        _tprv() + MULTI,
        f"[{keys.fingerprint(1)}/48h/1h/0h/2h]{_tprv()}{MULTI}",
        BIP380_XPRV,
        f"[deadbeef/0h/1h/2h]{BIP380_XPRV}/3/4/5",
        BIP380_WIF,
        BIP380_WIF_UNCOMPRESSED,
    ],
    ids=["tprv", "tprv with origin", "xprv", "xprv with origin and path", "WIF", "WIF uncompressed"],
)
def test_error_for_a_pasted_private_key_never_repeats_the_secret(expr):
    secret = expr.split("]")[-1].split("/")[0]
    error = rejected(wsh(1, expr, key(0)))
    assert not _echoes(secret, json.dumps(error.to_dict())), error.message


# -- unsupported kinds -----------------------------------------------------------------

K1, K2 = key(0), key(1)
UNSUPPORTED = {
    "taproot tr()": f"tr({K1})",
    "taproot tr() with multi_a": f"tr({K1},multi_a(1,{K1},{K2}))",
    "single-sig wpkh()": f"wpkh({K1})",
    "single-sig pkh()": f"pkh({K1})",
    "nested single-sig sh(wpkh())": f"sh(wpkh({K1}))",
    "legacy sh(multi())": f"sh(multi(2,{K1},{K2}))",
    "legacy sh(sortedmulti())": f"sh(sortedmulti(2,{K1},{K2}))",
    "bare sortedmulti()": f"sortedmulti(2,{K1},{K2})",
    "wsh(multi_a())": f"wsh(multi_a(1,{K1},{K2}))",
    "wsh(sortedmulti_a())": f"wsh(sortedmulti_a(1,{K1},{K2}))",
    "sh(wsh(multi_a()))": f"sh(wsh(multi_a(1,{K1},{K2})))",
    "miniscript and_v": f"wsh(and_v(v:pk({K1}),pk({K2})))",
    "miniscript pk": f"wsh(pk({K1}))",
    "single-key sortedmulti": f"wsh(sortedmulti(1,{K1}))",
    "single-key sh-wsh sortedmulti": f"sh(wsh(sortedmulti(1,{key(0, script_type='sh-wsh')})))",
    "plain public keys": (
        "wsh(sortedmulti(1,03a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd,"
        "0260b2003c386519fc9eadf2b5cf124dd8eea4c4e68d5e154050a9346ea98ce600))"
    ),
}


@pytest.mark.parametrize("body", UNSUPPORTED.values(), ids=UNSUPPORTED.keys())
@pytest.mark.parametrize("with_checksum", [True, False], ids=["checksummed", "bare"])
def test_unsupported_descriptor_kind_says_unsupported(body, with_checksum):
    text = checksum.add(body) if with_checksum else body
    error = rejected(text)
    assert error.code == "unsupported_descriptor"
    assert isinstance(error, Unsupported)
    assert "unsupported" in error.message.lower()


def test_single_key_wallet_is_unsupported_when_built():
    error = refused("wsh", 1, (keys.cosigner(0),))
    assert error.code == "unsupported_descriptor"
    assert "unsupported" in error.message.lower()


def test_unknown_script_type_is_unsupported_when_built():
    error = refused("tr", 1, (keys.cosigner(0), keys.cosigner(1)))
    assert error.code == "unsupported_descriptor"
    assert "unsupported" in error.message.lower()


# -- derivation suffixes -----------------------------------------------------------------


@pytest.mark.parametrize(
    "suffix",
    ["/0/0/*", "/*h", "/*'", "", "/*", "/0", "/2/*", "/<1;0>/*", "/<0;1;2>/*", "/<0;1>/*h", "/0h/*"],
)
def test_unsupported_derivation_suffix_is_bad_derivation(suffix):
    assert rejected(wsh(2, key(0, suffix=suffix), key(1), key(2))).code == "bad_derivation"


def test_mixed_receive_and_multipath_suffixes_are_bad_derivation():
    assert rejected(wsh(2, key(0, suffix="/0/*"), key(1), key(2))).code == "bad_derivation"


def test_mixed_receive_and_change_suffixes_are_bad_derivation():
    assert rejected(wsh(2, key(0, suffix="/0/*"), key(1, suffix="/1/*"))).code == "bad_derivation"


def test_change_only_descriptor_is_refused_by_from_string():
    change = keys.descriptor(2, 3).to_string(branch=1)
    assert rejected(change).code == "bad_derivation"
    # parse() itself reads it and says which branch it is.
    desc, branch = parse(change)
    assert branch == 1
    assert desc.to_string() == keys.descriptor(2, 3).to_string()


# -- origins and malformed text ------------------------------------------------------------


def test_key_without_origin_is_missing_origin():
    bare = keys.xpub(1) + MULTI
    assert rejected(wsh(2, key(0), bare)).code == "missing_origin"


def test_key_with_empty_origin_is_a_malformed_origin():
    assert rejected(wsh(2, key(0), f"[]{keys.xpub(1)}{MULTI}")).code == "malformed_origin"


MALFORMED = {
    "empty": "",
    "word": "hello",
    "open head": "wsh(",
    "empty wsh": "wsh()",
    "empty sortedmulti": "wsh(sortedmulti())",
    "threshold only": "wsh(sortedmulti(2))",
    "letter threshold": f"wsh(sortedmulti(a,{K1},{K2}))",
    "negative threshold": f"wsh(sortedmulti(-1,{K1},{K2}))",
    "three-digit threshold": f"wsh(sortedmulti(100,{K1},{K2}))",
    "trailing text": f"wsh(sortedmulti(2,{K1},{K2}))x",
    "missing two closing parens": f"wsh(sortedmulti(2,{K1},{K2}",
    "uppercase head": f"WSH(sortedmulti(2,{K1},{K2}))",
    "double origin": f"wsh(sortedmulti(1,[aaaaaaaa][aaaaaaaa]{keys.xpub(0)}{MULTI},{K2}))",
    "origin without key": f"wsh(sortedmulti(1,[deadbeef],{K2}))",
    "non-ascii": f"wsh(sortedmulti(2,{K1},{K2}))\u00a0#",
}


@pytest.mark.parametrize("text", MALFORMED.values(), ids=MALFORMED.keys())
def test_unreadable_text_is_a_malformed_descriptor(text):
    assert rejected(text).code == "malformed_descriptor"


# Found by these tests: text that lost or gained a character is reported as
# something it is not (see the report for issue 2).


def test_descriptor_missing_its_last_parenthesis_is_malformed_not_unsupported():
    text = f"wsh(sortedmulti(2,{K1},{K2})"
    assert rejected(text).code == "malformed_descriptor"


def test_sh_wsh_descriptor_missing_its_last_parenthesis_is_malformed_not_unsupported():
    a, b = key(0, script_type="sh-wsh"), key(1, script_type="sh-wsh")
    assert rejected(f"sh(wsh(sortedmulti(2,{a},{b}))").code == "malformed_descriptor"


def test_descriptor_with_an_extra_parenthesis_is_malformed_not_bad_derivation():
    text = f"wsh(sortedmulti(2,{K1},{K2})))"
    assert rejected(text).code == "malformed_descriptor"


def test_empty_key_slot_is_malformed_not_a_missing_origin():
    text = f"wsh(sortedmulti(2,{K1},,{K2}))"
    assert rejected(text).code == "malformed_descriptor"


# -- round trips ------------------------------------------------------------------------------


SHAPES = [(2, 3, "wsh"), (3, 5, "wsh"), (2, 3, "sh-wsh"), (3, 5, "sh-wsh")]


def _same_wallet(a: MultisigDescriptor, b: MultisigDescriptor) -> None:
    assert (a.script_type, a.threshold, a.sorted) == (b.script_type, b.threshold, b.sorted)
    assert [(c.origin, c.xpub) for c in a.cosigners] == [(c.origin, c.xpub) for c in b.cosigners]
    assert a.policy_id == b.policy_id


def _with_quote_markers(desc: MultisigDescriptor, suffix: str) -> str:
    exprs = [
        f"[{c.fingerprint}/{c.origin.path_string[2:].replace('h', chr(39))}]{c.xpub}{suffix}"
        for c in desc.cosigners
    ]
    body = f"sortedmulti({desc.threshold},{','.join(exprs)})"
    return f"wsh({body})" if desc.script_type == "wsh" else f"sh(wsh({body}))"


@pytest.mark.parametrize("is_test", [True, False], ids=["tpub", "xpub"])
@pytest.mark.parametrize("m, n, script_type", SHAPES, ids=[f"{m}of{n}-{s}" for m, n, s in SHAPES])
def test_to_string_round_trips(m, n, script_type, is_test):
    desc = keys.descriptor(m, n, is_test, script_type)
    text = desc.to_string()
    again = MultisigDescriptor.from_string(text)
    _same_wallet(again, desc)
    assert again.to_string() == text
    assert text.startswith("wsh(sortedmulti(" if script_type == "wsh" else "sh(wsh(sortedmulti(")
    assert text.count(MULTI) == n
    checksum.split(text)  # carries a valid checksum


@pytest.mark.parametrize("m, n, script_type", SHAPES, ids=[f"{m}of{n}-{s}" for m, n, s in SHAPES])
def test_quote_hardened_markers_normalise_to_h(m, n, script_type):
    desc = keys.descriptor(m, n, True, script_type)
    quoted = _with_quote_markers(desc, MULTI)
    assert "'" in quoted and "48h" not in quoted
    again = MultisigDescriptor.from_string(checksum.add(quoted))
    assert again.to_string() == desc.to_string()
    assert "'" not in again.to_string()


@pytest.mark.parametrize("suffix", ["/**", "/0/*", MULTI])
@pytest.mark.parametrize("m, n, script_type", SHAPES, ids=[f"{m}of{n}-{s}" for m, n, s in SHAPES])
def test_double_star_and_receive_only_suffixes_mean_multipath(m, n, script_type, suffix):
    desc = keys.descriptor(m, n, True, script_type)
    text = _with_quote_markers(desc, suffix)
    again = MultisigDescriptor.from_string(text)
    _same_wallet(again, desc)
    assert again.to_string() == desc.to_string()
    assert again.address(1, 7, "regtest") == desc.address(1, 7, "regtest")


def test_descriptor_without_checksum_is_accepted():
    desc = keys.descriptor(2, 3)
    assert MultisigDescriptor.from_string(desc.to_string(checksummed=False)).to_string() == desc.to_string()


def test_surrounding_whitespace_is_ignored():
    desc = keys.descriptor(2, 3)
    assert MultisigDescriptor.from_string(f"  {desc.to_string()}\n").to_string() == desc.to_string()


def test_single_branch_text_names_that_branch():
    desc = keys.descriptor(2, 3)
    assert desc.to_string(branch=0).count("/0/*") == 3
    assert desc.to_string(branch=1).count("/1/*") == 3
    checksum.split(desc.to_string(branch=0))
    checksum.split(desc.to_string(branch=1))


def test_unsorted_multi_round_trips_and_keeps_key_order():
    text = checksum.add(f"wsh(multi(2,{key(2)},{key(0)},{key(1)}))")
    desc = MultisigDescriptor.from_string(text)
    assert desc.sorted is False
    assert desc.to_string() == text
    assert [c.fingerprint for c in desc.cosigners] == [keys.fingerprint(i) for i in (2, 0, 1)]


# -- policy id --------------------------------------------------------------------------------


def test_policy_id_ignores_key_order_for_sortedmulti():
    a, b, c = (keys.cosigner(i) for i in range(3))
    ids = {MultisigDescriptor("wsh", 2, order).policy_id for order in [(a, b, c), (c, a, b), (b, c, a), (c, b, a)]}
    assert len(ids) == 1


def test_reordered_sortedmulti_derives_the_same_addresses():
    a, b, c = (keys.cosigner(i) for i in range(3))
    one, two = MultisigDescriptor("wsh", 2, (a, b, c)), MultisigDescriptor("wsh", 2, (c, a, b))
    assert one.address(0, 3, "regtest") == two.address(0, 3, "regtest")


def test_policy_id_ignores_labels():
    plain = MultisigDescriptor("wsh", 2, tuple(keys.cosigner(i, label=f"x{i}") for i in range(3)))
    named = MultisigDescriptor("wsh", 2, tuple(keys.cosigner(i, label=f"member {i}") for i in range(3)))
    assert plain != named
    assert plain.policy_id == named.policy_id


def test_policy_id_of_parsed_text_equals_the_built_wallet():
    desc = keys.descriptor(3, 5, True, "sh-wsh")
    assert MultisigDescriptor.from_string(desc.to_string()).policy_id == desc.policy_id


def test_policy_id_depends_on_key_order_for_unsorted_multi():
    a, b, c = (keys.cosigner(i) for i in range(3))
    one = MultisigDescriptor("wsh", 2, (a, b, c), sorted=False)
    two = MultisigDescriptor("wsh", 2, (c, a, b), sorted=False)
    assert one.policy_id != two.policy_id
    assert one.address(0, 0, "regtest") != two.address(0, 0, "regtest")


def test_policy_id_differs_by_threshold_script_type_and_keys():
    ids = {
        keys.descriptor(2, 3).policy_id,
        keys.descriptor(3, 3).policy_id,
        keys.descriptor(2, 3, script_type="sh-wsh").policy_id,
        keys.descriptor(2, 3, first=1).policy_id,
        MultisigDescriptor("wsh", 2, keys.descriptor(2, 3).cosigners, sorted=False).policy_id,
    }
    assert len(ids) == 5


# -- index bounds -----------------------------------------------------------------------------


@pytest.mark.parametrize("index", [-1, 2**31, 2**32])
def test_index_outside_the_unhardened_range_is_bad_index(index):
    desc = keys.descriptor(2, 3)
    for call in (
        lambda: desc.address(0, index, "regtest"),
        lambda: desc.witness_script(1, index),
        lambda: desc.script_pubkey(0, index),
    ):
        with pytest.raises(InvalidInput) as exc:
            call()
        assert exc.value.code == "bad_index"


@pytest.mark.parametrize("branch", [-1, 2, 2**31])
def test_branch_other_than_receive_or_change_is_bad_index(branch):
    with pytest.raises(InvalidInput) as exc:
        keys.descriptor(2, 3).address(branch, 0, "regtest")
    assert exc.value.code == "bad_index"


def test_last_unhardened_index_derives():
    desc = keys.descriptor(2, 3)
    last = desc.address(0, 2**31 - 1, "regtest")
    assert last.startswith("bcrt1q")
    assert last != desc.address(0, 2**31 - 2, "regtest")
