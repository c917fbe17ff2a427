"""Who has signed what: per input and per cosigner, and how many more are needed.

Also the one place that says which keys may sign an input (``wallet_input``)
and whether a signature verifies (``signature_error``): merge and finalize use
both. Status counts only signatures that verify (issue 8: garbage keyed by
two cosigners must not read "complete"). The keys come from the descriptor, never from
the PSBT: the input's BIP-32 derivation only tells us *which* address index
to derive, and the derived witness script must then equal the input's.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from embit.psbt import PSBT, InputScope
from embit.script import Script, p2sh, p2wsh

from ..errors import InvalidInput
from ..wallet.descriptor import CHANGE, RECEIVE, MultisigDescriptor, multisig_script
from .scopes import signing_key
from .sighash import Sighasher, unsigned_tx, verify


@dataclass(frozen=True)
class WalletInput:
    """One input as the wallet sees it: its script, its signers and its value."""

    index: int
    witness_script: bytes
    redeem_script: bytes | None  # the P2WSH program, for sh-wsh
    keys: tuple[tuple[bytes, int], ...]  # (pubkey, cosigner position), in witness-script order
    value: int  # satoshis of the coin being spent

    def cosigner(self, pubkey: bytes) -> int | None:
        for key, position in self.keys:
            if key == pubkey:
                return position
        return None


def wallet_inputs(psbt: PSBT, descriptor: MultisigDescriptor) -> list[WalletInput]:
    return [wallet_input(psbt, i, descriptor) for i in range(len(psbt.inputs))]


def wallet_input(psbt: PSBT, i: int, descriptor: MultisigDescriptor) -> WalletInput:
    """Input ``i`` checked against the descriptor; ``foreign_input`` if it is not the wallet's."""
    scope = psbt.inputs[i]
    utxo = _utxo(scope, i)
    for branch, index in _candidate_indexes(scope, descriptor):
        keys, script = _derive(descriptor, branch, index)
        spk, redeem = _script_pubkey(descriptor, script)
        if spk == utxo.script_pubkey.data and _same(scope.witness_script, script):
            return WalletInput(i, script, redeem, _in_script_order(descriptor, keys), utxo.value)
    raise InvalidInput("foreign_input", f"input {i} does not pay to this wallet's script")


def _utxo(scope: InputScope, i: int):
    witness = scope.witness_utxo
    legacy = scope.non_witness_utxo.vout[scope.vout] \
        if scope.non_witness_utxo is not None and scope.vout < len(scope.non_witness_utxo.vout) else None
    if witness is None and legacy is None:
        raise InvalidInput("missing_utxo", f"input {i} has neither witness_utxo nor non_witness_utxo")
    if legacy is not None and scope.non_witness_utxo.txid() != scope.txid:
        raise InvalidInput("utxo_mismatch", f"input {i}: non_witness_utxo is not the transaction it spends")
    if witness is not None and legacy is not None and witness.serialize() != legacy.serialize():
        # the segwit fee attack: a witness_utxo that lies about the amount
        raise InvalidInput("utxo_mismatch", f"input {i}: witness_utxo disagrees with non_witness_utxo")
    return witness or legacy


def _candidate_indexes(scope: InputScope, descriptor: MultisigDescriptor) -> list[tuple[int, int]]:
    """(branch, index) pairs the input's derivations claim for any of our cosigners."""
    origins = {(c.origin.fingerprint, tuple(c.origin.path)) for c in descriptor.cosigners}
    found = []
    for derivation in scope.bip32_derivations.values():
        path = tuple(derivation.derivation)
        if len(path) >= 2 and (derivation.fingerprint, path[:-2]) in origins \
                and path[-2] in (RECEIVE, CHANGE) and path[-1] < 2**31 and path[-2:] not in found:
            found.append(path[-2:])
    return found


@functools.lru_cache(maxsize=8192)  # merge, status and finalize ask again for each input
def _derive(descriptor: MultisigDescriptor, branch: int, index: int) -> tuple[tuple[bytes, ...], bytes]:
    """Each cosigner's child key, and the witness script over them (in script order).

    Same script as ``descriptor.witness_script`` (a test holds them equal),
    built from the keys so that each key is derived once, not twice.
    """
    keys = tuple(c.child_pubkey(branch, index) for c in descriptor.cosigners)
    ordered = sorted(keys) if descriptor.sorted else list(keys)  # BIP-67
    return keys, multisig_script(descriptor.threshold, ordered)


def _script_pubkey(descriptor: MultisigDescriptor, witness_script: bytes) -> tuple[bytes, bytes | None]:
    program = p2wsh(Script(witness_script))
    if descriptor.script_type == "wsh":
        return program.data, None
    return p2sh(program).data, program.data


def _same(stored: Script | None, script: bytes) -> bool:
    return stored is None or stored.data == script  # a stripped PSBT may omit it


def _in_script_order(descriptor: MultisigDescriptor, keys: tuple[bytes, ...]) -> tuple:
    pairs = [(key, pos) for pos, key in enumerate(keys)]
    return tuple(sorted(pairs) if descriptor.sorted else pairs)


# -- signatures -----------------------------------------------------------------

@functools.lru_cache(maxsize=16384)  # merge, status and finalize check the same signatures again
def signature_error(pubkey: bytes, sig: bytes, digest: bytes) -> tuple[str, str] | None:
    """None if ``sig`` is ``pubkey``'s valid SIGHASH_ALL signature of ``digest``, else (code, message)."""
    try:
        verify(signing_key(pubkey), sig, digest)
    except InvalidInput as err:
        return err.code, err.message
    return None


def check_signature(pubkey: bytes, sig: bytes, digest: bytes, where: str) -> None:
    """Raise ``invalid_signature`` (or ``bad_sighash_type``) unless the signature verifies."""
    error = signature_error(pubkey, sig, digest)
    if error is not None:
        raise InvalidInput(error[0], f"{where}: {error[1]}")


def classify(info: WalletInput, scope: InputScope, hasher: Sighasher) -> tuple[list, list, list[bytes]]:
    """The input's held signatures: cosigner positions whose signature verifies, those whose
    does not, and the keys of signatures by anyone else (finalize refuses the last two)."""
    good, bad, foreign, digest = [], [], [], None
    for pub, sig in scope.partial_sigs.items():
        position = info.cosigner(pub.sec())
        if position is None:
            foreign.append(pub.sec())
            continue
        digest = digest or hasher.digest(info.index, info.witness_script, info.value)
        (bad if signature_error(pub.sec(), sig, digest) else good).append(position)
    return sorted(good), sorted(bad), foreign


# -- status -------------------------------------------------------------------

@dataclass(frozen=True)
class InputStatus:
    index: int
    signed_by: tuple[str, ...]  # fingerprints of the cosigners with a valid signature here
    needed: int  # signatures still missing on this input
    invalid: tuple[str, ...] = ()  # fingerprints whose signature here does not verify (not counted)
    foreign: tuple[str, ...] = ()  # hex keys, not this input's cosigners, with a signature here


@dataclass(frozen=True)
class CosignerStatus:
    position: int  # in the descriptor
    fingerprint: str
    signed_inputs: tuple[int, ...]
    done: bool  # has signed every input


@dataclass(frozen=True)
class Status:
    threshold: int
    inputs: tuple[InputStatus, ...]
    cosigners: tuple[CosignerStatus, ...]
    needed: int  # more signers needed: the most any input still lacks
    complete: bool  # every input has `threshold` valid signatures and none that finalize refuses

    def problems(self) -> list[str]:
        """One line per held signature that does not verify or is by a stranger (empty when none)."""
        bad = [f"input {s.index}: the signature by {fp} does not verify; it is not counted "
               "(ask that cosigner to sign again)" for s in self.inputs for fp in s.invalid]
        return bad + [f"input {s.index}: a signature by {key}, not one of this input's cosigners"
                      for s in self.inputs for key in s.foreign]

    def headline(self) -> str:
        """One line: complete, how many signatures are missing, or what blocks finalizing."""
        if self.complete:
            return "Complete: ready to finalize."
        if self.needed:
            return f"Needs {self.needed} more signature(s) of {self.threshold}."
        return ("Enough valid signatures, but finalize refuses while the signatures above are held; "
                "combine this PSBT with any signer's file to drop them.")


def status(psbt: PSBT, descriptor: MultisigDescriptor) -> Status:
    """Counts the wallet's keys' partial signatures that verify against our own sighash."""
    m, fps = descriptor.threshold, [c.fingerprint for c in descriptor.cosigners]
    inputs, by_cosigner = [], [[] for _ in fps]
    hasher = Sighasher(unsigned_tx(psbt))
    for info in wallet_inputs(psbt, descriptor):
        signers, bad, foreign = classify(info, psbt.inputs[info.index], hasher)
        for pos in signers:
            by_cosigner[pos].append(info.index)
        inputs.append(InputStatus(info.index, tuple(fps[p] for p in signers), max(0, m - len(signers)),
                                  tuple(fps[p] for p in bad), tuple(key.hex() for key in foreign)))
    cosigners = tuple(CosignerStatus(pos, fps[pos], tuple(signed), len(signed) == len(inputs))
                      for pos, signed in enumerate(by_cosigner))
    needed = max((s.needed for s in inputs), default=0)
    clean = not any(s.invalid or s.foreign for s in inputs)
    return Status(m, tuple(inputs), cosigners, needed, needed == 0 and clean)
