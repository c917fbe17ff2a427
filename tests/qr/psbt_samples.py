"""Real 2-of-3 P2WSH PSBTs for the QR tests and bench, built by Huddle itself.

Three cosigners from the BIP-39 test mnemonics (tests/keys.py) at
m/48'/1'/0'/2'. Every input carries non_witness_utxo, witness_utxo,
witness_script and all three bip32_derivations, the change output its
scripts and derivations, and the PSBT a PSBT_GLOBAL_XPUB per cosigner: the
shape Huddle hands to a signer. Deterministic, so sizes are stable.
"""

from __future__ import annotations

import functools

from coordinator.psbt.build import Output, assemble
from tests import keys
from tests.psbt import chain

PAYEE = bytes.fromhex("0014" + "22" * 20)


@functools.lru_cache(maxsize=None)
def build_psbt(inputs: int) -> bytes:
    """Serialized PSBT spending ``inputs`` wallet coins to one payee and change."""
    desc = keys.descriptor(2, 3)
    coins = chain.fund(desc, [100_000 + n for n in range(inputs)], salt=b"qr-samples")
    total = sum(c.value for c in coins)
    outputs = [Output(PAYEE, total // 2), Output(desc.script_pubkey(1, 0).data, total // 2 - 1_000 * inputs, 0)]
    return assemble(desc, coins, outputs, 800_000).serialize()
