"""Esplora's transaction JSON → ``ChainTx``, checked.

Esplora's JSON carries every field of the transaction (version, locktime,
scriptSigs, witnesses, sequences, outputs), so the raw bytes are rebuilt here
and their hash must equal the txid the server claims: a server that lies about
an output value or script is caught without a second request. The raw bytes
become a PSBT's ``non_witness_utxo`` later.
"""

from __future__ import annotations

import hashlib
import struct

from embit import compact

from .backend import BadResponse, ChainTx, TxIn, TxOut, TxStatus

_COINBASE_TXID = "0" * 64


def tx_from_json(item: object) -> ChainTx:
    """One transaction object from /tx/:txid or /scripthash/:h/txs."""
    if not isinstance(item, dict):
        raise BadResponse("a transaction is not a JSON object")
    try:
        return _parse(item)
    except (KeyError, TypeError, ValueError, struct.error) as err:
        raise BadResponse(f"malformed transaction JSON ({type(err).__name__}: {err})") from None


def _parse(item: dict) -> ChainTx:
    txid = item["txid"].lower()
    inputs, prevouts = [], []
    for vin in item["vin"]:
        inputs.append(TxIn(vin["txid"].lower(), int(vin["vout"])))
        prev = vin.get("prevout")
        prevouts.append(None if vin.get("is_coinbase") or prev is None else _txout(prev))
    outputs = tuple(_txout(v) for v in item["vout"])
    raw = serialize(item)
    if _txid(raw, item) != txid:
        raise BadResponse(f"the JSON of {txid} does not hash to its txid")
    fee = int(item.get("fee") or 0)
    if any(p is not None for p in prevouts) and None not in prevouts:
        computed = sum(p.value for p in prevouts) - sum(o.value for o in outputs)
        if computed != fee:
            raise BadResponse(f"{txid}: fee {fee} disagrees with its prevouts ({computed})")
    return ChainTx(txid, tuple(inputs), tuple(prevouts), outputs, fee, _status(item.get("status") or {}), raw)


def _txout(obj: dict) -> TxOut:
    value = obj["value"]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"output value {value!r}")
    return TxOut(bytes.fromhex(obj["scriptpubkey"]), value)


def _status(obj: dict) -> TxStatus:
    if not obj.get("confirmed"):
        return TxStatus(False)
    height, block_hash = obj["block_height"], obj["block_hash"]
    if not isinstance(height, int) or len(block_hash) != 64:
        raise ValueError("confirmed status without height or block hash")
    return TxStatus(True, height, block_hash.lower(), obj.get("block_time"))


def serialize(item: dict) -> bytes:
    """The transaction's consensus bytes (with witnesses when it has any)."""
    ins = [_input(v) for v in item["vin"]]
    outs = [struct.pack("<q", o["value"]) + _bytes(o["scriptpubkey"]) for o in item["vout"]]
    witnesses = [v.get("witness") or [] for v in item["vin"]]
    body = compact.to_bytes(len(ins)) + b"".join(ins) + compact.to_bytes(len(outs)) + b"".join(outs)
    head = struct.pack("<i", item["version"])
    tail = struct.pack("<I", item["locktime"])
    if not any(witnesses):
        return head + body + tail
    wit = b"".join(compact.to_bytes(len(w)) + b"".join(_bytes(x) for x in w) for w in witnesses)
    return head + b"\x00\x01" + body + wit + tail


def _input(vin: dict) -> bytes:
    txid = _COINBASE_TXID if vin.get("is_coinbase") else vin["txid"]
    vout = 0xFFFFFFFF if vin.get("is_coinbase") else vin["vout"]
    return (bytes.fromhex(txid)[::-1] + struct.pack("<I", vout) + _bytes(vin.get("scriptsig") or "")
            + struct.pack("<I", vin["sequence"]))


def _txid(raw: bytes, item: dict) -> str:
    """Hash of the bytes without marker, flag and witnesses."""
    if raw[4:6] == b"\x00\x01" and any(v.get("witness") for v in item["vin"]):
        stripped = dict(item, vin=[dict(v, witness=None) for v in item["vin"]])
        raw = serialize(stripped)
    return hashlib.sha256(hashlib.sha256(raw).digest()).digest()[::-1].hex()


def _bytes(hex_text: str) -> bytes:
    data = bytes.fromhex(hex_text)
    return compact.to_bytes(len(data)) + data
