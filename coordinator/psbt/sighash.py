"""What a signature commits to, and whether a signature is one we accept.

- ``unsigned_tx``: the transaction of a v0 or v2 PSBT (BIP-370 locktime).
- ``Sighasher``: BIP-143 digests for SIGHASH_ALL. hashPrevouts, hashSequence
  and hashOutputs are per transaction, so they are computed once; embit's
  ``PSBT.sighash_segwit`` rebuilds ``psbt.tx`` (and those hashes) for every
  input, which is quadratic: 500 inputs take seconds instead of milliseconds.
- ``parse_signature``: strict DER (BIP-66), low S (BIP-146 LOW_S, policy
  since Core 0.11.1) and SIGHASH_ALL only.
"""

from __future__ import annotations

import hashlib

from embit import compact
from embit.ec import PublicKey, Signature
from embit.misc import secp256k1
from embit.psbt import PSBT, InputScope
from embit.transaction import Transaction, TransactionInput

from ..errors import InvalidInput
from .wire import Tx, output_bytes, sha256d

SIGHASH_ALL = 0x01
FINAL_SEQUENCE = 0xFFFFFFFF
LOCKTIME_THRESHOLD = 500_000_000  # below: a block height; at or above: a unix time
_HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


# -- the unsigned transaction -------------------------------------------------

def determine_locktime(psbt: PSBT) -> int | None:
    """nLockTime: v0's own; v2 per BIP-370 "Determining Lock Time" (None if unsatisfiable)."""
    if psbt.version != 2:
        return psbt.locktime or 0
    locks = [(_required(s, b"\x12"), _required(s, b"\x11")) for s in psbt.inputs]
    locks = [(h, t) for h, t in locks if h is not None or t is not None]
    if not locks:
        return psbt.locktime or 0  # PSBT_GLOBAL_FALLBACK_LOCKTIME, default 0
    if all(h is not None for h, _ in locks):  # height wins when both are possible
        return max(h for h, _ in locks)
    if all(t is not None for _, t in locks):
        return max(t for _, t in locks)
    return None


def _required(scope: InputScope, key: bytes) -> int | None:
    value = scope.unknown.get(key)  # embit keeps PSBT_IN_REQUIRED_*_LOCKTIME as unknowns
    return None if value is None else int.from_bytes(value, "little")


def unsigned_tx(psbt: PSBT) -> Transaction:
    """The transaction every signature commits to (no scriptSigs, no witnesses)."""
    locktime = determine_locktime(psbt)
    if locktime is None:
        raise InvalidInput("malformed_psbt", "inputs require both a height and a time locktime")
    vin = [TransactionInput(s.txid, s.vout, sequence=FINAL_SEQUENCE if s.sequence is None else s.sequence)
           for s in psbt.inputs]
    version = 2 if psbt.tx_version is None else psbt.tx_version
    return Tx(version=version, vin=vin, vout=[o.vout for o in psbt.outputs], locktime=locktime)


# -- BIP-143 ------------------------------------------------------------------

class Sighasher:
    """BIP-143 SIGHASH_ALL digests of one transaction, with the per-tx hashes cached."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self._outpoints = [i.txid[::-1] + i.vout.to_bytes(4, "little") for i in tx.vin]
        self._sequences = [i.sequence.to_bytes(4, "little") for i in tx.vin]
        prevouts, sequences = b"".join(self._outpoints), b"".join(self._sequences)
        outputs = b"".join(output_bytes(o) for o in tx.vout)
        # items 1-3 of the preimage are the same for every input: hash them once
        self._head = hashlib.sha256(tx.version.to_bytes(4, "little") + sha256d(prevouts)
                                    + sha256d(sequences))
        self._tail = sha256d(outputs) + tx.locktime.to_bytes(4, "little") \
            + SIGHASH_ALL.to_bytes(4, "little")

    def digest(self, index: int, script_code: bytes, value: int) -> bytes:
        """The digest input ``index`` signs, spending ``value`` sat locked by ``script_code``.

        ``script_code`` is the witness script itself (P2WSH), without its length prefix.
        """
        if not 0 <= index < len(self._outpoints):
            raise IndexError(f"no input {index}")
        h = self._head.copy()
        h.update(b"".join((self._outpoints[index], compact.to_bytes(len(script_code)), script_code,
                           value.to_bytes(8, "little"), self._sequences[index], self._tail)))
        return hashlib.sha256(h.digest()).digest()


# -- signatures -----------------------------------------------------------------

def parse_signature(sig: bytes, where: str = "") -> Signature:
    """The ECDSA signature in a ``partial_sigs`` value (DER + sighash byte), strictly.

    Raises ``bad_sighash_type`` unless the last byte is SIGHASH_ALL (the only
    standard ECDSA type we accept; 0x00 "DEFAULT" exists only in taproot),
    ``invalid_signature`` unless the DER is strict and S is low.
    """
    prefix = f"{where}: " if where else ""
    if not sig:
        raise InvalidInput("invalid_signature", f"{prefix}an empty signature")
    if sig[-1] != SIGHASH_ALL:
        raise InvalidInput("bad_sighash_type",
                           f"{prefix}sighash type 0x{sig[-1]:02x}; only SIGHASH_ALL (0x01) is accepted")
    if not is_strict_der(sig):
        raise InvalidInput("invalid_signature", f"{prefix}the signature is not strict DER (BIP-66)")
    len_r = sig[3]
    s = int.from_bytes(sig[6 + len_r:-1], "big")
    if s > _HALF_ORDER:  # malleable, and non-standard since Core 0.11.1
        raise InvalidInput("invalid_signature", f"{prefix}the signature has a high S value (BIP-146)")
    try:
        return Signature(secp256k1.ecdsa_signature_parse_der(sig[:-1]))  # strict DER checked above
    except ValueError:  # libsecp256k1 refuses r or s out of range
        raise InvalidInput("invalid_signature", f"{prefix}the signature does not parse") from None


def is_strict_der(sig: bytes) -> bool:
    """BIP-66 IsValidSignatureEncoding, on a signature with its sighash byte."""
    if not 9 <= len(sig) <= 73 or sig[0] != 0x30 or sig[1] != len(sig) - 3:
        return False
    len_r = sig[3]
    if 5 + len_r >= len(sig):
        return False
    len_s = sig[5 + len_r]
    if len_r + len_s + 7 != len(sig):
        return False
    if sig[2] != 0x02 or len_r == 0 or sig[4] & 0x80:
        return False
    if len_r > 1 and sig[4] == 0 and not sig[5] & 0x80:
        return False
    if sig[len_r + 4] != 0x02 or len_s == 0 or sig[len_r + 6] & 0x80:
        return False
    return not (len_s > 1 and sig[len_r + 6] == 0 and not sig[len_r + 7] & 0x80)


def verify(pubkey: PublicKey, sig: bytes, digest: bytes, where: str = "") -> None:
    """Raise unless ``sig`` (with its sighash byte) is ``pubkey``'s valid signature of ``digest``."""
    if not pubkey.verify(parse_signature(sig, where), digest):
        prefix = f"{where}: " if where else ""
        raise InvalidInput("invalid_signature",
                           f"{prefix}the signature does not verify against our sighash")
