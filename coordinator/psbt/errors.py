"""Error codes of the PSBT engine (documented in docs/errors.md)."""

from ..errors import register

register({
    # reading PSBTs and coins
    "malformed_psbt": "a PSBT that does not parse or breaks BIP-174/370",
    "psbt_too_large": "a PSBT over the size limit",
    "malformed_utxo": "a previous transaction or outpoint that does not parse or match",
    # taking in signatures
    "different_transaction": "the incoming PSBT spends or pays differently from the stored one",
    "foreign_key": "a signature by a key that is not one of this input's cosigners",
    "invalid_signature": "a signature that does not verify against our own sighash",
    "bad_sighash_type": "a sighash type other than SIGHASH_ALL",
    "incomplete": "not enough valid signatures to finalize",
    "already_final": "the PSBT's inputs were already finalized, by Huddle or another tool",
    # what a signer checks
    "utxo_mismatch": "witness_utxo disagrees with non_witness_utxo, or it is not the prevout",
    "missing_utxo": "an input without non_witness_utxo (or witness_utxo)",
    "foreign_input": "an input that does not belong to the wallet",
    "change_foreign": "an output claiming to be change that is not the wallet's",
    "change_wrong_branch": "change on the receive branch instead of the change branch",
    "change_beyond_gap": "change at an index beyond the gap limit",
    "xpub_mismatch": "the PSBT's global xpubs are not the wallet's cosigners",
    "nonstandard_version": "a transaction version nodes do not relay (signers take 1 and 2)",
    "locktime_in_future": "an nLockTime far ahead of the tip or the clock: nodes would not relay it",
    # building spends
    "fee_too_high": "the fee is above the cap (absolute, or more than the amount paid)",
    "fee_rate_too_high": "the fee rate is above the cap",
    "fee_rate_too_low": "the fee rate is below the minimum relay fee",
    "output_dust": "an output below the dust limit",
    "amount_too_large": "an amount above 21 million BTC (MAX_MONEY)",
    "insufficient_funds": "the coins cannot pay the amounts and the fee",
    "bad_spend": "a spend request that makes no sense (no recipients, zero amounts, ...)",
})
