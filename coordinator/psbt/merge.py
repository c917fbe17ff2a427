"""Taking in signatures: a signer's PSBT merged into our stored copy, safely.

Signers send back whatever they like: stripped (SeedSigner, Krux drop the
utxos and derivations), re-serialized or turned into v0 (Coldcard), or v2.
So we never combine PSBTs field by field (BIP-174's combiner would let a
signer overwrite a ``witness_utxo``: the segwit fee attack). We take only
``partial_sigs``, only for the keys the descriptor derives for that input,
and only after checking each against our own sighash. Everything in the
submission is checked before anything is taken: one bad signature rejects
the whole submission, with a code saying why.

The merge is idempotent and commutative: a signature we already hold is
skipped; two different valid signatures by one key (devices with anti-exfil
nonces sign differently each time) resolve to the smaller encoding; and
``partial_sigs`` are kept sorted by public key, as Bitcoin Core writes them.
What we hold is verified too (issue 8: garbage in the first file must not
block a valid signature): a valid signature replaces a held one that does
not verify, held signatures that do not verify or are by strangers are
dropped from the result (``dropped``), and a key offered twice (a final
witness repeating a signature) counts once.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from embit.ec import PublicKey
from embit.psbt import PSBT, InputScope

from ..errors import InvalidInput
from ..wallet.descriptor import MultisigDescriptor
from . import codec
from .sighash import Sighasher, unsigned_tx
from .status import Status, WalletInput, check_signature, classify, signature_error, status, wallet_inputs


@dataclass(frozen=True)
class MergeResult:
    psbt: codec.Psbt  # a new PSBT: the stored one plus the new signatures
    added: dict[str, list[int]]  # cosigner fingerprint -> inputs that gained its signature
    status: Status
    # held signatures that were not kept: cosigner fingerprint (or a stranger's key, hex) -> inputs
    dropped: dict[str, list[int]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.added)


def merge(stored: PSBT, incoming: PSBT | bytes | str, descriptor: MultisigDescriptor,
          max_size: int = codec.MAX_PSBT_BYTES) -> MergeResult:
    """``stored`` with the verified signatures of ``incoming``; neither is modified."""
    theirs = _parse(incoming, max_size, unsigned_tx(stored))
    ours = dict(enumerate(wallet_inputs(stored, descriptor)))
    taken = take_signatures(stored, theirs, ours)
    result = codec.copy(stored)
    added: dict[str, list[int]] = {}
    for i, pub, sig, is_new in taken:
        result.inputs[i].partial_sigs[pub] = sig
        if is_new:
            fingerprint = descriptor.cosigners[ours[i].cosigner(pub.sec())].fingerprint
            added.setdefault(fingerprint, []).append(i)
    dropped = _drop_unverified(result, ours, descriptor)
    for scope in result.inputs:
        scope.partial_sigs = OrderedDict(sorted(scope.partial_sigs.items(), key=lambda kv: kv[0].sec()))
    return MergeResult(result, added, status(result, descriptor), dropped)


def _drop_unverified(psbt: PSBT, inputs: dict[int, WalletInput], descriptor: MultisigDescriptor) -> dict:
    """Remove the held signatures finalize would refuse; who lost which inputs."""
    hasher, dropped = Sighasher(unsigned_tx(psbt)), {}
    for i, info in inputs.items():
        scope = psbt.inputs[i]
        _, bad, foreign = classify(info, scope, hasher)
        if not bad and not foreign:
            continue
        bad_keys = {key for key, position in info.keys if position in bad}
        for pub in [pub for pub in scope.partial_sigs if pub.sec() in bad_keys or pub.sec() in foreign]:
            position = info.cosigner(pub.sec())
            who = pub.sec().hex() if position is None else descriptor.cosigners[position].fingerprint
            dropped.setdefault(who, []).append(i)
            del scope.partial_sigs[pub]
    return dropped


def take_signatures(stored: PSBT, theirs: PSBT, inputs: dict[int, WalletInput]) -> list[tuple]:
    """(input, pubkey, signature, is_new) to write into ``stored``, all checked.

    ``inputs`` says which keys may sign which input; a signature on any other
    input, or by any other key, is ``foreign_key``. Raises on the first bad one.
    """
    tx = unsigned_tx(stored)
    check_same_transaction(tx, unsigned_tx(theirs))
    hasher, taken = Sighasher(tx), []
    for i, scope in enumerate(theirs.inputs):
        if i in inputs:
            taken += _take(inputs[i], stored.inputs[i], scope, hasher)
        elif scope.partial_sigs:
            raise InvalidInput("foreign_key", f"input {i} is not one this wallet can sign")
    return taken


def _parse(incoming: PSBT | bytes | str, max_size: int, tx) -> codec.Psbt:
    if isinstance(incoming, PSBT):  # re-read our way: strict checks, and no shared objects
        incoming = incoming.serialize()
    # another transaction is refused before its maps become objects (issue 8: bounded memory)
    return codec.parse(incoming, max_size, expect=lambda theirs: check_same_transaction(tx, theirs))


def _take(info: WalletInput, mine: InputScope, theirs: InputScope, hasher: Sighasher) -> list:
    offered = _offered(info, theirs, hasher)
    if not offered:
        return []
    digest, where = hasher.digest(info.index, info.witness_script, info.value), f"input {info.index}"
    best: dict[bytes, tuple] = {}  # key -> (pubkey, its smallest valid new signature)
    for pub, sig in offered:
        key = pub.sec()
        if info.cosigner(key) is None:
            raise InvalidInput("foreign_key", f"{where}: a signature by {key.hex()}, "
                               "which is not one of this input's cosigners")
        if mine.partial_sigs.get(pub) == sig:
            continue  # what we hold, echoed back: nothing new (status says if it verifies)
        check_signature(key, sig, digest, where)
        if key not in best or sig < best[key][1]:
            best[key] = (pub, sig)
    taken = []
    for key, (pub, sig) in best.items():
        held = mine.partial_sigs.get(pub)
        held_ok = held is not None and signature_error(key, held, digest) is None
        if not held_ok or sig < held:
            taken.append((info.index, pub, sig, not held_ok))  # new unless a valid one was held
    return taken


def _offered(info: WalletInput, theirs: InputScope, hasher: Sighasher) -> list:
    """The (pubkey, signature) pairs a signer sent for this input.

    A signer that completed the threshold may send the input finalized
    (Sparrow, Coldcard): its signatures then sit in the final witness with
    no keys named, so each is matched to the wallet key it verifies for.
    """
    if theirs.partial_sigs or theirs.final_scriptwitness is None:
        return list(theirs.partial_sigs.items())
    items = list(theirs.final_scriptwitness.items)
    where = f"input {info.index}"
    if len(items) < 3 or items[0] != b"" or items[-1] != info.witness_script:
        raise InvalidInput("foreign_key", f"{where}: the final witness is not this wallet's multisig")
    digest = hasher.digest(info.index, info.witness_script, info.value)
    keys = [PublicKey.parse(key) for key, _ in info.keys]
    return [(_signer_of(sig, keys, digest, where), sig) for sig in items[1:-1]]


def _signer_of(sig: bytes, keys: list, digest: bytes, where: str):
    for key in keys:
        error = signature_error(key.sec(), sig, digest)
        if error is None:
            return key
        if error[0] != "invalid_signature":
            raise InvalidInput(error[0], f"{where}: {error[1]}")
    raise InvalidInput("invalid_signature", f"{where}: a final-witness signature verifies for no cosigner")


def check_same_transaction(ours, theirs) -> None:
    """``different_transaction`` unless both unsigned transactions are the same, byte for byte."""
    if ours.serialize() == theirs.serialize():
        return
    raise InvalidInput("different_transaction",
                       f"the signed PSBT is for a different transaction: {_difference(ours, theirs)}")


def _difference(ours, theirs) -> str:
    if (ours.version, ours.locktime) != (theirs.version, theirs.locktime):
        return "its version or locktime differs"
    if len(ours.vin) != len(theirs.vin) or len(ours.vout) != len(theirs.vout):
        return (f"it has {len(theirs.vin)} inputs and {len(theirs.vout)} outputs, "
                f"not {len(ours.vin)} and {len(ours.vout)}")
    for i, (a, b) in enumerate(zip(ours.vin, theirs.vin)):
        if a.serialize() != b.serialize():
            return f"input {i} spends another coin or has another sequence"
    for i, (a, b) in enumerate(zip(ours.vout, theirs.vout)):
        if a.serialize() != b.serialize():
            return f"output {i} pays another amount or address"
    return "it differs"
