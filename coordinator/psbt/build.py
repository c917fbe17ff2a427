"""Assembling a PSBT from chosen coins and outputs, with every field a
signer needs (BRIEF "PSBT rules"): global xpubs of all cosigners, BIP-32
derivations on inputs and change, witness and redeem scripts, and both
``witness_utxo`` and ``non_witness_utxo`` on every input.

Choosing coins, fees and change is ``spend.py``'s job; this module only
writes down a decided transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from embit.bip32 import HDKey
from embit.ec import PublicKey
from embit.psbt import PSBT, DerivationPath
from embit.script import Script, p2wsh
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from ..wallet.descriptor import CHANGE, MultisigDescriptor
from .model import Utxo

SEQUENCE_RBF = 0xFFFFFFFD  # BIP-125 replaceable, and lets nLockTime apply
TX_VERSION = 2


@dataclass(frozen=True)
class Output:
    """One output: a script and satoshis; ``change_index`` marks our change."""

    script_pubkey: bytes
    value: int
    change_index: int | None = None


def assemble(descriptor: MultisigDescriptor, inputs: Sequence[Utxo], outputs: Sequence[Output],
             locktime: int) -> PSBT:
    """The unsigned PSBT (v0) spending ``inputs`` to ``outputs``, in that order."""
    tx = Transaction(
        version=TX_VERSION,
        vin=[TransactionInput(bytes.fromhex(u.txid), u.vout, sequence=SEQUENCE_RBF) for u in inputs],
        vout=[TransactionOutput(o.value, Script(o.script_pubkey)) for o in outputs],
        locktime=locktime,
    )
    psbt = PSBT(tx, unknown={})  # embit's default dict is shared between instances
    for scope in (*psbt.inputs, *psbt.outputs):
        scope.unknown = {}  # so are the scopes' (InputScope(unknown={}))
    for cosigner in descriptor.cosigners:
        key = HDKey.from_string(cosigner.xpub)
        psbt.xpubs[key] = DerivationPath(cosigner.origin.fingerprint, list(cosigner.origin.path))
    for scope, utxo in zip(psbt.inputs, inputs):
        prev = Transaction.parse(utxo.prev_tx)
        scope.non_witness_utxo = prev
        scope.witness_utxo = prev.vout[utxo.vout]
        _add_scripts(scope, descriptor, utxo.branch, utxo.index)
    for scope, output in zip(psbt.outputs, outputs):
        if output.change_index is not None:
            _add_scripts(scope, descriptor, CHANGE, output.change_index)
    return psbt


def _add_scripts(scope, descriptor: MultisigDescriptor, branch: int, index: int) -> None:
    """witness_script, redeem_script (nested) and a derivation for every key."""
    ws = descriptor.witness_script(branch, index)
    scope.witness_script = ws
    if descriptor.script_type == "sh-wsh":
        scope.redeem_script = p2wsh(ws)
    for cosigner in descriptor.cosigners:
        pub = PublicKey.parse(cosigner.child_pubkey(branch, index))
        path = [*cosigner.origin.path, branch, index]
        scope.bip32_derivations[pub] = DerivationPath(cosigner.origin.fingerprint, path)
