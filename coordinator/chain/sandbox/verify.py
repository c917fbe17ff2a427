"""Script verification for the sandbox: BIP-143 sighash, ECDSA, Core's VerifyScript.

Independent of ``coordinator/psbt`` on purpose: it is a second opinion on
every signature Huddle produces. What it verifies:

- P2WPKH, P2WSH and P2SH-P2WSH (and P2SH-P2WPKH) inputs, with the witness
  script evaluated by ``interpreter.py`` (so multisig is real
  OP_CHECKMULTISIG: key order, the NULLDUMMY element, NULLFAIL, CLEANSTACK);
- signatures over the BIP-143 digest for every sighash type (ALL, NONE,
  SINGLE, with or without ANYONECANPAY), checked by libsecp256k1 (embit's
  ctypes binding), strict DER (BIP-66) and low S (policy).

Any other prevout (P2PKH, P2TR, bare scripts) is refused with
``bad-txns-nonstandard-inputs``: a sandbox-only answer, not Core's.
Failures are named as Core names them: the script is run with the standard
flags, and if it fails it is run again with the mandatory flags only, to
tell ``non-mandatory-script-verify-flag (...)`` from
``mandatory-script-verify-flag-failed (...)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from embit.util import secp256k1

from . import interpreter as it
from .tx import Tx, TxOut, hash160, iter_script, sha256, sha256d, varint

SIGHASH_ALL, SIGHASH_NONE, SIGHASH_SINGLE, ANYONECANPAY = 1, 2, 3, 0x80
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class Unsupported(Exception):
    """An input the sandbox cannot verify (and therefore refuses)."""


@dataclass
class Precomputed:
    """BIP-143's three hashes, computed once per transaction."""

    prevouts: bytes
    sequences: bytes
    outputs: bytes

    @classmethod
    def of(cls, tx: Tx) -> "Precomputed":
        return cls(
            sha256d(b"".join(bytes.fromhex(i.prev_txid)[::-1] + i.prev_vout.to_bytes(4, "little") for i in tx.vin)),
            sha256d(b"".join(i.sequence.to_bytes(4, "little") for i in tx.vin)),
            sha256d(b"".join(_ser_out(o) for o in tx.vout)),
        )


def _ser_out(out: TxOut) -> bytes:
    return out.value.to_bytes(8, "little", signed=True) + varint(len(out.script_pubkey)) + out.script_pubkey


def sighash_v0(tx: Tx, index: int, script_code: bytes, amount: int, hashtype: int,
               pre: Precomputed | None = None) -> bytes:
    """The BIP-143 digest input ``index`` signs with ``hashtype``."""
    pre = pre or Precomputed.of(tx)
    base, acp = hashtype & 0x1F, hashtype & ANYONECANPAY
    zero = bytes(32)
    prevouts = zero if acp else pre.prevouts
    sequences = pre.sequences if not acp and base not in (SIGHASH_NONE, SIGHASH_SINGLE) else zero
    if base not in (SIGHASH_NONE, SIGHASH_SINGLE):
        outputs = pre.outputs
    elif base == SIGHASH_SINGLE and index < len(tx.vout):
        outputs = sha256d(_ser_out(tx.vout[index]))
    else:
        outputs = zero
    txin = tx.vin[index]
    preimage = b"".join([
        (tx.version % (1 << 32)).to_bytes(4, "little"), prevouts, sequences,
        bytes.fromhex(txin.prev_txid)[::-1], txin.prev_vout.to_bytes(4, "little"),
        varint(len(script_code)), script_code, amount.to_bytes(8, "little", signed=True),
        txin.sequence.to_bytes(4, "little"), outputs, tx.locktime.to_bytes(4, "little"),
        hashtype.to_bytes(4, "little"),
    ])
    return sha256d(preimage)


def ecdsa_verify(der: bytes, pubkey: bytes, digest: bytes) -> bool:
    """Core's CPubKey::Verify: lax DER (strictness is checked earlier), S normalized."""
    if not it.is_valid_der(der + b"\x01"):
        return False
    r, s = it.der_r_s(der + b"\x01")
    if not (0 < r < N and 0 < s < N):
        return False
    try:
        point = secp256k1.ec_pubkey_parse(pubkey)
        sig = secp256k1.ecdsa_signature_parse_compact(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    except ValueError:
        return False
    return secp256k1.ecdsa_verify(secp256k1.ecdsa_signature_normalize(sig), digest, point)


class InputChecker:
    """Signature checks for one input of one transaction (segwit v0)."""

    def __init__(self, tx: Tx, index: int, amount: int, pre: Precomputed) -> None:
        self.tx, self.index, self.amount, self.pre = tx, index, amount, pre

    def __call__(self, sig: bytes, pubkey: bytes, script_code: bytes) -> bool:
        if not sig:
            return False
        digest = sighash_v0(self.tx, self.index, script_code, self.amount, sig[-1], self.pre)
        return ecdsa_verify(sig[:-1], pubkey, digest)


def _push_only(script: bytes) -> bool:
    try:
        return all(op <= 0x60 for op, _ in iter_script(script))
    except ValueError:
        return False


def _witness_program(spk: bytes) -> tuple[int, bytes] | None:
    if 4 <= len(spk) <= 42 and (spk[0] == 0 or 0x51 <= spk[0] <= 0x60) and spk[1] + 2 == len(spk):
        return (0 if spk[0] == 0 else spk[0] - 0x50), spk[2:]
    return None


def _is_p2sh(spk: bytes) -> bool:
    return len(spk) == 23 and spk[0] == 0xA9 and spk[1] == 0x14 and spk[22] == 0x87


def _run_witness(version: int, program: bytes, witness: list[bytes], flags: int, check) -> None:
    """Core's VerifyWitnessProgram + ExecuteWitnessScript, for version 0."""
    if version != 0:
        raise Unsupported(f"witness version {version} outputs are not verified by the sandbox")
    stack = list(witness)
    if len(program) == 32:
        if not stack:
            raise it.ScriptFailure("WITNESS_PROGRAM_WITNESS_EMPTY")
        script = stack.pop()
        if sha256(script) != program:
            raise it.ScriptFailure("WITNESS_PROGRAM_MISMATCH")
    elif len(program) == 20:
        if len(stack) != 2:
            raise it.ScriptFailure("WITNESS_PROGRAM_MISMATCH")
        script = b"\x76\xa9\x14" + program + b"\x88\xac"
    else:
        raise it.ScriptFailure("WITNESS_PROGRAM_WRONG_LENGTH")
    if any(len(item) > it.MAX_ELEMENT for item in stack):
        raise it.ScriptFailure("PUSH_SIZE")
    it.eval_script(stack, script, flags, check)
    if len(stack) != 1:
        raise it.ScriptFailure("CLEANSTACK")
    if not it.cast_to_bool(stack[-1]):
        raise it.ScriptFailure("EVAL_FALSE")


def verify_script(script_sig: bytes, spk: bytes, witness: list[bytes], flags: int, check) -> None:
    """Core's VerifyScript for the output types the sandbox supports."""
    program = _witness_program(spk)
    if program is None and not _is_p2sh(spk):
        raise Unsupported("only segwit v0 and P2SH-wrapped segwit outputs are verified by the sandbox")
    if not _push_only(script_sig):
        raise it.ScriptFailure("SIG_PUSHONLY")
    stack: list[bytes] = []
    it.eval_script(stack, script_sig, flags, check)
    saved = list(stack)
    it.eval_script(stack, spk, flags, check)
    if not stack or not it.cast_to_bool(stack[-1]):
        raise it.ScriptFailure("EVAL_FALSE")
    if program is not None:
        if script_sig:
            raise it.ScriptFailure("WITNESS_MALLEATED")
        _run_witness(*program, witness, flags, check)
        return
    redeem = saved[-1]  # P2SH: the scriptSig pushed at least the (hash-matching) redeem script
    inner = _witness_program(redeem)
    if inner is None:
        raise Unsupported("P2SH is verified only when it wraps a segwit v0 program")
    if script_sig != bytes([len(redeem)]) + redeem:
        raise it.ScriptFailure("WITNESS_MALLEATED_P2SH")
    stack = saved[:-1]
    it.eval_script(stack, redeem, flags, check)
    if not stack or not it.cast_to_bool(stack[-1]):
        raise it.ScriptFailure("EVAL_FALSE")
    _run_witness(*inner, witness, flags, check)


def input_failure(tx: Tx, index: int, prevout: TxOut, pre: Precomputed) -> str | None:
    """None if input ``index`` is satisfied, else Core's reject reason for it.

    Raises ``Unsupported`` for inputs the sandbox does not verify.
    """
    txin = tx.vin[index]
    check = InputChecker(tx, index, prevout.value, pre)
    try:
        verify_script(txin.script_sig, prevout.script_pubkey, txin.witness, it.STANDARD, check)
        return None
    except it.UnsupportedScript as exc:
        raise Unsupported(str(exc)) from None
    except it.ScriptFailure as failure:
        first = failure
    try:
        verify_script(txin.script_sig, prevout.script_pubkey, txin.witness, it.MANDATORY, check)
    except it.ScriptFailure:
        return f"mandatory-script-verify-flag-failed ({first})"
    except it.UnsupportedScript as exc:
        raise Unsupported(str(exc)) from None
    return f"non-mandatory-script-verify-flag ({first})"


def p2wpkh_script_code(pubkey: bytes) -> bytes:
    """The scriptCode a P2WPKH input signs (BIP-143)."""
    return b"\x76\xa9\x14" + hash160(pubkey) + b"\x88\xac"
