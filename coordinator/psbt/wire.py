"""Bitcoin's byte formats, read strictly: compact sizes and transactions.

Bitcoin Core refuses a compact size that is not in its shortest form
("non-canonical ReadCompactSize()"); embit reads ``fd0100`` as 1 and writes
it back as ``01``, so bytes we accepted would not be the bytes we return, and
a ``non_witness_utxo`` would hash to one txid as sent and another as read.
Counts are checked against what the bytes left can hold before any list is
built, and against consensus or standardness limits, so a hostile count
costs no memory.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Sequence

from embit import compact
from embit.script import Script, Witness
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from ..errors import InvalidInput

# Weight limits (BIP-141): 4 MWU per block (consensus), 400 kWU per standard
# transaction (Core's MAX_STANDARD_TX_WEIGHT, the most a node relays).
MAX_BLOCK_WEIGHT = 4_000_000
MAX_STANDARD_TX_WEIGHT = 400_000
# The smallest input is 41 bytes (outpoint 32+4, empty scriptSig 1, sequence 4),
# the smallest output 9 (value 8, empty script 1); non-witness bytes weigh 4 WU.
MIN_INPUT_BYTES, MIN_OUTPUT_BYTES = 41, 9
# So a standard transaction has at most 400,000 / 164 = 2,439 inputs or
# 400,000 / 36 = 11,111 outputs; a mined one (a previous transaction) ten times that.
MAX_INPUTS = MAX_STANDARD_TX_WEIGHT // (4 * MIN_INPUT_BYTES)
MAX_OUTPUTS = MAX_STANDARD_TX_WEIGHT // (4 * MIN_OUTPUT_BYTES)
MAX_PREV_INPUTS = MAX_BLOCK_WEIGHT // (4 * MIN_INPUT_BYTES)
MAX_PREV_OUTPUTS = MAX_BLOCK_WEIGHT // (4 * MIN_OUTPUT_BYTES)
_CANONICAL_MIN = {2: 0xFD, 4: 0x10000, 8: 0x100000000}
_PSBT = "the PSBT (missing maps, or a value longer than the data)"


def malformed(message: str) -> InvalidInput:
    return InvalidInput("malformed_psbt", message)


class Reader:
    """A cursor over bytes; every read is bounds-checked and every compact size canonical."""

    def __init__(self, data: bytes, what: str = _PSBT) -> None:
        self.data, self.pos, self.what = data, 0, what

    def take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            raise malformed(f"{self.what} ends early")
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def compact(self, what: str = "a length") -> int:
        if self.pos < len(self.data) and self.data[self.pos] < 0xFD:  # the common one-byte case
            self.pos += 1
            return self.data[self.pos - 1]
        first = self.take(1)[0]
        width = 2 << (first - 0xFD)  # fd: 2 bytes, fe: 4, ff: 8
        value = int.from_bytes(self.take(width), "little")
        if value < _CANONICAL_MIN[width]:  # BIP-174 and Core: shortest form only
            raise malformed(f"{what} is not a canonical compact size "
                            f"({bytes([first]).hex()}{value.to_bytes(width, 'little').hex()})")
        return value

    def string(self, what: str = "a length") -> bytes:
        """Bytes prefixed by their compact size (the hot path of every PSBT map)."""
        data, pos = self.data, self.pos
        if pos < len(data) and data[pos] < 0xFD:
            start = pos + 1
            end = start + data[pos]
        else:
            end = self.compact(what) + self.pos
            start = self.pos
        if end > len(data):
            raise malformed(f"{self.what} ends early")
        self.pos = end
        return data[start:end]

    def skip_string(self) -> None:
        n = self.compact()
        if n > len(self.data) - self.pos:
            raise malformed(f"{self.what} ends early")
        self.pos += n

    def count(self, what: str, min_bytes: int, limit: int, code: str = "malformed_psbt") -> int:
        """A count of items of at least ``min_bytes`` each, refused before anything is built."""
        n = self.compact(f"the count of {what}")
        if n * min_bytes > len(self.data) - self.pos:
            left = len(self.data) - self.pos
            raise malformed(f"{self.what}: {n} {what} cannot fit in the {left} bytes left")
        if n > limit:
            raise InvalidInput(code, f"{self.what} has {n} {what}; at most {limit} fit in one")
        return n

    def at_end(self) -> bool:
        return self.pos == len(self.data)


class Tx(Transaction):
    """embit's ``Transaction``, serialized in one pass from its current fields.

    embit writes every field through a stream, and merge, status and finalize
    serialize the unsigned transaction (and hash it) several times each.
    """

    def serialize(self) -> bytes:
        return tx_bytes(self, witness=True)

    def write_to(self, stream) -> int:
        return stream.write(self.serialize())

    def hash(self) -> bytes:
        return sha256d(tx_bytes(self, witness=False))


def tx_bytes(tx: Transaction, witness: bool) -> bytes:
    """BIP-144 serialization (witness=False: the one the txid hashes)."""
    segwit = witness and any(i.witness.items for i in tx.vin)
    parts = [tx.version.to_bytes(4, "little"), b"\x00\x01" if segwit else b"", compact.to_bytes(len(tx.vin))]
    for i in tx.vin:
        script = i.script_sig.data
        parts += (i.txid[::-1], i.vout.to_bytes(4, "little"), compact.to_bytes(len(script)), script,
                  i.sequence.to_bytes(4, "little"))
    parts.append(compact.to_bytes(len(tx.vout)))
    parts += (output_bytes(o) for o in tx.vout)
    if segwit:
        for i in tx.vin:
            parts.append(compact.to_bytes(len(i.witness.items)))
            parts += (compact.to_bytes(len(item)) + item for item in i.witness.items)
    parts.append(tx.locktime.to_bytes(4, "little"))
    return b"".join(parts)


class Output(TransactionOutput):
    """embit's ``TransactionOutput``, serialized in one pass from its current fields
    (status compares ``witness_utxo`` with the prevout byte for byte, per input, per call)."""

    def serialize(self) -> bytes:
        return output_bytes(self)

    def write_to(self, stream) -> int:
        return stream.write(output_bytes(self))


def output_bytes(output: TransactionOutput) -> bytes:
    script = output.script_pubkey.data
    return output.value.to_bytes(8, "little") + compact.to_bytes(len(script)) + script


def sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def read_unsigned_tx(value: bytes) -> Tx:
    """BIP-174's unsigned transaction: non-witness serialization, empty scriptSigs,
    at most a standard transaction's inputs and outputs (else ``psbt_too_large``)."""
    reader = Reader(value, "the unsigned transaction")
    version = int.from_bytes(reader.take(4), "little")
    n_in = reader.count("inputs", MIN_INPUT_BYTES, MAX_INPUTS, "psbt_too_large")
    vin = [_input(reader) for _ in range(n_in)]
    n_out = reader.count("outputs", MIN_OUTPUT_BYTES, MAX_OUTPUTS, "psbt_too_large")
    vout = [_output(reader) for _ in range(n_out)]
    locktime = int.from_bytes(reader.take(4), "little")
    if not reader.at_end():
        raise malformed("the unsigned transaction has extra bytes (witness serialization?)")
    if any(i.script_sig.data for i in vin):
        raise malformed("the unsigned transaction has a non-empty scriptSig")
    return Tx(version=version, vin=vin, vout=vout, locktime=locktime)


class ReadTransaction(Transaction):
    """A transaction kept as the bytes it was read from (a ``non_witness_utxo``).

    A previous transaction may be any mined one, up to 111,111 outputs; 8 MiB
    of them as embit objects would take 160 MB. Here they cost 4 bytes each
    (an offset), and ``vin[i]``/``vout[i]`` are read when first asked for.
    Like every parsed object, replace it, never change it in place.
    The txid is that of these bytes (``status`` and ``checks`` ask for it again
    and again; embit re-serializes the transaction each time). Inputs are read
    without their witnesses; ``serialize`` returns the bytes read, witnesses
    included.
    """

    def __init__(self, raw: bytes, version: int, locktime: int, inputs: array, outputs: array,
                 txid: bytes) -> None:
        self.version, self.locktime, self._raw, self._txid = version, locktime, raw, txid
        self.vin = _Lazy(raw, inputs, _input)
        self.vout = _Lazy(raw, outputs, _output)
        self.clear_cache()

    def txid(self) -> bytes:
        return self._txid

    def hash(self) -> bytes:
        return self._txid[::-1]

    @property
    def is_segwit(self) -> bool:
        return self._raw[4:6] == b"\x00\x01"

    def write_to(self, stream) -> int:
        return stream.write(self._raw)


class _Lazy(Sequence):
    """Items of a transaction read from ``raw`` at their offsets when first asked for."""

    def __init__(self, raw: bytes, offsets: array, read) -> None:
        self._raw, self._offsets, self._read, self._items = raw, offsets, read, {}

    def __len__(self) -> int:
        return len(self._offsets)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        start = self._offsets[i]  # IndexError as a list would
        item = self._items.get(start)
        if item is None:
            reader = Reader(self._raw, "a transaction")
            reader.pos = start
            item = self._items[start] = self._read(reader)
        return item


def read_tx(value: bytes) -> ReadTransaction:
    """A network transaction (a ``non_witness_utxo``), with or without witnesses (BIP-144)."""
    reader = Reader(value, "a transaction")
    version = int.from_bytes(reader.take(4), "little")
    segwit = value[4:6] == b"\x00\x01"  # BIP-144 marker and flag
    if segwit:
        reader.take(2)
    elif value[4:5] == b"\x00":
        raise malformed("a transaction with no inputs, or an unknown BIP-144 flag")
    n_in = reader.count("inputs", MIN_INPUT_BYTES, MAX_PREV_INPUTS)
    inputs = array("I", [_skip(reader, 36, 4) for _ in range(n_in)])
    n_out = reader.count("outputs", MIN_OUTPUT_BYTES, MAX_PREV_OUTPUTS)
    outputs = array("I", [_skip(reader, 8, 0) for _ in range(n_out)])
    body_end = reader.pos
    if segwit:
        witnessed = [_skip_witness(reader) for _ in inputs]
        if not any(witnessed):  # Core: "Superfluous witness record"
            raise malformed("a transaction with the segwit flag but no witness")
    locktime = int.from_bytes(reader.take(4), "little")
    if not reader.at_end():
        raise malformed("a transaction has extra bytes")
    # the txid hashes the non-witness serialization (BIP-144): these very bytes,
    # as every compact size was canonical
    stripped = value[:4] + value[6:body_end] + value[-4:] if segwit else value
    txid = sha256d(stripped)[::-1]
    return ReadTransaction(value, version, locktime, inputs, outputs, txid)


def _skip(reader: Reader, head: int, tail: int) -> int:
    """Where an input (36-byte outpoint, script, 4-byte sequence) or output starts; past it."""
    start = reader.pos
    reader.take(head)
    reader.skip_string()
    reader.take(tail)
    return start


def _skip_witness(reader: Reader) -> bool:
    n = reader.count("witness items", 1, MAX_BLOCK_WEIGHT)
    for _ in range(n):
        reader.skip_string()
    return n > 0


def read_output(value: bytes) -> TransactionOutput:
    """A ``witness_utxo``: amount and script."""
    reader = Reader(value, "an output")
    out = _output(reader)
    if not reader.at_end():
        raise malformed("an output has extra bytes")
    return out


def read_witness(value: bytes) -> Witness:
    """A ``final_scriptwitness``: the stack items, each with its length."""
    reader = Reader(value, "a witness")
    witness = _witness(reader)
    if not reader.at_end():
        raise malformed("a witness has extra bytes")
    return witness


def _input(reader: Reader) -> TransactionInput:
    outpoint = reader.take(36)
    script_sig = Script(reader.string())
    return TransactionInput(outpoint[31::-1], int.from_bytes(outpoint[32:], "little"), script_sig=script_sig,
                            sequence=int.from_bytes(reader.take(4), "little"))


def _output(reader: Reader) -> Output:
    return Output(int.from_bytes(reader.take(8), "little"), Script(reader.string()))


def _witness(reader: Reader) -> Witness:
    return Witness([reader.string() for _ in range(reader.count("witness items", 1, MAX_BLOCK_WEIGHT))])
