"""Real 2-of-3 P2WSH PSBTs for the QR tests and bench (testnet, embit).

Three cosigners from BIP-39 test mnemonics at m/48'/1'/0'/2'. Every input
carries non_witness_utxo, witness_utxo, witness_script and all three
bip32_derivations, and the PSBT has PSBT_GLOBAL_XPUB for each cosigner: the
shape a coordinator hands to a signer. Deterministic, so sizes are stable.
A later PSBT engine replaces this builder.
"""

from __future__ import annotations

import functools
import hashlib

from embit import bip32, bip39, script
from embit.networks import NETWORKS
from embit.psbt import PSBT, DerivationPath
from embit.transaction import Transaction, TransactionInput, TransactionOutput

MNEMONICS = (
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
    "legal winner thank year wave sausage worth useful legal winner thank yellow",
    "letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
)
ACCOUNT_PATH = [48 + 0x80000000, 1 + 0x80000000, 0x80000000, 2 + 0x80000000]
_NET = NETWORKS["test"]


@functools.lru_cache(maxsize=None)
def _cosigners() -> tuple[tuple[bytes, bip32.HDKey], ...]:
    out = []
    for words in MNEMONICS:
        root = bip32.HDKey.from_seed(bip39.mnemonic_to_seed(words), version=_NET["xprv"])
        xpub = root.derive(ACCOUNT_PATH).to_public()
        xpub.version = _NET["xpub"]
        out.append((root.my_fingerprint, xpub))
    return tuple(out)


def _multisig(change: int, index: int):
    keys = []
    for fingerprint, xpub in _cosigners():
        pub = xpub.derive([change, index]).key
        keys.append((pub, DerivationPath(fingerprint, ACCOUNT_PATH + [change, index])))
    keys.sort(key=lambda k: k[0].sec())  # sortedmulti
    witness_script = script.multisig(2, [pub for pub, _ in keys])
    return witness_script, script.p2wsh(witness_script), keys


def _funding_tx(n: int, script_pubkey) -> Transaction:
    # A plausible previous transaction: one input, our output and change.
    txid = hashlib.sha256(b"huddle-funding-%d" % n).digest()
    other = script.p2wpkh(_cosigners()[0][1].derive([9, n]).key)
    return Transaction(vin=[TransactionInput(txid, n % 3)],
                       vout=[TransactionOutput(100_000 + n, script_pubkey),
                             TransactionOutput(5_000_000 - n, other)])


@functools.lru_cache(maxsize=None)
def build_psbt(inputs: int) -> bytes:
    """Serialized PSBT spending ``inputs`` wallet UTXOs to one payee and change."""
    prevs, vin = [], []
    for n in range(inputs):
        witness_script, spk, keys = _multisig(0, n)
        prev = _funding_tx(n, spk)
        prevs.append((prev, witness_script, keys))
        vin.append(TransactionInput(prev.txid(), 0, sequence=0xFFFFFFFD))
    total = sum(prev.vout[0].value for prev, _, _ in prevs)
    payee = script.p2wpkh(_cosigners()[1][1].derive([7, 7]).key)
    change_ws, change_spk, change_keys = _multisig(1, 0)
    tx = Transaction(vin=vin, vout=[TransactionOutput(total // 2, payee),
                                    TransactionOutput(total // 2 - 1_000 * inputs, change_spk)])
    psbt = PSBT(tx)
    for fingerprint, xpub in _cosigners():
        psbt.xpubs[xpub] = DerivationPath(fingerprint, ACCOUNT_PATH)
    for inp, (prev, witness_script, keys) in zip(psbt.inputs, prevs):
        inp.non_witness_utxo = prev
        inp.witness_utxo = prev.vout[0]
        inp.witness_script = witness_script
        inp.bip32_derivations = {pub: path for pub, path in keys}
    out = psbt.outputs[1]
    out.witness_script = change_ws
    out.bip32_derivations = {pub: path for pub, path in change_keys}
    return psbt.serialize()
