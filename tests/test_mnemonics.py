"""The deterministic test seeds in tests/keys.py are real BIP-39 mnemonics
and sixteen different wallets."""

from __future__ import annotations

import pytest
from embit import bip39

from tests import keys


@pytest.mark.parametrize("index", range(len(keys.MNEMONICS)))
def test_test_mnemonic_is_valid_bip39(index):
    mnemonic = keys.MNEMONICS[index]
    assert bip39.mnemonic_is_valid(mnemonic)
    assert len(mnemonic.split()) in (12, 18, 24)


def test_there_are_sixteen_test_seeds_with_distinct_fingerprints():
    assert len(keys.MNEMONICS) == 16
    assert len(set(keys.MNEMONICS)) == 16
    fingerprints = {keys.fingerprint(i) for i in range(16)}
    assert len(fingerprints) == 16


def test_first_test_seed_has_the_well_known_fingerprint():
    # "abandon ... about" with no passphrase is 73c5da0a in every wallet.
    assert keys.fingerprint(0) == "73c5da0a"


def test_a_corrupted_mnemonic_is_not_valid():
    # Guards the check above against a validator that accepts anything.
    words = keys.MNEMONICS[0].split()
    assert not bip39.mnemonic_is_valid(" ".join(words[:-1] + ["abandon"]))
