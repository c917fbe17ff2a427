"""Blocks as regtest makes them: real headers, merkle roots, witness
commitments and (regtest-easy) proof of work; the real regtest genesis block.
"""

from __future__ import annotations

from dataclasses import dataclass

from .policy import COIN
from .tx import Tx, TxIn, TxOut, sha256d, varint

REGTEST_BITS = 0x207FFFFF
REGTEST_TARGET = 0x7FFFFF << (8 * (0x20 - 3))
HALVING_INTERVAL = 150  # regtest
BLOCK_VERSION = 0x20000000
# The regtest genesis block: Satoshi's coinbase, time 1296688602, nonce 2.
GENESIS_COINBASE = bytes.fromhex(
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d01044554"
    "68652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64"
    "206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b710"
    "5cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00"
    "000000"
)
GENESIS_HASH = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
WITNESS_MAGIC = b"\x6a\x24\xaa\x21\xa9\xed"


@dataclass
class Block:
    version: int
    prev_hash: str  # hex, display order
    merkle_root: bytes  # internal byte order
    time: int
    bits: int
    nonce: int
    txs: list[Tx]
    height: int

    def header(self) -> bytes:
        return (self.version.to_bytes(4, "little") + bytes.fromhex(self.prev_hash)[::-1] + self.merkle_root
                + self.time.to_bytes(4, "little") + self.bits.to_bytes(4, "little")
                + self.nonce.to_bytes(4, "little"))

    @property
    def hash(self) -> str:
        return sha256d(self.header())[::-1].hex()

    def serialize(self) -> bytes:
        return self.header() + varint(len(self.txs)) + b"".join(t.serialize() for t in self.txs)

    @property
    def size(self) -> int:
        return len(self.serialize())

    @property
    def weight(self) -> int:
        stripped = len(self.header()) + len(varint(len(self.txs))) + sum(
            len(t.serialize(witness=False)) for t in self.txs)
        return 3 * stripped + self.size


def merkle_root(hashes: list[bytes]) -> bytes:
    """Bitcoin's merkle root over internal-order hashes (odd levels repeat the last)."""
    level = list(hashes)
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [sha256d(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def merkle_branch(hashes: list[bytes], pos: int) -> list[bytes]:
    """The sibling hashes from leaf ``pos`` up to the root (Electrum's get_merkle)."""
    branch, level = [], list(hashes)
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        branch.append(level[pos ^ 1])
        level = [sha256d(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
        pos //= 2
    return branch


def genesis() -> Block:
    coinbase = Tx.parse(GENESIS_COINBASE)
    block = Block(1, "00" * 32, merkle_root([bytes.fromhex(coinbase.txid)[::-1]]), 1296688602,
                  REGTEST_BITS, 2, [coinbase], 0)
    if block.hash != GENESIS_HASH:
        raise RuntimeError("the regtest genesis block does not hash to its known hash")
    return block


def subsidy(height: int) -> int:
    halvings = height // HALVING_INTERVAL
    return 0 if halvings >= 64 else (50 * COIN) >> halvings


def bip34_height(height: int) -> bytes:
    """``CScript() << height`` as Core writes it (OP_1..OP_16 for small heights)."""
    if 1 <= height <= 16:
        return bytes([0x50 + height])
    if height == 0:
        return b"\x00"
    data = height.to_bytes((height.bit_length() + 8) // 8, "little")
    return bytes([len(data)]) + data


def coinbase(height: int, script_pubkey: bytes, value: int, txs: list[Tx]) -> Tx:
    """Core's generatetoaddress coinbase: BIP-34 height, OP_0, witness commitment."""
    wtxids = [bytes(32)] + [bytes.fromhex(t.wtxid)[::-1] for t in txs]
    reserved = bytes(32)
    commitment = sha256d(merkle_root(wtxids) + reserved)
    return Tx(2, [TxIn("00" * 32, 0xFFFFFFFF, bip34_height(height) + b"\x00", 0xFFFFFFFF, [reserved])],
              [TxOut(value, script_pubkey), TxOut(0, WITNESS_MAGIC + commitment)], 0)


def make_block(prev: Block, txs: list[Tx], time: int) -> Block:
    """A block on ``prev`` with ``txs`` (coinbase first), nonce ground to regtest's target."""
    root = merkle_root([bytes.fromhex(t.txid)[::-1] for t in txs])
    block = Block(BLOCK_VERSION, prev.hash, root, time, REGTEST_BITS, 0, txs, prev.height + 1)
    while int(block.hash, 16) > REGTEST_TARGET:
        block.nonce += 1
    return block


def median_time_past(chain: list[Block]) -> int:
    times = sorted(b.time for b in chain[-11:])
    return times[len(times) // 2]
