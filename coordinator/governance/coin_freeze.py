"""Frozen coins (docs/errors-coins.md, docs/ledger.md "Labels"): an output whose BIP-329
``spendable`` is false, as Sparrow writes a coin it has frozen. Automatic coin selection
never takes a frozen coin and a member who chooses one is refused (``coin_frozen``):
Sparrow applies its FrozenTxoFilter to every spend, chosen coins too, so a frozen coin
is spent only after someone unfreezes it.

The state lives in the labels table (``wallet_labels.spendable`` on the ``output``
record), so the BIP-329 export carries it out and an import in; m060 keeps who set it
last and how (a label import or a member). Keyholders freeze and unfreeze here, each
change an entry in the wallet's audit chain and an event in its room (``coin_frozen``,
``coin_unfrozen``; docs/events.md), written in the change's transaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlite_utils import Database

from ..errors import Conflict
from ..store.db import write
from . import audit, outbox
from .events import CoinFrozen, CoinUnfrozen

Outpoint = tuple[str, int]


@dataclass(frozen=True)
class Freeze:
    """Why a coin is frozen: ``via`` "import" (a BIP-329 file said spendable false) or
    "member" (a keyholder froze it), by whom (the importer or the member) and when."""

    via: str
    by: int | None
    by_name: str | None
    at: int | None

    def reason(self) -> str:
        if self.via == "import":
            return "frozen by label import" + (f" ({self.by_name})" if self.by_name else "")
        return f"frozen by {self.by_name}" if self.by_name else "frozen by a member"


def frozen(db: Database, wallet_id: int) -> dict[Outpoint, Freeze]:
    """Every output of the wallet the labels mark unspendable, spent ones included."""
    rows = db.execute(
        "SELECT l.ref, COALESCE(l.spendable_via, 'import'), l.spendable_by, u.name, l.spendable_at"
        " FROM wallet_labels l LEFT JOIN users u ON u.id = l.spendable_by"
        " WHERE l.wallet_id = ? AND l.type = 'output' AND l.spendable = 0", [wallet_id]).fetchall()
    out = {}
    for ref, via, by, name, at in rows:
        txid, vout = ref.split(":")  # stored refs are checked outpoints (labels.py _outpoint)
        out[(txid, int(vout))] = Freeze(via, by, name, at)
    return out


def set_frozen(db: Database, wallet_id: int, outpoint: Outpoint, frozen_now: bool, actor: int,
               now: int | None = None) -> bool:
    """Freeze or unfreeze one unspent coin (the caller checked it is one); True if that
    changed it. A coin a proposal family holds is not frozen (``coin_locked``, checked
    in this transaction): freezing would not stop that proposal. Unfreezing stores
    spendable true, so that a wallet the export goes back to (Sparrow) unfreezes it too."""
    at = int(time.time()) if now is None else now
    ref = f"{outpoint[0]}:{outpoint[1]}"
    with write(db):
        current = db.execute("SELECT spendable FROM wallet_labels WHERE wallet_id = ? AND type = 'output'"
                             " AND ref = ?", [wallet_id, ref]).fetchone()
        if (current is not None and current[0] == 0) == frozen_now:
            return False
        held = db.execute(
            "SELECT (SELECT max(p.id) FROM proposals p WHERE p.family_id = l.family_id AND p.state IN"
            " ('open', 'broadcast')) FROM coin_locks l WHERE l.wallet_id = ? AND l.txid = ? AND l.vout = ?",
            [wallet_id, *outpoint]).fetchone()
        if frozen_now and held is not None:
            where = f"proposal {held[0]}" if held[0] is not None else "another proposal"
            raise Conflict("coin_locked", f"coin {ref} is in {where}, still pending: cancel it before "
                           "freezing the coin", outpoint=ref, proposal=held[0])
        db.execute(
            "INSERT INTO wallet_labels (wallet_id, type, ref, spendable, updated_by, updated_at, spendable_via,"
            " spendable_by, spendable_at) VALUES (?, 'output', ?, ?, ?, ?, 'member', ?, ?)"
            " ON CONFLICT (wallet_id, type, ref) DO UPDATE SET spendable = excluded.spendable,"
            " updated_by = excluded.updated_by, updated_at = excluded.updated_at, spendable_via = 'member',"
            " spendable_by = excluded.spendable_by, spendable_at = excluded.spendable_at",
            [wallet_id, ref, 0 if frozen_now else 1, actor, at, actor, at])
        audit.append_to_wallet(db, wallet_id, "coin_frozen" if frozen_now else "coin_unfrozen",
                               {"outpoint": ref}, actor=f"user:{actor}", at=at)
        # after the audit entry, so the event carries the head that includes it
        kind = CoinFrozen if frozen_now else CoinUnfrozen
        outbox.record(db, kind(wallet_id, ref, actor, "member"), at=at)
    return True
