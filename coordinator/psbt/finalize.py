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

The spend is held to what the signer checks hold it to (issue 8): the fee,
from verified amounts only, under the same ``FeePolicy`` caps; and every
amount proven by ``non_witness_utxo`` (or a synced coin), because BIP-143
signs only the amount and a wrong ``witness_utxo`` gives a transaction that
fails on chain (the segwit fee attack, CVE-2020-14199).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Iterable

from embit.psbt import PSBT, InputScope
from embit.script import Script, Witness

from ..errors import Conflict, InvalidInput
from ..wallet.descriptor import MultisigDescriptor
from . import codec
from .checks import is_change
from .fees import DEFAULT_POLICY, FeePolicy
from .model import Utxo
from .sighash import Sighasher, unsigned_tx
from .status import WalletInput, check_signature, wallet_inputs
from .summary import estimate_vsize


@dataclass(frozen=True)
class Finalized:
    tx: bytes  # the network transaction, ready to broadcast
    txid: str
    psbt: codec.Psbt  # the PSBT after BIP-174's finalizer: final scripts, no partial data


def finalize(psbt: PSBT, descriptor: MultisigDescriptor, *, policy: FeePolicy = DEFAULT_POLICY,
             coins: Iterable[Utxo] = ()) -> Finalized:
    """Finalize every input; ``incomplete`` if any lacks m valid signatures.

    ``coins``: the wallet's synced coins; one vouches for the amount of an
    input that has no ``non_witness_utxo``. Without either: ``missing_utxo``.
    """
    _refuse_final(psbt)
    inputs = dict(enumerate(wallet_inputs(psbt, descriptor)))
    _check_amounts(psbt, inputs, {(c.txid, c.vout): c for c in coins})
    _check_fee(psbt, descriptor, inputs, policy)
    return finalize_inputs(psbt, inputs, descriptor.threshold)


def _refuse_final(psbt: PSBT) -> None:
    """``already_final`` for inputs that carry final scripts and nothing to sign with."""
    final = [i for i, s in enumerate(psbt.inputs)
             if (s.final_scriptwitness is not None or s.final_scriptsig is not None) and not s.partial_sigs]
    if final:
        which = "every input" if len(final) == len(psbt.inputs) else f"input(s) {', '.join(map(str, final))}"
        raise Conflict("already_final", f"the PSBT is already final: {which} carries a final witness and no "
                       "partial signatures (finalized by Huddle or another tool). To check it against the "
                       "wallet, combine it into the unsigned PSBT, which verifies and recovers its "
                       "signatures, then finalize that", inputs=final)


def _check_amounts(psbt: PSBT, inputs: dict[int, WalletInput], coins: dict) -> None:
    """Each input's amount proven by its previous transaction, as the signer checks demand."""
    for i in inputs:
        scope = psbt.inputs[i]
        if scope.non_witness_utxo is not None:
            continue  # status.wallet_input compared it with witness_utxo and the outpoint
        coin = coins.get((scope.txid.hex(), scope.vout))
        if coin is None:
            raise InvalidInput("missing_utxo", f"input {i} has no non_witness_utxo, so its amount cannot be "
                               "verified; a wrong witness_utxo amount gives a transaction that fails on chain "
                               "(BIP-143 signs the amount)", input=i)
        if scope.witness_utxo is None or coin.verified_output().serialize() != scope.witness_utxo.serialize():
            raise InvalidInput("utxo_mismatch", f"input {i}: witness_utxo disagrees with the wallet's synced "
                               f"coin {coin.outpoint}", input=i)


def _check_fee(psbt: PSBT, descriptor: MultisigDescriptor, inputs: dict[int, WalletInput],
               policy: FeePolicy) -> None:
    """The signer checks' fee caps, over verified amounts and the same size estimate."""
    outputs_total = sum(scope.value for scope in psbt.outputs)
    fee = sum(info.value for info in inputs.values()) - outputs_total
    if fee < 0:
        raise InvalidInput("malformed_psbt", f"the outputs ({outputs_total} sat) exceed the inputs")
    vsize = estimate_vsize(descriptor, len(psbt.inputs), [s.script_pubkey.data for s in psbt.outputs])
    policy.check_fee(fee, vsize, sum(s.value for s in psbt.outputs if not is_change(s, descriptor)))


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
            check_signature(key, by_key[key], digest, where)
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
