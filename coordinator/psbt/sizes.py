"""Transaction sizes in weight units and virtual bytes (BIP-141).

Estimates assume the largest standard signature (72 bytes with its sighash
byte: DER with a 33-byte r, low s), so the real fee rate after signing is at
or slightly above the target, never below.
"""

from __future__ import annotations

from embit.script import Script

WITNESS_SCALE = 4
MAX_SIG_WITH_SIGHASH = 72  # 0x30 len 0x02 33 r 0x02 32 s + sighash byte
TX_OVERHEAD_WU = (4 + 4) * WITNESS_SCALE + 2  # version, locktime; segwit marker+flag
OUTPOINT_SEQUENCE = 36 + 4


def varint_len(n: int) -> int:
    return 1 if n < 0xFD else 3 if n <= 0xFFFF else 5 if n <= 0xFFFFFFFF else 9


def multisig_script_len(n: int) -> int:
    """OP_m <33-byte key>*n OP_n OP_CHECKMULTISIG."""
    return 1 + 34 * n + 1 + 1


def multisig_input_weight(m: int, n: int, script_type: str) -> int:
    """Weight of one signed m-of-n P2WSH or P2SH-P2WSH input."""
    script_sig = 0 if script_type == "wsh" else 1 + 34  # push of 0020<32-byte hash>
    base = OUTPOINT_SEQUENCE + varint_len(script_sig) + script_sig
    ws = multisig_script_len(n)
    witness = (varint_len(m + 2) + 1  # item count, the empty CHECKMULTISIG dummy
               + m * (1 + MAX_SIG_WITH_SIGHASH)
               + varint_len(ws) + ws)
    return base * WITNESS_SCALE + witness


def output_weight(script_pubkey: bytes | Script) -> int:
    data = script_pubkey.data if isinstance(script_pubkey, Script) else script_pubkey
    return (8 + varint_len(len(data)) + len(data)) * WITNESS_SCALE


def tx_weight(input_weights: list[int], output_weights: list[int]) -> int:
    counts = varint_len(len(input_weights)) + varint_len(len(output_weights))
    return TX_OVERHEAD_WU + counts * WITNESS_SCALE + sum(input_weights) + sum(output_weights)


def vsize(weight: int) -> int:
    return -(-weight // WITNESS_SCALE)


def fee_for(vbytes: int, rate_sat_per_kvb: int) -> int:
    """Fee in satoshis for ``vbytes`` at a rate in sat per 1000 vB, rounded up."""
    return -(-vbytes * rate_sat_per_kvb // 1000)
