"""Extended keys, SLIP-132 normalisation, key origins and cosigners."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from embit import base58
from embit.bip32 import HDKey
from embit.networks import NETWORKS
from hypothesis import given
from hypothesis import strategies as st

from coordinator.errors import HuddleError, InvalidInput
from coordinator.wallet.descriptor import MultisigDescriptor
from coordinator.wallet.keys import (
    Cosigner,
    KeyOrigin,
    parse_fingerprint,
    parse_path,
    parse_xpub,
)
from tests import keys
from tests.conftest import VECTORS

H = 0x80000000

MAIN_PUBLIC = ("xpub", "ypub", "zpub", "Ypub", "Zpub")
# embit names the test-network versions by their mainnet counterpart:
# NETWORKS["test"]["zpub"] is vpub, ["Zpub"] is Vpub, and so on.
TEST_PUBLIC = {"xpub": "tpub", "ypub": "upub", "zpub": "vpub", "Ypub": "Upub", "Zpub": "Vpub"}
PRIVATE = ("xprv", "yprv", "zprv", "Yprv", "Zprv")


def dressed(i: int, is_test: bool, kind: str, private: bool = False) -> str:
    """Seed i's BIP-48 wsh account key, serialised with SLIP-132 ``kind``."""
    key = keys.account_key(i, is_test, "wsh")
    if not private:
        key = key.to_public()
    raw = base58.decode_check(key.to_base58())
    return base58.encode_check(NETWORKS["test" if is_test else "main"][kind] + raw[4:])


def reencode(text: str, change) -> str:
    """Decode an extended key, change its 78 bytes, re-encode with a valid checksum."""
    return base58.encode_check(change(base58.decode_check(text)))


def code_of(call) -> str:
    with pytest.raises(InvalidInput) as exc:
        call()
    return exc.value.code


# -- SLIP-132 -----------------------------------------------------------------


@pytest.mark.parametrize("kind", MAIN_PUBLIC)
def test_mainnet_slip132_keys_normalise_to_the_same_xpub(kind):
    text = dressed(0, False, kind)
    assert text.startswith(kind)
    key, is_test = parse_xpub(text)
    assert is_test is False
    assert key.to_base58() == keys.xpub(0, is_test=False)
    assert key.to_base58().startswith("xpub")


@pytest.mark.parametrize("kind", MAIN_PUBLIC)
def test_test_network_slip132_keys_normalise_to_the_same_tpub(kind):
    text = dressed(0, True, kind)
    assert text.startswith(TEST_PUBLIC[kind])
    key, is_test = parse_xpub(text)
    assert is_test is True
    assert key.to_base58() == keys.xpub(0, is_test=True)
    assert key.to_base58().startswith("tpub")


@pytest.mark.parametrize("kind", MAIN_PUBLIC)
def test_slip132_dress_keeps_the_key_material(kind):
    expected = keys.account_key(1, True, "wsh").to_public()
    key, _ = parse_xpub(dressed(1, True, kind))
    assert key.key.sec() == expected.key.sec()
    assert key.chain_code == expected.chain_code
    assert (key.depth, key.child_number, key.fingerprint) == (
        expected.depth, expected.child_number, expected.fingerprint,
    )


def test_cosigner_stores_a_zpub_as_xpub_and_a_vpub_as_tpub():
    main = Cosigner.create(dressed(2, False, "Zpub"), keys.fingerprint(2), keys.path(False, "wsh"))
    test = Cosigner.create(dressed(2, True, "Zpub"), keys.fingerprint(2), keys.path(True, "wsh"))
    assert main.xpub == keys.xpub(2, is_test=False)
    assert test.xpub == keys.xpub(2, is_test=True)
    assert (main.is_test, test.is_test) == (False, True)
    assert "Zpub" not in main.key_expression() and "Vpub" not in test.key_expression()


def test_surrounding_whitespace_around_a_key_is_ignored():
    key, _ = parse_xpub(f"  {keys.xpub(0)}\n")
    assert key.to_base58() == keys.xpub(0)


# -- private keys -------------------------------------------------------------


@pytest.mark.parametrize("is_test", [False, True], ids=["mainnet", "test"])
@pytest.mark.parametrize("kind", PRIVATE)
def test_private_keys_are_refused_in_every_dress(kind, is_test):
    text = dressed(0, is_test, kind, private=True)
    with pytest.raises(InvalidInput) as exc:
        parse_xpub(text)
    assert exc.value.code == "private_key"
    # The error must never repeat the secret back.
    assert text not in str(exc.value) and text[:20] not in exc.value.message


def test_private_key_in_a_descriptor_is_refused():
    prv = dressed(0, True, "xprv", private=True)
    assert prv.startswith("tprv")
    other = keys.cosigner(1).key_expression()
    text = f"wsh(sortedmulti(1,[{keys.fingerprint(0)}/48h/1h/0h/2h]{prv}/<0;1>/*,{other}/<0;1>/*))"
    assert code_of(lambda: MultisigDescriptor.from_string(text)) == "private_key"


def test_private_key_bytes_under_a_public_version_are_refused():
    # A tprv's 78 bytes with the tpub version: it must not slip through as a "tpub".
    prv = dressed(0, True, "xprv", private=True)
    disguised = reencode(prv, lambda raw: NETWORKS["test"]["xpub"] + raw[4:])
    assert disguised.startswith("tpub")
    assert code_of(lambda: parse_xpub(disguised)) == "malformed_key"


# -- malformed keys -----------------------------------------------------------


def test_key_with_a_typo_fails_the_base58_checksum():
    good = keys.xpub(0)
    typo = good[:50] + ("A" if good[50] != "A" else "B") + good[51:]
    assert code_of(lambda: parse_xpub(typo)) == "malformed_key"


@pytest.mark.parametrize("text", ["tpub0OIl", "", "not a key", "xpub"])
def test_text_that_is_not_base58check_is_a_malformed_key(text):
    assert code_of(lambda: parse_xpub(text)) == "malformed_key"


@pytest.mark.parametrize("change", [lambda raw: raw[:77], lambda raw: raw + b"\x00"], ids=["77 bytes", "79 bytes"])
def test_key_of_the_wrong_length_is_malformed(change):
    assert code_of(lambda: parse_xpub(reencode(keys.xpub(0), change))) == "malformed_key"


def test_key_with_unknown_version_bytes_is_malformed():
    text = reencode(keys.xpub(0), lambda raw: b"\x01\x02\x03\x04" + raw[4:])
    assert code_of(lambda: parse_xpub(text)) == "malformed_key"


@pytest.mark.parametrize(
    "point",
    [b"\x02" + (5).to_bytes(32, "big"), b"\x02" + b"\xff" * 32, b"\x05" + b"\x11" * 32],
    ids=["x not on the curve", "x above the field size", "bad prefix byte"],
)
def test_key_whose_point_is_not_on_the_curve_is_malformed(point):
    text = reencode(keys.xpub(0), lambda raw: raw[:45] + point)
    assert code_of(lambda: parse_xpub(text)) == "malformed_key"


# -- network ------------------------------------------------------------------


def test_tpub_with_a_mainnet_coin_type_is_the_wrong_network():
    call = lambda: Cosigner.create(keys.xpub(0, is_test=True), keys.fingerprint(0), "m/48'/0'/0'/2'")
    assert code_of(call) == "wrong_network"


def test_xpub_with_a_test_coin_type_is_the_wrong_network():
    call = lambda: Cosigner.create(keys.xpub(0, is_test=False), keys.fingerprint(0), "m/48'/1'/0'/2'")
    assert code_of(call) == "wrong_network"


def test_vpub_with_a_mainnet_coin_type_is_the_wrong_network():
    call = lambda: Cosigner.create(dressed(0, True, "Zpub"), keys.fingerprint(0), "m/48h/0h/0h/2h")
    assert code_of(call) == "wrong_network"


def test_key_path_and_network_that_agree_are_accepted():
    for is_test in (False, True):
        c = Cosigner.create(keys.xpub(3, is_test), keys.fingerprint(3), keys.path(is_test, "wsh"))
        assert c.is_test is is_test
        assert c.origin.coin_is_test() is is_test


# -- origins ------------------------------------------------------------------


def test_origin_shorter_than_the_key_depth_is_a_mismatch():
    call = lambda: Cosigner.create(keys.xpub(0), keys.fingerprint(0), "m/48h/1h/0h")
    assert code_of(call) == "origin_mismatch"


def test_origin_longer_than_the_key_depth_is_a_mismatch():
    call = lambda: Cosigner.create(keys.xpub(0), keys.fingerprint(0), "m/48h/1h/0h/2h/0")
    assert code_of(call) == "origin_mismatch"


def test_origin_without_a_path_on_an_account_key_is_a_mismatch():
    call = lambda: Cosigner.from_parts(KeyOrigin.from_string(keys.fingerprint(0)), keys.xpub(0))
    assert code_of(call) == "origin_mismatch"


def test_origin_whose_last_step_differs_from_the_key_child_number_is_a_mismatch():
    # The key sits at .../2' (wsh); an origin ending in 1' (sh-wsh) is another key.
    call = lambda: Cosigner.create(keys.xpub(0, script_type="wsh"), keys.fingerprint(0), "m/48h/1h/0h/1h")
    assert code_of(call) == "origin_mismatch"


def test_origin_with_unhardened_last_step_is_a_mismatch():
    call = lambda: Cosigner.create(keys.xpub(0), keys.fingerprint(0), "m/48h/1h/0h/2")
    assert code_of(call) == "origin_mismatch"


def test_depth_one_key_must_name_its_parent_fingerprint():
    child = keys.root(4).derive("m/7h").to_public()
    ok = Cosigner.create(child.to_base58(), keys.fingerprint(4), "m/7h")
    assert ok.fingerprint == keys.fingerprint(4)
    call = lambda: Cosigner.create(child.to_base58(), keys.fingerprint(5), "m/7h")
    assert code_of(call) == "origin_mismatch"


def test_master_key_origin_must_be_its_own_fingerprint():
    master = keys.root(4).to_public()
    assert Cosigner.create(master.to_base58(), keys.fingerprint(4), "m").fingerprint == keys.fingerprint(4)
    call = lambda: Cosigner.create(master.to_base58(), keys.fingerprint(5), "m")
    assert code_of(call) == "origin_mismatch"


@pytest.mark.parametrize("fpr", ["deadbef", "deadbeeef", "gaaaaaaa", "", "dead beef", "0xdeadbe"])
def test_fingerprint_that_is_not_eight_hex_digits_is_a_malformed_origin(fpr):
    assert code_of(lambda: parse_fingerprint(fpr)) == "malformed_origin"
    call = lambda: Cosigner.create(keys.xpub(0), fpr, keys.path(True, "wsh"))
    assert code_of(call) == "malformed_origin"


def test_fingerprint_is_case_insensitive_and_stored_lowercase():
    c = Cosigner.create(keys.xpub(0), keys.fingerprint(0).upper(), keys.path(True, "wsh"))
    assert c.fingerprint == keys.fingerprint(0)


@pytest.mark.parametrize(
    "path",
    ["m/48h/1h/x/2h", "m/48h//0h/2h", "m/48h/1h/0h/", "m/-1", "m/2147483648", "m/48hh", "m/*", "m/0f"],
)
def test_unreadable_origin_path_is_a_malformed_origin(path):
    assert code_of(lambda: parse_path(path)) == "malformed_origin"


@pytest.mark.parametrize("text", ["m/48'/1'/0'/2'", "m/48h/1h/0h/2h", "48h/1h/0h/2h", "48'/1h/0'/2h"])
def test_hardened_markers_quote_and_h_mean_the_same_step(text):
    assert parse_path(text) == (48 + H, 1 + H, 0 + H, 2 + H)


def test_origin_prints_with_h_markers():
    origin = KeyOrigin.from_string("0F056943/48'/1'/0'/2'")
    assert origin.to_string() == "0f056943/48h/1h/0h/2h"
    assert origin.path_string == "m/48h/1h/0h/2h"


def test_largest_unhardened_and_hardened_steps_parse():
    assert parse_path("m/2147483647/2147483647h") == (H - 1, 2 * H - 1)


# -- BIP-380 invalid key expressions --------------------------------------------


def _invalid_key_expressions():
    path = VECTORS / "bip380_checksums.json"
    if not path.exists():
        return []
    return json.loads(path.read_text())["bip380"]["key_expressions_invalid"]


def test_bip380_invalid_key_expression_vectors_are_present(vectors_dir):
    data = json.loads((vectors_dir / "bip380_checksums.json").read_text())
    assert len(data["bip380"]["key_expressions_invalid"]) == len(_invalid_key_expressions()) == 16


@pytest.mark.parametrize(
    "case",
    _invalid_key_expressions(),
    ids=lambda c: c["description"],
)
def test_bip380_invalid_key_expression_is_refused_inside_a_descriptor(case):
    valid = keys.cosigner(0).key_expression() + "/<0;1>/*"
    text = f"wsh(sortedmulti(1,{case['key_expression']},{valid}))"
    with pytest.raises(HuddleError) as exc:  # any Huddle code; never a foreign exception
        MultisigDescriptor.from_string(text)
    assert isinstance(exc.value, InvalidInput)


# The vectors' faulty origins sit on plain public keys, which Huddle refuses
# for that reason alone. Moved onto a real account key, each fault must be
# caught for what it is.
ORIGIN_FAULTS = {
    "Children indicator in key origin": "deadbeef/0h/0h/0h/*",
    "Trailing slash in key origin": "deadbeef/0h/0h/0h/",
    "Too short fingerprint": "deadbef/0h/0h/0h",
    "Too long fingerprint": "deadbeeef/0h/0h/0h",
    "Invalid hardened indicators 0f": "deadbeef/0f/0f/0f",
    "Invalid hardened indicators -0": "deadbeef/-0/-0/-0",
    "Non hex fingerprint": "gaaaaaaa",
}


@pytest.mark.parametrize("origin", ORIGIN_FAULTS.values(), ids=ORIGIN_FAULTS.keys())
def test_bip380_origin_fault_on_a_real_key_is_a_malformed_origin(origin):
    other = keys.cosigner(1).key_expression()
    text = f"wsh(sortedmulti(1,[{origin}]{keys.xpub(0)}/<0;1>/*,{other}/<0;1>/*))"
    assert code_of(lambda: MultisigDescriptor.from_string(text)) == "malformed_origin"


def test_uppercase_h_hardened_marker_is_refused_as_bip380_requires():
    other = keys.cosigner(1).key_expression()
    text = f"wsh(sortedmulti(1,[{keys.fingerprint(0)}/48H/1H/0H/2H]{keys.xpub(0)}/<0;1>/*,{other}/<0;1>/*))"
    assert code_of(lambda: MultisigDescriptor.from_string(text)) == "malformed_origin"


@given(st.integers(0, 2**31 - 1), st.sampled_from([0, 1]), st.integers(0, 4))
def test_fast_child_keys_equal_embits_bip32_derivation(index, branch, seed):
    """keys._child_pubkey (CKDpub by hand, for speed) against embit's HDKey.derive."""
    cosigner = keys.cosigner(seed)
    expected = HDKey.from_string(cosigner.xpub).derive([branch, index]).key.sec()
    assert cosigner.child_pubkey(branch, index) == expected
