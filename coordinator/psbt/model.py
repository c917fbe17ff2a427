"""Plain data the PSBT engine works on: coins and payments, in satoshis."""

from __future__ import annotations

from dataclasses import dataclass

from embit.transaction import Transaction

from ..errors import InvalidInput

MAX_MONEY = 21_000_000 * 100_000_000


@dataclass(frozen=True)
class Utxo:
    """A coin of the wallet: its outpoint, value and where it derives from.

    ``prev_tx`` is the whole previous transaction (it becomes the PSBT's
    ``non_witness_utxo``); ``value`` is read from it, never taken on trust.
    """

    txid: str  # hex, as block explorers show it
    vout: int
    value: int  # satoshis
    branch: int  # 0 receive, 1 change
    index: int
    prev_tx: bytes

    @classmethod
    def from_prev_tx(cls, prev_tx: bytes, vout: int, branch: int, index: int) -> "Utxo":
        try:
            tx = Transaction.parse(prev_tx)
        except Exception:  # embit raises assorted errors on garbage
            raise InvalidInput("malformed_utxo", "previous transaction does not parse") from None
        if not 0 <= vout < len(tx.vout):
            raise InvalidInput("malformed_utxo", f"previous transaction has no output {vout}")
        return cls(tx.txid().hex(), vout, tx.vout[vout].value, branch, index, bytes(prev_tx))

    @property
    def outpoint(self) -> str:
        return f"{self.txid}:{self.vout}"

    def check(self) -> None:
        """The prev tx really is this outpoint, and its value is ours."""
        tx = Transaction.parse(self.prev_tx)
        if tx.txid().hex() != self.txid or self.vout >= len(tx.vout):
            raise InvalidInput("malformed_utxo", f"previous transaction is not {self.outpoint}")
        if tx.vout[self.vout].value != self.value:
            raise InvalidInput("malformed_utxo", f"{self.outpoint} is worth {tx.vout[self.vout].value} sat")


@dataclass(frozen=True)
class Recipient:
    """A payment: address and amount in satoshis, with an optional note."""

    address: str
    amount: int
    label: str = ""
