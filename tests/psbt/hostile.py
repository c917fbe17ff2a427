"""Hostile PSBTs, built byte by byte: what a malicious server or cosigner could send.

Each builder takes its size as an argument, so tests use small ones and
bench/psbt_parse_worst.py the largest that fit under the 8 MiB cap.
"""

from __future__ import annotations

import hashlib

from embit import compact
from embit.misc import secp256k1

MAGIC = b"psbt\xff"


def pair(key: bytes, value: bytes) -> bytes:
    return compact.to_bytes(len(key)) + key + compact.to_bytes(len(value)) + value


def unsigned_tx(n_in: int, n_out: int, script: bytes = b"") -> bytes:
    """A version-2 transaction with ``n_in`` made-up inputs and ``n_out`` outputs of 0 sat."""
    vin = b"".join(hashlib.sha256(i.to_bytes(4, "little")).digest() + b"\x00" * 4 + b"\x00" + b"\xff" * 4
                   for i in range(n_in))
    vout = (b"\x00" * 8 + compact.to_bytes(len(script)) + script) * n_out
    return (b"\x02\x00\x00\x00" + compact.to_bytes(n_in) + vin + compact.to_bytes(n_out) + vout
            + b"\x00" * 4)


def v0(tx: bytes, inputs: list[bytes] | None = None, outputs: list[bytes] | None = None,
       global_pairs: bytes = b"", n_in: int | None = None, n_out: int | None = None) -> bytes:
    """A PSBT v0 around ``tx``; maps are the given pairs, else empty (one per input/output)."""
    inputs = inputs if inputs is not None else [b""] * (n_in or 0)
    outputs = outputs if outputs is not None else [b""] * (n_out or 0)
    return (MAGIC + pair(b"\x00", tx) + global_pairs + b"\x00"
            + b"".join(m + b"\x00" for m in inputs) + b"".join(m + b"\x00" for m in outputs))


def empty_outputs(n: int) -> bytes:
    """A PSBT whose transaction has one input and ``n`` empty outputs, each with an empty map."""
    return v0(unsigned_tx(1, n), n_in=1, n_out=n)


def empty_inputs(n: int) -> bytes:
    """A PSBT whose transaction has ``n`` inputs, each with an empty map, and one output."""
    return v0(unsigned_tx(n, 1), n_in=n, n_out=1)


def v2_counts(n_in: int, n_out: int) -> bytes:
    """A PSBT v2 global map claiming ``n_in`` inputs and ``n_out`` outputs (no maps follow)."""
    return (MAGIC + pair(b"\x02", b"\x02\x00\x00\x00") + pair(b"\x04", compact.to_bytes(n_in))
            + pair(b"\x05", compact.to_bytes(n_out)) + pair(b"\xfb", b"\x02\x00\x00\x00") + b"\x00")


def unknown_pairs(n: int) -> bytes:
    """``n`` distinct proprietary-looking unknown pairs (type 0x19, 3-byte keys, empty values)."""
    return b"".join(b"\x04\x19" + i.to_bytes(3, "little") + b"\x00" for i in range(n))


def many_unknowns(n: int) -> bytes:
    """A one-input, one-output PSBT whose global map holds ``n`` unknown pairs."""
    return v0(unsigned_tx(1, 1), global_pairs=unknown_pairs(n), n_in=1, n_out=1)


def prev_tx(n_out: int) -> bytes:
    """A previous transaction (one input) with ``n_out`` empty outputs."""
    return unsigned_tx(1, n_out)


def big_prev_txs(n_in: int, n_out_each: int) -> bytes:
    """``n_in`` inputs, each carrying a ``non_witness_utxo`` with ``n_out_each`` outputs."""
    prev = pair(b"\x00", prev_tx(n_out_each))
    return v0(unsigned_tx(n_in, 1), inputs=[prev] * n_in, n_out=1)


def points(n: int) -> list[bytes]:
    """``n`` distinct compressed public keys (x coordinates from a hash that are on the curve)."""
    keys, i = [], 0
    while len(keys) < n:
        key = b"\x02" + hashlib.sha256(i.to_bytes(4, "little")).digest()
        i += 1
        try:
            secp256k1.ec_pubkey_parse(key)
        except ValueError:
            continue  # about half of all x are not on secp256k1
        keys.append(key)
    return keys


def many_derivations(n: int) -> bytes:
    """One input with ``n`` BIP-32 derivations, each of a valid key."""
    ders = b"".join(pair(b"\x06" + key, b"\x00" * 8) for key in points(n))
    return v0(unsigned_tx(1, 1), inputs=[ders], n_out=1)


def huge_witness(n_items: int) -> bytes:
    """One input whose final_scriptwitness has ``n_items`` empty items."""
    witness = compact.to_bytes(n_items) + b"\x00" * n_items
    return v0(unsigned_tx(1, 1), inputs=[pair(b"\x08", witness)], n_out=1)
