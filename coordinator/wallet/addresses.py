"""Receive and change addresses: derivation, atomic allocation, gap limit.

Every address Huddle hands out is recorded before it is shown, inside one
``BEGIN IMMEDIATE`` transaction, so two members asking at once never get the
same address. At most ``GAP_LIMIT`` handed-out addresses may sit unused past
the last used one: wallets restoring from the descriptor (Sparrow, Core, BDK)
stop scanning after 20 empty addresses, and coins beyond would look lost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from embit import bech32
from embit.script import Script
from sqlite_utils import Database

from .. import networks
from ..errors import Conflict
from ..store.db import write
from ..store.wallets import Wallet
from .descriptor import CHANGE, RECEIVE, MultisigDescriptor

GAP_LIMIT = 20
BRANCHES = {"receive": RECEIVE, "change": CHANGE}


@dataclass(frozen=True)
class Address:
    branch: int
    index: int
    address: str
    script_pubkey: str  # hex
    issued: bool = False
    used: bool = False

    @property
    def path_suffix(self) -> str:
        return f"{self.branch}/{self.index}"

    def to_dict(self) -> dict:
        return {"branch": "receive" if self.branch == RECEIVE else "change",
                "index": self.index, "address": self.address,
                "issued": self.issued, "used": self.used}


def derive(descriptor: MultisigDescriptor, network: str, branch: int, start: int, count: int) -> list[Address]:
    """Addresses ``start .. start+count-1`` on one branch, without storing them."""
    out = []
    for index in range(start, start + count):
        spk = descriptor.script_pubkey(branch, index)
        out.append(Address(branch, index, descriptor.address(branch, index, network), spk.data.hex()))
    return out


def issue(db: Database, wallet: Wallet, branch: int = RECEIVE) -> Address:
    """Hand out the next fresh address on ``branch``, recording it first."""
    with write(db):
        last_used, last_issued = db.execute(
            "SELECT MAX(CASE WHEN used THEN idx END), MAX(CASE WHEN issued_at IS NOT NULL THEN idx END)"
            " FROM addresses WHERE wallet_id = ? AND branch = ?",
            [wallet.id, branch],
        ).fetchone()
        after_used = 0 if last_used is None else last_used + 1
        index = max(after_used, 0 if last_issued is None else last_issued + 1)
        if index - after_used >= GAP_LIMIT:
            raise Conflict(
                "gap_limit_reached",
                f"{GAP_LIMIT} addresses were handed out and none has received coins yet; "
                "reuse one of them (huddle wallet addresses NAME --issued) until one is paid",
            )
        [address] = derive(wallet.descriptor, wallet.network, branch, index, 1)
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        db.execute(
            "INSERT INTO addresses (wallet_id, branch, idx, address, script_pubkey, issued_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (wallet_id, branch, idx)"
            " DO UPDATE SET issued_at = excluded.issued_at",
            [wallet.id, branch, index, address.address, address.script_pubkey, now],
        )
    return Address(branch, index, address.address, address.script_pubkey, issued=True)


def mark_used(db: Database, wallet: Wallet, branch: int, index: int) -> None:
    """Record that an address received coins (chain sync calls this)."""
    [address] = derive(wallet.descriptor, wallet.network, branch, index, 1)
    with write(db):
        db.execute(
            "INSERT INTO addresses (wallet_id, branch, idx, address, script_pubkey, used)"
            " VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT (wallet_id, branch, idx) DO UPDATE SET used = 1",
            [wallet.id, branch, index, address.address, address.script_pubkey],
        )


def mark_used_many(db: Database, wallet: Wallet, used: list[tuple[int, int, bytes]]) -> None:
    """``mark_used`` for many (branch, index, script_pubkey) at once, in one transaction.

    Chain sync derived the scripts already; deriving them again here would
    double the work of a first sync of a large wallet.
    """
    if not used:
        return
    params = networks.params(wallet.network)
    rows = [[wallet.id, branch, index, _address(spk, params), spk.hex()] for branch, index, spk in used]
    with write(db):
        db.conn.executemany(
            "INSERT INTO addresses (wallet_id, branch, idx, address, script_pubkey, used)"
            " VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT (wallet_id, branch, idx) DO UPDATE SET used = 1",
            rows,
        )


def _address(spk: bytes, params: dict) -> str:
    """P2WSH straight to bech32, without embit's decode-after-encode (half the cost)."""
    if len(spk) == 34 and spk[:2] == b"\x00\x20":
        return bech32.bech32_encode(bech32.Encoding.BECH32, params["bech32"], [0] + bech32.convertbits(spk[2:], 8, 5))
    return Script(spk).address(params)


def listing(db: Database, wallet: Wallet, branch: int, start: int, count: int) -> list[Address]:
    """Derived addresses with what the store knows about each."""
    rows = {
        r["idx"]: r
        for r in db["addresses"].rows_where(
            "wallet_id = ? AND branch = ? AND idx >= ? AND idx < ?",
            [wallet.id, branch, start, start + count],
        )
    }
    out = []
    for a in derive(wallet.descriptor, wallet.network, branch, start, count):
        row = rows.get(a.index, {})
        out.append(Address(a.branch, a.index, a.address, a.script_pubkey,
                           issued=row.get("issued_at") is not None, used=bool(row.get("used"))))
    return out


def issued_unused(db: Database, wallet: Wallet, branch: int = RECEIVE) -> list[Address]:
    rows = db["addresses"].rows_where(
        "wallet_id = ? AND branch = ? AND issued_at IS NOT NULL AND used = 0",
        [wallet.id, branch], order_by="idx",
    )
    return [Address(r["branch"], r["idx"], r["address"], r["script_pubkey"], True, False) for r in rows]


def last_used(db: Database, wallet: Wallet, branch: int) -> int | None:
    """Highest index known to have received coins on ``branch``, if any."""
    row = db.execute(
        "SELECT MAX(idx) FROM addresses WHERE wallet_id = ? AND branch = ? AND used",
        [wallet.id, branch],
    ).fetchone()
    return row[0]


def change_index(db: Database, wallet: Wallet) -> int:
    """A change index for a new spend: the lowest handed out and still unused,
    else a fresh one. Drafts that are never broadcast then do not use up the
    change branch's gap limit."""
    unused = issued_unused(db, wallet, CHANGE)
    return unused[0].index if unused else issue(db, wallet, CHANGE).index
