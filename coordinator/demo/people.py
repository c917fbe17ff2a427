"""The demo's three members and their keys: public BIP-39 test mnemonics.

**DEMO: keys are not secret.** These are Trezor's python-mnemonic test vectors
(the same ones tests/keys.py uses), printed in many places on the internet:
anyone can spend what they hold. They are the only private keys Huddle ever
touches (DESIGN.md, "What stays out of the server"), and only in ``huddle demo``,
on the regtest sandbox.
"""

from __future__ import annotations

LABEL = "DEMO: keys are not secret"
MNEMONICS = {
    "Ada": "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
    "Bob": "legal winner thank year wave sausage worth useful legal winner thank yellow",
    "Carol": "letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
}
NAMES = tuple(MNEMONICS)
WALLET = "Co-op DEMO - keys are not secret"  # wallet names take no ':' (store/wallets.py)
FUNDING = 100_000_000  # 1 regtest BTC
PAYMENT = 2_500_000
FEE_RATE = 2_000  # sat/kvB = 2 sat/vB
MEMO = "DEMO: pay the sandbox faucet back for the new roof"
