"""Bitcoin transactions as plain bytes: parse, serialize, hashes, sizes, asm.

Written for the sandbox alone (independent of embit's and of
``coordinator/psbt``), so that the sandbox checks the other code rather
than sharing its bugs. Parsing follows Core's ``DecodeHexTx``: the
extended (segwit) form first, then the legacy form, and no trailing bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


class DecodeError(ValueError):
    """Bytes that are not a transaction."""


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sha256d(data: bytes) -> bytes:
    return sha256(sha256(data))


def hash160(data: bytes) -> bytes:
    return hashlib.new("ripemd160", sha256(data)).digest()


def scripthash(script_pubkey: bytes) -> str:
    """Esplora's scripthash: sha256 of the scriptPubKey, plain hex (not byte-reversed)."""
    return sha256(script_pubkey).hex()


def varint(n: int) -> bytes:
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + n.to_bytes(2, "little")
    if n <= 0xFFFFFFFF:
        return b"\xfe" + n.to_bytes(4, "little")
    return b"\xff" + n.to_bytes(8, "little")


class Reader:
    """A cursor over bytes that raises DecodeError when it runs short."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise DecodeError("unexpected end of data")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def int(self, n: int) -> int:
        return int.from_bytes(self.take(n), "little")

    def varint(self) -> int:
        first = self.int(1)
        if first < 0xFD:
            return first
        return self.int({0xFD: 2, 0xFE: 4, 0xFF: 8}[first])

    def varbytes(self) -> bytes:
        return self.take(self.varint())

    def done(self) -> bool:
        return self.pos == len(self.data)


@dataclass
class TxIn:
    prev_txid: str  # hex, display order
    prev_vout: int
    script_sig: bytes = b""
    sequence: int = 0xFFFFFFFF
    witness: list[bytes] = field(default_factory=list)

    @property
    def outpoint(self) -> tuple[str, int]:
        return (self.prev_txid, self.prev_vout)

    def is_null(self) -> bool:
        return self.prev_txid == "00" * 32 and self.prev_vout == 0xFFFFFFFF


@dataclass
class TxOut:
    value: int
    script_pubkey: bytes


@dataclass
class Tx:
    version: int
    vin: list[TxIn]
    vout: list[TxOut]
    locktime: int

    @classmethod
    def parse(cls, raw: bytes) -> "Tx":
        """Core's order: try the extended form, then the legacy form."""
        errors = []
        for extended in (True, False):
            try:
                return cls._parse(raw, extended)
            except DecodeError as exc:
                errors.append(str(exc))
        raise DecodeError("; ".join(errors))

    @classmethod
    def _parse(cls, raw: bytes, extended: bool) -> "Tx":
        r = Reader(raw)
        tx = cls.read_from(r, extended)
        if not r.done():
            raise DecodeError("trailing bytes")
        return tx

    @classmethod
    def read_from(cls, r: Reader, extended: bool = True) -> "Tx":
        """One transaction from a stream (a block's transactions follow each other)."""
        version = r.int(4)
        if version >= 1 << 31:
            version -= 1 << 32
        segwit = extended and r.data[r.pos:r.pos + 1] == b"\x00"
        if segwit:
            r.take(1)
            if r.int(1) != 1:
                raise DecodeError("unknown optional data")
        vin = [TxIn(r.take(32)[::-1].hex(), r.int(4), r.varbytes(), r.int(4)) for _ in range(r.varint())]
        if segwit and not vin:
            raise DecodeError("segwit marker without inputs")
        vout = [TxOut(r.int(8), r.varbytes()) for _ in range(r.varint())]
        if segwit:
            for txin in vin:
                txin.witness = [r.varbytes() for _ in range(r.varint())]
            if not any(txin.witness for txin in vin):
                raise DecodeError("superfluous witness record")
        return cls(version, vin, vout, r.int(4))

    def serialize(self, witness: bool = True) -> bytes:
        segwit = witness and self.has_witness()
        out = [(self.version % (1 << 32)).to_bytes(4, "little")]
        if segwit:
            out.append(b"\x00\x01")
        out.append(varint(len(self.vin)))
        for i in self.vin:
            out += [bytes.fromhex(i.prev_txid)[::-1], i.prev_vout.to_bytes(4, "little"),
                    varint(len(i.script_sig)), i.script_sig, i.sequence.to_bytes(4, "little")]
        out.append(varint(len(self.vout)))
        for o in self.vout:
            out += [o.value.to_bytes(8, "little", signed=True), varint(len(o.script_pubkey)), o.script_pubkey]
        if segwit:
            for i in self.vin:
                out.append(varint(len(i.witness)))
                out += [varint(len(item)) + item for item in i.witness]
        out.append(self.locktime.to_bytes(4, "little"))
        return b"".join(out)

    def has_witness(self) -> bool:
        return any(i.witness for i in self.vin)

    @property
    def txid(self) -> str:
        return sha256d(self.serialize(witness=False))[::-1].hex()

    @property
    def wtxid(self) -> str:
        return sha256d(self.serialize())[::-1].hex()

    @property
    def size(self) -> int:
        return len(self.serialize())

    @property
    def weight(self) -> int:
        return 3 * len(self.serialize(witness=False)) + self.size

    @property
    def vsize(self) -> int:
        return (self.weight + 3) // 4

    def is_coinbase(self) -> bool:
        return len(self.vin) == 1 and self.vin[0].is_null()


# --- scripts as text, in the style Esplora shows them (rust-bitcoin's asm) ---

_NAMES = {
    0x00: "OP_0", 0x4F: "OP_PUSHNUM_NEG1", 0x61: "OP_NOP", 0x63: "OP_IF", 0x64: "OP_NOTIF",
    0x67: "OP_ELSE", 0x68: "OP_ENDIF", 0x69: "OP_VERIFY", 0x6A: "OP_RETURN", 0x75: "OP_DROP",
    0x76: "OP_DUP", 0x87: "OP_EQUAL", 0x88: "OP_EQUALVERIFY", 0xA8: "OP_SHA256", 0xA9: "OP_HASH160",
    0xAC: "OP_CHECKSIG", 0xAD: "OP_CHECKSIGVERIFY", 0xAE: "OP_CHECKMULTISIG",
    0xAF: "OP_CHECKMULTISIGVERIFY", 0xB1: "OP_CLTV", 0xB2: "OP_CSV",
}


def iter_script(script: bytes):
    """Yield (opcode, pushed data or None); raise DecodeError on a short push."""
    r = Reader(script)
    while not r.done():
        op = r.int(1)
        if 0 < op < 0x4C:
            yield op, r.take(op)
        elif op in (0x4C, 0x4D, 0x4E):
            yield op, r.take(r.int({0x4C: 1, 0x4D: 2, 0x4E: 4}[op]))
        else:
            yield op, None


def asm(script: bytes) -> str:
    words = []
    try:
        for op, data in iter_script(script):
            if data is not None:
                name = f"OP_PUSHBYTES_{op}" if op < 0x4C else f"OP_PUSHDATA{ {0x4C: 1, 0x4D: 2, 0x4E: 4}[op]}"
                words += [name, data.hex()]
            elif 0x51 <= op <= 0x60:
                words.append(f"OP_PUSHNUM_{op - 0x50}")
            else:
                words.append(_NAMES.get(op, f"OP_UNKNOWN_{op:#04x}"))
    except DecodeError:
        words.append("<push past end>")
    return " ".join(words)
