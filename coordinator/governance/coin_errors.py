"""Error codes of coin control (docs/errors-coins.md): the coins a member chose for a
spend, or a coin to freeze, each refused for its own reason. ``coin_locked`` (another
proposal holds it) lives with the proposals' codes in governance/errors.py."""

from __future__ import annotations

from ..errors import register

CODES: dict[str, str] = {
    "coin_malformed": "a chosen coin that is not txid:vout (64 hex digits, a colon, an output number)",
    "coin_duplicate": "a spend that chooses the same coin twice",
    "coin_foreign": "a chosen coin that is not this wallet's: another wallet's output, an output the wallet "
                    "paid to someone else, or no output its synced history knows",
    "coin_spent": "a chosen coin this wallet has already spent (confirmed or waiting in the mempool); "
                  "details.spent_by names the transaction",
    "coin_frozen": "a chosen coin that is frozen (BIP-329 spendable false, by a label import or a member); "
                   "unfreeze it before spending it",
    "coin_immature": "a chosen coinbase output with fewer than 100 confirmations (consensus: COINBASE_MATURITY); "
                     "details.needed says how many more",
}
register(CODES)
