"""A wallet's view of the chain: its coins, balance and history, in satoshis."""

from __future__ import annotations

from dataclasses import dataclass

COINBASE_MATURITY = 100


@dataclass(frozen=True)
class WalletUtxo:
    txid: str
    vout: int
    value: int
    branch: int
    index: int
    height: int | None  # None while unconfirmed
    coinbase: bool = False

    @property
    def outpoint(self) -> str:
        return f"{self.txid}:{self.vout}"

    def confirmations(self, tip_height: int) -> int:
        return 0 if self.height is None else max(tip_height, self.height) - self.height + 1

    def is_mature(self, tip_height: int) -> bool:
        return not self.coinbase or self.confirmations(tip_height) >= COINBASE_MATURITY

    @classmethod
    def from_row(cls, row: dict) -> "WalletUtxo":
        return cls(row["txid"], row["vout"], row["value"], row["branch"], row["idx"], row["height"],
                   bool(row["coinbase"]))

    def to_row(self, wallet_id: int) -> dict:
        return {"wallet_id": wallet_id, "txid": self.txid, "vout": self.vout, "value": self.value,
                "branch": self.branch, "idx": self.index, "height": self.height,
                "coinbase": int(self.coinbase)}


@dataclass(frozen=True)
class HistoryEntry:
    """One transaction of the wallet: what it did to the balance, and its fee."""

    txid: str
    net: int  # received by the wallet minus spent from it
    fee: int
    height: int | None
    block_hash: str | None
    block_time: int | None
    raw: bytes | None = None

    def confirmations(self, tip_height: int) -> int:
        return 0 if self.height is None else max(tip_height, self.height) - self.height + 1

    @classmethod
    def from_row(cls, row: dict) -> "HistoryEntry":
        raw = bytes.fromhex(row["raw"]) if row.get("raw") else None
        return cls(row["txid"], row["net"], row["fee"], row["height"], row["block_hash"],
                   row["block_time"], raw)

    def to_row(self, wallet_id: int, first_seen: str) -> dict:
        return {"wallet_id": wallet_id, "txid": self.txid, "net": self.net, "fee": self.fee,
                "height": self.height, "block_hash": self.block_hash, "block_time": self.block_time,
                "raw": self.raw.hex() if self.raw else None, "first_seen": first_seen}


@dataclass(frozen=True)
class Balance:
    confirmed: int = 0
    unconfirmed: int = 0  # mempool coins, ours or incoming
    immature: int = 0  # coinbase outputs younger than 100 blocks

    @property
    def total(self) -> int:
        return self.confirmed + self.unconfirmed + self.immature

    @classmethod
    def of(cls, utxos: list[WalletUtxo], tip_height: int) -> "Balance":
        confirmed = unconfirmed = immature = 0
        for u in utxos:
            if not u.is_mature(tip_height):
                immature += u.value
            elif u.height is None:
                unconfirmed += u.value
            else:
                confirmed += u.value
        return cls(confirmed, unconfirmed, immature)


@dataclass(frozen=True)
class SyncState:
    tip_height: int
    tip_hash: str
    balance: Balance
    synced_at: str
