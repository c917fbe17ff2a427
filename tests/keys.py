"""Deterministic test keys: BIP-39 test-vector mnemonics (Trezor's
python-mnemonic vectors, passphrase ""), never used for real money.

``cosigner(i, network, script_type)`` gives the i-th member's Cosigner at the
BIP-48 path for that script type; ``descriptor(m, n, ...)`` a wallet.
"""

from __future__ import annotations

import functools

from embit import bip32, bip39
from embit.networks import NETWORKS

from coordinator.wallet.descriptor import MultisigDescriptor
from coordinator.wallet.keys import Cosigner

MNEMONICS = (
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
    "legal winner thank year wave sausage worth useful legal winner thank yellow",
    "letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
    "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong",
    "jelly better achieve collect unaware mountain thought cargo oxygen act hood bridge",
    "renew stay biology evidence goat welcome casual join adapt armor shuffle fault little machine walk stumble urge swap",
    "dignity pass list indicate nasty swamp pool script soccer toe leaf photo multiply desk host tomato cradle drill spread actor shine dismiss champion exotic",
    "afford alter spike radar gate glance object seek swamp infant panel yellow",
    "all hour make first leader extend hole alien behind guard gospel lava path output census museum junior mass reopen famous sing advance salt reform",
    "scheme spot photo card baby mountain device kick cradle pact join borrow",
    "horn tenant knee talent sponsor spell gate clip pulse soap slush warm silver nephew swap uncle crack brave",
    "panda eyebrow bullet gorilla call smoke muffin taste mesh discover soft ostrich alcohol speed nation flash devote level hobby quick inner drive ghost inside",
    "cat swing flag economy stadium alone churn speed unique patch report train",
    "light rule cinnamon wrap drastic word pride squirrel upgrade then income fatal apart sustain crack supply proud access",
    "all all all all all all all all all all all all",
    "void come effort suffer camp survey warrior heavy shoot primary clutch crush open amazing screen patrol group space point ten exist slush involve unfold",
)
SCRIPT_PATH_INDEX = {"wsh": 2, "sh-wsh": 1}  # BIP-48 script type step


@functools.lru_cache(maxsize=None)
def root(i: int) -> bip32.HDKey:
    """The i-th test seed's master private key (tests only)."""
    return bip32.HDKey.from_seed(bip39.mnemonic_to_seed(MNEMONICS[i]))


def path(network_is_test: bool, script_type: str, account: int = 0) -> str:
    coin = 1 if network_is_test else 0
    return f"m/48h/{coin}h/{account}h/{SCRIPT_PATH_INDEX[script_type]}h"


@functools.lru_cache(maxsize=None)
def account_key(i: int, is_test: bool = True, script_type: str = "wsh", account: int = 0) -> bip32.HDKey:
    """The i-th seed's BIP-48 account private key."""
    return root(i).derive(path(is_test, script_type, account))


def xpub(i: int, is_test: bool = True, script_type: str = "wsh", account: int = 0) -> str:
    key = account_key(i, is_test, script_type, account).to_public()
    key.version = NETWORKS["test" if is_test else "main"]["xpub"]
    return key.to_base58()


def fingerprint(i: int) -> str:
    return root(i).my_fingerprint.hex()


def cosigner(i: int, is_test: bool = True, script_type: str = "wsh", label: str = "") -> Cosigner:
    return Cosigner.create(
        xpub(i, is_test, script_type), fingerprint(i), path(is_test, script_type),
        label=label or f"member {i + 1}",
    )


def descriptor(m: int, n: int, is_test: bool = True, script_type: str = "wsh", first: int = 0) -> MultisigDescriptor:
    return MultisigDescriptor(
        script_type, m, tuple(cosigner(first + i, is_test, script_type) for i in range(n))
    )
