"""Plain data the PSBT engine works on: coins and payments, in satoshis."""

from __future__ import annotations

from dataclasses import dataclass

from embit.transaction import Transaction, TransactionOutput

from ..errors import InvalidInput

MAX_MONEY = 21_000_000 * 100_000_000


def parse_tx(raw: bytes) -> Transaction | None:
    """A serialized transaction, or None if it does not parse.

    embit raises assorted errors (and asserts) on garbage; this is the one
    place they are caught, and each caller says what a failure means.
    """
    try:
        return Transaction.parse(raw)
    except Exception:  # noqa: BLE001 (any failure means "not a transaction")
        return None


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
        tx = parse_tx(prev_tx)
        if tx is None:
            raise InvalidInput("malformed_utxo", "previous transaction does not parse")
        if not 0 <= vout < len(tx.vout):
            raise InvalidInput("malformed_utxo", f"previous transaction has no output {vout}")
        return cls(tx.txid().hex(), vout, tx.vout[vout].value, branch, index, bytes(prev_tx))

    @property
    def outpoint(self) -> str:
        return f"{self.txid}:{self.vout}"

    def verified_output(self) -> "TransactionOutput":
        """The output this coin is, read from its previous transaction after
        checking that transaction is the outpoint's and pays ``value``."""
        tx = parse_tx(self.prev_tx)
        if tx is None:
            raise InvalidInput("malformed_utxo", f"coin {self.outpoint}: its previous transaction does not parse")
        if tx.txid().hex() != self.txid or self.vout >= len(tx.vout) or tx.vout[self.vout].value != self.value:
            raise InvalidInput("malformed_utxo", f"coin {self.outpoint}: its previous transaction "
                               "is another one or pays another amount")
        return tx.vout[self.vout]


@dataclass(frozen=True)
class Recipient:
    """A payment: address and amount in satoshis, with an optional note."""

    address: str
    amount: int
    label: str = ""
