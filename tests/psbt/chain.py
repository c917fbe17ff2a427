"""Test coins with real previous transactions, and real signatures.

``fund`` makes previous transactions paying to the wallet's own addresses,
so ``non_witness_utxo`` hashes to the outpoint exactly as on a real chain.
``sign`` signs with the test seeds' private keys, as a device would.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

from embit.psbt import PSBT
from embit.script import Script
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from coordinator.psbt.model import Utxo
from coordinator.wallet.descriptor import MultisigDescriptor

from .. import keys


def prev_tx(outputs: Sequence[tuple[bytes, int]], salt: bytes = b"") -> Transaction:
    """A transaction paying ``outputs``; its one input is a made-up outpoint."""
    seed = hashlib.sha256(b"huddle-test-funding" + salt).digest()
    vin = [TransactionInput(seed, 0, script_sig=Script(b"\x01\x01"), sequence=0xFFFFFFFF)]
    vout = [TransactionOutput(value, Script(spk)) for spk, value in outputs]
    return Transaction(version=2, vin=vin, vout=vout, locktime=0)


def fund(desc: MultisigDescriptor, amounts: Sequence[int], branch: int = 0, first_index: int = 0,
         salt: bytes = b"") -> list[Utxo]:
    """One previous transaction per amount, each paying the next address."""
    utxos = []
    for i, amount in enumerate(amounts):
        index = first_index + i
        spk = desc.script_pubkey(branch, index).data
        # an unrelated first output makes vout non-zero, as on a real chain
        tx = prev_tx([(bytes.fromhex("0014" + "11" * 20), 1000 + i), (spk, amount)],
                     salt + f"{branch}/{index}/{amount}".encode())
        utxos.append(Utxo.from_prev_tx(tx.serialize(), 1, branch, index))
    return utxos


def sign(psbt: PSBT, signers: Sequence[int], is_test: bool = True, script_type: str = "wsh") -> PSBT:
    """A copy of ``psbt`` signed by the test seeds ``signers`` (indexes into keys.MNEMONICS)."""
    signed = PSBT.parse(psbt.serialize())
    for i in signers:
        signed.sign_with(keys.root(i))
    return signed
