"""Our own checked finalizer and extractor for the wallet's script types:
P2WSH and P2SH-P2WSH over ``multi``/``sortedmulti``.

embit's ``finalize_psbt`` puts whatever partial signatures it finds into the
witness without verifying them (BRIEF, "PSBT rules"), so a bad signature
only shows up when the node rejects the broadcast. Here every signature of
the wallet's keys is verified against our own sighash first, and any
signature that fails, or any foreign one, refuses the whole finalization.

CHECKMULTISIG wants the signatures in the order of the keys in the witness
script (for ``sortedmulti`` that is BIP-67 order, not the descriptor's), and
exactly m of them after the dummy element. With more than m, we keep the
first m in script order, as rust-miniscript (so BDK) does.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from embit.psbt import PSBT, InputScope
from embit.script import Script, Witness

from ..errors import Conflict, InvalidInput
from ..wallet.descriptor import MultisigDescriptor
from . import codec
from .sighash import Sighasher, unsigned_tx, verify
from .status import WalletInput, wallet_inputs


@dataclass(frozen=True)
class Finalized:
    tx: bytes  # the network transaction, ready to broadcast
    txid: str
    psbt: codec.Psbt  # the PSBT after BIP-174's finalizer: final scripts, no partial data


def finalize(psbt: PSBT, descriptor: MultisigDescriptor) -> Finalized:
    """Finalize every input; ``incomplete`` if any lacks m valid signatures."""
    inputs = dict(enumerate(wallet_inputs(psbt, descriptor)))
    return finalize_inputs(psbt, inputs, descriptor.threshold)


def finalize_inputs(psbt: PSBT, inputs: dict[int, WalletInput], threshold: int) -> Finalized:
    """Finalize the ``inputs`` given; any other input must already carry its final scripts."""
    tx = unsigned_tx(psbt)
    hasher = Sighasher(tx)
    finalized = codec.copy(psbt)
    for i, scope in enumerate(finalized.inputs):
        if i not in inputs:
            if scope.final_scriptsig is None and scope.final_scriptwitness is None:
                raise Conflict("incomplete", f"input {i} is not the wallet's and is not finalized")
            tx.vin[i].script_sig = scope.final_scriptsig or Script(b"")
            tx.vin[i].witness = scope.final_scriptwitness or Witness([])
            continue
        info = inputs[i]
        sigs = _signatures(info, scope, hasher, threshold)
        witness = Witness([b"", *sigs, info.witness_script])  # b"": CHECKMULTISIG's extra pop
        script_sig = Script(bytes([len(info.redeem_script)]) + info.redeem_script) \
            if info.redeem_script else Script(b"")
        tx.vin[i].witness, tx.vin[i].script_sig = witness, script_sig
        _finalize_scope(scope, witness, script_sig)
    return Finalized(tx.serialize(), tx.txid().hex(), finalized)


def _signatures(info: WalletInput, scope: InputScope, hasher: Sighasher, m: int) -> list[bytes]:
    """The first m signatures in witness-script order, after verifying all of them."""
    where = f"input {info.index}"
    by_key = {pub.sec(): sig for pub, sig in scope.partial_sigs.items()}
    foreign = set(by_key) - {key for key, _ in info.keys}
    if foreign:
        raise InvalidInput("foreign_key", f"{where}: a signature by {foreign.pop().hex()}, "
                           "which is not one of this input's cosigners")
    digest = hasher.digest(info.index, info.witness_script, info.value)
    ordered = []
    for key, _ in info.keys:
        if key in by_key:
            pub = next(p for p in scope.partial_sigs if p.sec() == key)
            verify(pub, by_key[key], digest, where)
            ordered.append(by_key[key])
    if len(ordered) < m:
        raise Conflict("incomplete", f"{where} has {len(ordered)} of the {m} signatures it needs")
    return ordered[:m]


def _finalize_scope(scope: InputScope, witness: Witness, script_sig: Script) -> None:
    """BIP-174 input finalizer: keep the utxos and unknowns, drop what signing needed."""
    scope.final_scriptwitness = witness
    scope.final_scriptsig = script_sig if script_sig.data else None
    scope.partial_sigs = OrderedDict()
    scope.bip32_derivations = OrderedDict()
    scope.sighash_type = None
    scope.redeem_script = None
    scope.witness_script = None
