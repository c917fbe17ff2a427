"""The sandbox chain: regtest blocks, a UTXO set, a mempool, mining and reorgs.

Everything a test or ``huddle demo`` needs from bitcoind, in memory (and,
with ``path``, saved to a JSON file after every change). Transactions enter
only through ``submit``, which verifies them for real (``accept.py``,
``verify.py``); blocks are made only by ``mine``. All public methods take
one lock, because the HTTP server is threaded.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from embit.networks import NETWORKS
from embit.script import Script, address_to_scriptpubkey

from ...errors import InvalidInput
from . import accept, blocks, store
from .blocks import Block
from .policy import (
    ALREADY_IN_UTXO_SET,
    DECODE_FAILED,
    FEE_TOO_HIGH,
    MAX_FEE_SAT_PER_KVB,
    Rejected,
    fee_for,
)
from .tx import DecodeError, Tx, TxOut, scripthash

NETWORK = "regtest"
REGTEST = NETWORKS["regtest"]


@dataclass(frozen=True)
class Coin:
    value: int
    script_pubkey: bytes
    height: int | None  # None: created by a mempool transaction


@dataclass
class MempoolEntry:
    tx: Tx
    fee: int
    vsize: int
    prevouts: list[TxOut]
    time: int


def script_for(address: str) -> bytes:
    """The scriptPubKey of a regtest address; any other network is refused."""
    try:
        spk = address_to_scriptpubkey(address)
        same = Script(spk.data).address(REGTEST) == (address.lower() if address.lower().startswith("bcrt1")
                                                      else address)
    except Exception:  # embit raises assorted errors on garbage
        raise InvalidInput("wrong_network", f"{address!r} is not a regtest address") from None
    if not same:
        raise InvalidInput("wrong_network", f"{address!r} is not a regtest address")
    return spk.data


class Chain:
    """A regtest chain. ``network`` exists only to be refused when it is not regtest."""

    def __init__(self, network: str = NETWORK, path: str | Path | None = None,
                 clock: Callable[[], float] = time.time, full_rbf: bool = True) -> None:
        if network != NETWORK:
            raise InvalidInput("wrong_network", f"the sandbox is regtest only; refusing {network!r}")
        self.lock = threading.RLock()
        self.path = Path(path) if path else None
        self.clock = clock
        self.full_rbf = full_rbf
        self.fee_estimates = {str(t): r for t, r in ((1, 2.0), (2, 2.0), (3, 1.5), (6, 1.0), (144, 1.0))}
        self.stale: dict[str, Block] = {}  # invalidated blocks, still answerable by hash
        self._reset([blocks.genesis()])
        if self.path and self.path.exists():
            store.load(self, self.path)

    # --- state ---

    def _reset(self, chain: list[Block]) -> None:
        self.blocks: list[Block] = []
        self.by_hash: dict[str, Block] = {}
        self.confirmed: dict[str, tuple[Tx, int, int]] = {}  # txid -> (tx, height, position)
        self.prevouts: dict[str, list[TxOut]] = {}
        self.fees: dict[str, int] = {}
        self.utxos: dict[tuple[str, int], Coin] = {}
        self.spends: dict[tuple[str, int], tuple[str, int]] = {}
        self.history: dict[str, list[str]] = {}  # scripthash -> confirmed txids, oldest first
        self.mempool: dict[str, MempoolEntry] = {}
        self.mempool_spends: dict[tuple[str, int], tuple[str, int]] = {}
        self.coinbases: set[str] = set()
        for block in chain:
            self._connect(block)

    def _connect(self, block: Block) -> None:
        self.blocks.append(block)
        self.by_hash[block.hash] = block
        self.stale.pop(block.hash, None)
        for pos, tx in enumerate(block.txs):
            txid = tx.txid
            touched = []
            prevouts = []
            if tx.is_coinbase():
                self.coinbases.add(txid)
            else:
                for n, txin in enumerate(tx.vin):
                    coin = self.utxos.pop(txin.outpoint)
                    prevouts.append(TxOut(coin.value, coin.script_pubkey))
                    self.spends[txin.outpoint] = (txid, n)
                    touched.append(coin.script_pubkey)
            self.prevouts[txid] = prevouts
            self.fees[txid] = sum(o.value for o in prevouts) - sum(o.value for o in tx.vout) if prevouts else 0
            self.confirmed[txid] = (tx, block.height, pos)
            if block.height == 0:
                continue  # the genesis coinbase is unspendable and unindexed, as in Core
            for n, out in enumerate(tx.vout):
                if out.script_pubkey[:1] != b"\x6a":
                    self.utxos[(txid, n)] = Coin(out.value, out.script_pubkey, block.height)
                touched.append(out.script_pubkey)
            for spk in dict.fromkeys(touched):
                self.history.setdefault(scripthash(spk), []).append(txid)

    @property
    def height(self) -> int:
        return len(self.blocks) - 1

    @property
    def tip(self) -> Block:
        return self.blocks[-1]

    def median_time_past(self, height: int | None = None) -> int:
        top = self.height if height is None else height
        return blocks.median_time_past(self.blocks[:top + 1])

    def is_coinbase(self, txid: str) -> bool:
        return txid in self.coinbases

    def view_coin(self, outpoint: tuple[str, int]) -> Coin | None:
        """Core's mempool view: confirmed UTXOs plus mempool outputs (spent or not)."""
        coin = self.utxos.get(outpoint)
        if coin is not None:
            return coin
        entry = self.mempool.get(outpoint[0])
        if entry is not None and outpoint[1] < len(entry.tx.vout):
            out = entry.tx.vout[outpoint[1]]
            return Coin(out.value, out.script_pubkey, None)
        return None

    def mempool_ancestors(self, tx: Tx) -> set[str]:
        found, todo = set(), [i.prev_txid for i in tx.vin]
        while todo:
            txid = todo.pop()
            if txid in self.mempool and txid not in found:
                found.add(txid)
                todo += [i.prev_txid for i in self.mempool[txid].tx.vin]
        return found

    def with_descendants(self, txids: set[str]) -> set[str]:
        found, todo = set(), list(txids)
        while todo:
            txid = todo.pop()
            if txid in found:
                continue
            found.add(txid)
            for n in range(len(self.mempool[txid].tx.vout)):
                spender = self.mempool_spends.get((txid, n))
                if spender:
                    todo.append(spender[0])
        return found

    # --- changing the chain ---

    def submit(self, raw: bytes | str) -> str:
        """``sendrawtransaction``: the txid, or ``Rejected`` with Core's code and words."""
        with self.lock:
            tx = self._decode(raw)
            txid = tx.txid
            if txid in self.mempool:
                return txid  # Core answers with the txid and re-announces it
            if any((txid, n) in self.utxos for n in range(len(tx.vout))):
                raise Rejected(ALREADY_IN_UTXO_SET, code=-27)
            self._accept(tx, check_max_fee=True)
            self._save()
            return txid

    def test_accept(self, raw: bytes | str) -> str | None:
        """``testmempoolaccept``: None if it would be accepted, else the reject message."""
        with self.lock:
            try:
                tx = self._decode(raw)
                accept.validate(self, tx)
            except Rejected as exc:
                return exc.message
            return None

    @staticmethod
    def _decode(raw: bytes | str) -> Tx:
        try:
            return Tx.parse(bytes.fromhex(raw.strip()) if isinstance(raw, str) else raw)
        except (DecodeError, ValueError):
            raise Rejected(DECODE_FAILED, code=-22) from None

    def _accept(self, tx: Tx, check_max_fee: bool = False) -> None:
        fee, prevouts, replaced = accept.validate(self, tx)
        if check_max_fee and fee > fee_for(MAX_FEE_SAT_PER_KVB, tx.vsize):
            raise Rejected(FEE_TOO_HIGH, code=-25)
        for txid in replaced:
            self._drop(txid)
        txid = tx.txid
        self.mempool[txid] = MempoolEntry(tx, fee, tx.vsize, prevouts, int(self.clock()))
        for n, txin in enumerate(tx.vin):
            self.mempool_spends[txin.outpoint] = (txid, n)

    def _drop(self, txid: str) -> None:
        entry = self.mempool.pop(txid)
        for txin in entry.tx.vin:
            self.mempool_spends.pop(txin.outpoint, None)

    def evict(self, txid: str) -> list[str]:
        """Drop a mempool transaction and its descendants, as Core does when the mempool
        is full or a transaction is older than ``-mempoolexpiry`` (336 h). Returns the txids."""
        with self.lock:
            if txid not in self.mempool:
                raise InvalidInput("bad_input", f"transaction {txid} is not in the mempool")
            gone = self.with_descendants({txid})
            for each in gone:
                self._drop(each)
            self._save()
        return sorted(gone)

    def mine(self, count: int = 1, address: str | None = None, script_pubkey: bytes | None = None) -> list[str]:
        """``generatetoaddress``: mine ``count`` blocks (the first takes the whole mempool)."""
        if script_pubkey is None:
            from .faucet import FAUCET_SCRIPT  # the faucet is funded by default
            script_pubkey = script_for(address) if address else FAUCET_SCRIPT
        hashes = []
        with self.lock:
            for _ in range(count):
                txs = [e.tx for e in self.mempool.values()]
                fees = sum(e.fee for e in self.mempool.values())
                height = self.height + 1
                cb = blocks.coinbase(height, script_pubkey, blocks.subsidy(height) + fees, txs)
                when = max(self.tip.time + 1, int(self.clock()))
                block = blocks.make_block(self.tip, [cb, *txs], when)
                self.mempool.clear()
                self.mempool_spends.clear()
                self._connect(block)
                hashes.append(block.hash)
            self._save()
        return hashes

    def invalidate(self, height: int) -> list[str]:
        """``invalidateblock`` of the block at ``height``: blocks >= height go; their
        transactions return to the mempool if still valid. Returns the txids returned."""
        with self.lock:
            if not 1 <= height <= self.height:
                raise InvalidInput("bad_input", f"no block at height {height} to invalidate (tip {self.height})")
            gone = self.blocks[height:]
            pending = [t for b in gone for t in b.txs[1:]] + [e.tx for e in self.mempool.values()]
            self._reset(self.blocks[:height])
            self.stale.update({b.hash: b for b in gone})
            returned = []
            for tx in pending:
                try:
                    self._accept(tx)
                    returned.append(tx.txid)
                except Rejected:
                    continue  # no longer valid on the shorter chain: dropped, as Core does
            self._save()
            return returned

    def _save(self) -> None:
        if self.path:
            store.save(self, self.path)
