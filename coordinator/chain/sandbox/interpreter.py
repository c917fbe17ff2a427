"""A small script interpreter with Bitcoin Core's semantics and error words.

It runs the opcodes that P2WPKH, P2SH and (sorted)multisig P2WSH need:
pushes, OP_1..OP_16, OP_DUP, OP_DROP, OP_VERIFY, OP_EQUAL(VERIFY),
OP_HASH160, OP_SHA256, OP_CHECKSIG(VERIFY), OP_CHECKMULTISIG(VERIFY). Any
other opcode raises ``UnsupportedScript``: the sandbox refuses what it
cannot check rather than guessing. The error texts are Core's
``ScriptErrorString`` (src/script/script_error.cpp).
"""

from __future__ import annotations

from typing import Callable

from .tx import DecodeError, hash160, iter_script, sha256

# script verification flags (the subset we honour), as in Core's interpreter.h
P2SH, STRICTENC, DERSIG, LOW_S, NULLDUMMY = 1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4
MINIMALDATA, CLEANSTACK, WITNESS, NULLFAIL, WITNESS_PUBKEYTYPE = 1 << 6, 1 << 8, 1 << 11, 1 << 14, 1 << 15
MANDATORY = P2SH | DERSIG | NULLDUMMY | WITNESS
STANDARD = MANDATORY | STRICTENC | LOW_S | MINIMALDATA | CLEANSTACK | NULLFAIL | WITNESS_PUBKEYTYPE

MAX_ELEMENT = 520
MAX_OPS = 201
MAX_PUBKEYS = 20
MAX_SCRIPT = 10_000

ERRORS = {
    "EVAL_FALSE": "Script evaluated without error but finished with a false/empty top stack element",
    "OP_RETURN": "OP_RETURN was encountered",
    "SCRIPT_SIZE": "Script is too big",
    "PUSH_SIZE": "Push value size limit exceeded",
    "OP_COUNT": "Operation limit exceeded",
    "SIG_COUNT": "Signature count negative or greater than pubkey count",
    "PUBKEY_COUNT": "Pubkey count negative or limit exceeded",
    "VERIFY": "Script failed an OP_VERIFY operation",
    "EQUALVERIFY": "Script failed an OP_EQUALVERIFY operation",
    "CHECKMULTISIGVERIFY": "Script failed an OP_CHECKMULTISIGVERIFY operation",
    "CHECKSIGVERIFY": "Script failed an OP_CHECKSIGVERIFY operation",
    "BAD_OPCODE": "Opcode missing or not understood",
    "INVALID_STACK_OPERATION": "Operation not valid with the current stack size",
    "SIG_HASHTYPE": "Signature hash type missing or not understood",
    "SIG_DER": "Non-canonical DER signature",
    "MINIMALDATA": "Data push larger than necessary",
    "SIG_PUSHONLY": "Only push operators allowed in signatures",
    "SIG_HIGH_S": "Non-canonical signature: S value is unnecessarily high",
    "SIG_NULLDUMMY": "Dummy CHECKMULTISIG argument must be zero",
    "PUBKEYTYPE": "Public key is neither compressed or uncompressed",
    "CLEANSTACK": "Stack size must be exactly one after execution",
    "SIG_NULLFAIL": "Signature must be zero for failed CHECK(MULTI)SIG operation",
    "WITNESS_PROGRAM_WRONG_LENGTH": "Witness program has incorrect length",
    "WITNESS_PROGRAM_WITNESS_EMPTY": "Witness program was passed an empty witness",
    "WITNESS_PROGRAM_MISMATCH": "Witness program hash mismatch",
    "WITNESS_MALLEATED": "Witness requires empty scriptSig",
    "WITNESS_MALLEATED_P2SH": "Witness requires only-redeemscript scriptSig",
    "WITNESS_UNEXPECTED": "Witness provided for non-witness script",
    "WITNESS_PUBKEYTYPE": "Using non-compressed keys in segwit",
    "UNKNOWN_ERROR": "unknown error",
}

# checker(sig_without_hashtype_byte_included, pubkey, script_code) -> bool
Checker = Callable[[bytes, bytes, bytes], bool]
HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


class ScriptFailure(Exception):
    """The script failed; ``code`` is a key of ERRORS."""

    def __init__(self, code: str) -> None:
        super().__init__(ERRORS[code])
        self.code = code


class UnsupportedScript(Exception):
    """A script the sandbox does not evaluate (it says so instead of guessing)."""


def cast_to_bool(item: bytes) -> bool:
    for i, byte in enumerate(item):
        if byte:
            return not (i == len(item) - 1 and byte == 0x80)
    return False


def is_valid_der(sig: bytes) -> bool:
    """Core's IsValidSignatureEncoding (BIP-66), sig including the hashtype byte."""
    if not 9 <= len(sig) <= 73 or sig[0] != 0x30 or sig[1] != len(sig) - 3:
        return False
    len_r = sig[3]
    if 5 + len_r >= len(sig):
        return False
    len_s = sig[5 + len_r]
    if len_r + len_s + 7 != len(sig) or sig[2] != 0x02 or len_r == 0 or sig[4] & 0x80:
        return False
    if len_r > 1 and sig[4] == 0 and not sig[5] & 0x80:
        return False
    if sig[len_r + 4] != 0x02 or len_s == 0 or sig[len_r + 6] & 0x80:
        return False
    return not (len_s > 1 and sig[len_r + 6] == 0 and not sig[len_r + 7] & 0x80)


def der_r_s(sig: bytes) -> tuple[int, int]:
    """r and s of a signature that passed is_valid_der."""
    len_r = sig[3]
    r = int.from_bytes(sig[4:4 + len_r], "big")
    s = int.from_bytes(sig[6 + len_r:6 + len_r + sig[5 + len_r]], "big")
    return r, s


def check_signature_encoding(sig: bytes, flags: int) -> None:
    if not sig:
        return
    if flags & (DERSIG | LOW_S | STRICTENC) and not is_valid_der(sig):
        raise ScriptFailure("SIG_DER")
    if flags & LOW_S and der_r_s(sig)[1] > HALF_N:
        raise ScriptFailure("SIG_HIGH_S")
    if flags & STRICTENC and sig[-1] & ~0x80 not in (1, 2, 3):
        raise ScriptFailure("SIG_HASHTYPE")


def check_pubkey_encoding(pub: bytes, flags: int) -> None:
    compressed = len(pub) == 33 and pub[0] in (2, 3)
    if flags & STRICTENC and not (compressed or (len(pub) == 65 and pub[0] == 4)):
        raise ScriptFailure("PUBKEYTYPE")
    if flags & WITNESS_PUBKEYTYPE and not compressed:
        raise ScriptFailure("WITNESS_PUBKEYTYPE")


def _minimal_push(op: int, data: bytes) -> bool:
    if not data:
        return op == 0
    if len(data) == 1 and (1 <= data[0] <= 16 or data[0] == 0x81):
        return False
    if len(data) <= 75:
        return op == len(data)
    return op == (0x4C if len(data) <= 255 else 0x4D)


def _small_int(item: bytes, flags: int) -> int:
    """A CScriptNum of at most 4 bytes (enough for key and signature counts)."""
    if len(item) > 4:
        raise ScriptFailure("UNKNOWN_ERROR")
    if flags & MINIMALDATA and item and not item[-1] & 0x7F and (len(item) == 1 or not item[-2] & 0x80):
        raise ScriptFailure("UNKNOWN_ERROR")
    if not item:
        return 0
    value = int.from_bytes(item, "little") & ~(0x80 << 8 * (len(item) - 1))
    return -value if item[-1] & 0x80 else value


def eval_script(stack: list[bytes], script: bytes, flags: int, checker: Checker) -> None:
    """Run ``script`` on ``stack`` (modified in place), as Core's EvalScript."""
    if len(script) > MAX_SCRIPT:
        raise ScriptFailure("SCRIPT_SIZE")
    ops = 0
    try:
        program = list(iter_script(script))
    except DecodeError:
        raise ScriptFailure("BAD_OPCODE") from None
    for op, data in program:
        if data is not None or op == 0:
            data = data or b""
            if len(data) > MAX_ELEMENT:
                raise ScriptFailure("PUSH_SIZE")
            if flags & MINIMALDATA and not _minimal_push(op, data):
                raise ScriptFailure("MINIMALDATA")
            stack.append(data)
            continue
        if op > 0x60:
            ops += 1
            if ops > MAX_OPS:
                raise ScriptFailure("OP_COUNT")
        if op == 0x4F or 0x51 <= op <= 0x60:
            stack.append(bytes([0x81]) if op == 0x4F else bytes([op - 0x50]))
        elif op in (0xAE, 0xAF):
            ops = _checkmultisig(stack, script, flags, checker, op == 0xAF, ops)
        else:
            _simple_op(op, stack, script, flags, checker)


def _need(stack: list[bytes], n: int) -> None:
    if len(stack) < n:
        raise ScriptFailure("INVALID_STACK_OPERATION")


def _simple_op(op: int, stack: list[bytes], script: bytes, flags: int, checker: Checker) -> None:
    if op == 0x61:  # OP_NOP
        return
    if op == 0x6A:
        raise ScriptFailure("OP_RETURN")
    if op in (0x69, 0x75):  # OP_VERIFY, OP_DROP
        _need(stack, 1)
        if op == 0x69 and not cast_to_bool(stack[-1]):
            raise ScriptFailure("VERIFY")
        stack.pop()
    elif op == 0x76:  # OP_DUP
        _need(stack, 1)
        stack.append(stack[-1])
    elif op in (0x87, 0x88):  # OP_EQUAL(VERIFY)
        _need(stack, 2)
        equal = stack.pop() == stack.pop()
        stack.append(b"\x01" if equal else b"")
        if op == 0x88:
            if not equal:
                raise ScriptFailure("EQUALVERIFY")
            stack.pop()
    elif op in (0xA8, 0xA9):  # OP_SHA256, OP_HASH160
        _need(stack, 1)
        stack.append((sha256 if op == 0xA8 else hash160)(stack.pop()))
    elif op in (0xAC, 0xAD):  # OP_CHECKSIG(VERIFY)
        _need(stack, 2)
        pub, sig = stack[-1], stack[-2]
        check_signature_encoding(sig, flags)
        check_pubkey_encoding(pub, flags)
        ok = bool(sig) and checker(sig, pub, script)
        if not ok and flags & NULLFAIL and sig:
            raise ScriptFailure("SIG_NULLFAIL")
        del stack[-2:]
        stack.append(b"\x01" if ok else b"")
        if op == 0xAD:
            if not ok:
                raise ScriptFailure("CHECKSIGVERIFY")
            stack.pop()
    else:
        raise UnsupportedScript(f"opcode {op:#04x} is not evaluated by the sandbox")


def _checkmultisig(stack: list[bytes], script: bytes, flags: int, checker: Checker, verify: bool,
                   ops: int) -> int:
    """Core's OP_CHECKMULTISIG, index for index (stacktop(-i) is stack[-i])."""
    i = 1
    _need(stack, i)
    n_keys = _small_int(stack[-i], flags)
    if not 0 <= n_keys <= MAX_PUBKEYS:
        raise ScriptFailure("PUBKEY_COUNT")
    ops += n_keys
    if ops > MAX_OPS:
        raise ScriptFailure("OP_COUNT")
    i += 1
    ikey = i
    ikey2 = n_keys + 2  # position of the last non-signature item; top item = 1
    i += n_keys
    _need(stack, i)
    n_sigs = _small_int(stack[-i], flags)
    if not 0 <= n_sigs <= n_keys:
        raise ScriptFailure("SIG_COUNT")
    i += 1
    isig = i
    i += n_sigs
    _need(stack, i)
    success = True
    while success and n_sigs > 0:
        sig, pub = stack[-isig], stack[-ikey]
        check_signature_encoding(sig, flags)
        check_pubkey_encoding(pub, flags)
        if sig and checker(sig, pub, script):
            isig += 1
            n_sigs -= 1
        ikey += 1
        n_keys -= 1
        if n_sigs > n_keys:
            success = False
    while i > 1:
        i -= 1
        if not success and flags & NULLFAIL and not ikey2 and stack[-1]:
            raise ScriptFailure("SIG_NULLFAIL")
        if ikey2 > 0:
            ikey2 -= 1
        stack.pop()
    _need(stack, 1)
    if flags & NULLDUMMY and stack[-1]:
        raise ScriptFailure("SIG_NULLDUMMY")
    stack.pop()
    stack.append(b"\x01" if success else b"")
    if verify:
        if not success:
            raise ScriptFailure("CHECKMULTISIGVERIFY")
        stack.pop()
    return ops
