"""The one interface Huddle uses to see the chain and broadcast.

Implementations: ``esplora.py`` (HTTP Esplora API: mempool.space, blockstream.info,
your own electrs/mempool) and ``core.py`` (Bitcoin Core JSON-RPC). Errors are
typed so callers can tell "try again later" from "the node said no".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence

from ..errors import Conflict, NotFound, Unavailable, register

register({
    "backend_unreachable": "the chain backend could not be reached",
    "backend_timeout": "the chain backend did not answer in time",
    "backend_error": "the chain backend answered with something unexpected",
    "tx_rejected": "the node refused the transaction; the message has its reason",
    "tx_not_found": "the backend does not know this transaction",
})


class BackendError(Unavailable):
    """The backend failed; retrying later may help."""


class Unreachable(BackendError):
    def __init__(self, message: str) -> None:
        super().__init__("backend_unreachable", message)


class Timeout(BackendError):
    def __init__(self, message: str) -> None:
        super().__init__("backend_timeout", message)


class BadResponse(BackendError):
    """The backend answered, but with something that does not parse or does not check out."""

    def __init__(self, message: str) -> None:
        super().__init__("backend_error", message)


class Rejected(Conflict):
    """The node refused a transaction; ``reason`` is the node's own words."""

    def __init__(self, reason: str) -> None:
        super().__init__("tx_rejected", f"the node rejected the transaction: {reason}", reason=reason)
        self.reason = reason


class TxNotFound(NotFound):
    def __init__(self, txid: str) -> None:
        super().__init__("tx_not_found", f"transaction {txid} is unknown to the backend")


@dataclass(frozen=True)
class TxStatus:
    confirmed: bool
    block_height: int | None = None
    block_hash: str | None = None
    block_time: int | None = None  # header timestamp, when the backend gives it


@dataclass(frozen=True)
class TxOut:
    script_pubkey: bytes
    value: int  # satoshis


@dataclass(frozen=True)
class TxIn:
    txid: str
    vout: int


@dataclass(frozen=True)
class ChainTx:
    """A transaction as the wallet needs it: spends, outputs, fee, status."""

    txid: str
    inputs: tuple[TxIn, ...]
    prevouts: tuple[TxOut | None, ...]  # None for coinbase
    outputs: tuple[TxOut, ...]
    fee: int
    status: TxStatus
    raw: bytes | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ChainUtxo:
    """An unspent output paying one of the scripts asked about."""

    txid: str
    vout: int
    value: int  # satoshis
    script_pubkey: bytes
    status: TxStatus


def unspent(history: dict[bytes, list[ChainTx]]) -> dict[bytes, list[ChainUtxo]]:
    """The outputs to each script that no transaction in ``history`` spends.

    Every spend of a script's output is in that script's history, so the
    history alone decides; backends need no second query.
    """
    txs = {tx.txid: tx for txs in history.values() for tx in txs}
    spent = {(i.txid, i.vout) for tx in txs.values() for i in tx.inputs}
    out: dict[bytes, list[ChainUtxo]] = {script: [] for script in history}
    for tx in txs.values():
        for vout, o in enumerate(tx.outputs):
            if o.script_pubkey in out and (tx.txid, vout) not in spent:
                out[o.script_pubkey].append(ChainUtxo(tx.txid, vout, o.value, o.script_pubkey, tx.status))
    return out


class ChainBackend(Protocol):
    """What every backend provides. Amounts in satoshis, fee rates in sat/kvB."""

    network: str

    def tip(self) -> tuple[int, str]:
        """(height, block hash) of the best chain."""

    def block_hash(self, height: int) -> str:
        """Hash of the best-chain block at ``height``."""

    def fee_estimates(self) -> dict[int, int]:
        """Confirmation target in blocks → fee rate in sat per 1000 vB."""

    def script_history(self, script_pubkeys: Sequence[bytes]) -> dict[bytes, list[ChainTx]]:
        """Every transaction touching each script (confirmed and mempool)."""

    def utxos(self, script_pubkeys: Sequence[bytes]) -> dict[bytes, list[ChainUtxo]]:
        """The unspent outputs paying each script (``unspent(script_history(...))``)."""

    def raw_transaction(self, txid: str) -> bytes:
        """The serialized transaction; raises TxNotFound."""

    def broadcast(self, raw_tx: bytes) -> str:
        """Send to the network; returns the txid, raises Rejected with the reason."""
