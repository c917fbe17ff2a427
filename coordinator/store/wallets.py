"""Stored wallets: one row per wallet plus its cosigners' labels and devices.

The descriptor text is the source of truth for keys; the cosigners table
keeps what the descriptor cannot (who holds each key, on which device).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlite_utils import Database

from .. import networks
from ..errors import Conflict, InvalidInput, NotFound
from ..wallet.descriptor import MultisigDescriptor
from ..wallet.keys import Cosigner
from .db import write

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")


@dataclass(frozen=True)
class Wallet:
    id: int
    name: str
    network: str
    descriptor: MultisigDescriptor
    created_at: str
    birth_height: int | None = None  # sync start hint from the imported file, if it had one

    @classmethod
    def from_row(cls, row: dict, cosigner_rows: list[dict]) -> "Wallet":
        desc = MultisigDescriptor.from_string(row["descriptor"])
        extra = {r["position"]: r for r in cosigner_rows}
        cosigners = tuple(
            Cosigner(c.origin, c.xpub, extra.get(i, {}).get("label", ""), extra.get(i, {}).get("device", ""))
            for i, c in enumerate(desc.cosigners)
        )
        desc = MultisigDescriptor(desc.script_type, desc.threshold, cosigners, desc.sorted)
        return cls(row["id"], row["name"], row["network"], desc, row["created_at"], row.get("birth_height"))

    def to_row(self) -> dict:
        d = self.descriptor
        return {
            "name": self.name, "network": self.network, "descriptor": d.to_string(),
            "policy_id": d.policy_id, "script_type": d.script_type,
            "threshold": d.threshold, "n": d.n, "created_at": self.created_at,
            "birth_height": self.birth_height,
        }


def check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise InvalidInput(
            "bad_wallet_name",
            f"wallet name {name!r} must be 1-64 letters, digits, spaces, '.', '_' or '-', "
            "starting with a letter or digit",
        )
    return name


def add(db: Database, name: str, network: str, descriptor: MultisigDescriptor,
        birth_height: int | None = None) -> Wallet:
    """Store a new wallet; refuses a taken name or the same wallet twice."""
    name = check_name(name)
    descriptor.check_network(network)
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    wallet = Wallet(0, name, network, descriptor, now, birth_height)
    with write(db):
        if db.execute("SELECT 1 FROM wallets WHERE name = ?", [name]).fetchone():
            raise Conflict("wallet_exists", f"a wallet named {name!r} already exists")
        twin = db.execute(
            "SELECT name FROM wallets WHERE network = ? AND policy_id = ?",
            [network, descriptor.policy_id],
        ).fetchone()
        if twin:
            raise Conflict("wallet_duplicate", f"this wallet is already stored as {twin[0]!r}")
        # Ids are never reused: an audit chain is named by its wallet's id (m012).
        (last,) = db.execute("SELECT max(id) FROM (SELECT id FROM wallets"
                             " UNION ALL SELECT id FROM retired_wallet_ids)").fetchone()
        wallet_id = db["wallets"].insert({"id": (last or 0) + 1, **wallet.to_row()}).last_pk
        db["cosigners"].insert_all(
            {"wallet_id": wallet_id, "position": i, "fingerprint": c.fingerprint,
             "path": c.origin.path_string, "xpub": c.xpub, "label": c.label, "device": c.device}
            for i, c in enumerate(descriptor.cosigners)
        )
    return get(db, name)


def get(db: Database, name: str) -> Wallet:
    row = next(db["wallets"].rows_where("name = ?", [name.strip()]), None)
    if row is None:
        raise NotFound("wallet_not_found", f"no wallet named {name!r}; see `huddle wallet list`")
    cosigners = list(db["cosigners"].rows_where("wallet_id = ?", [row["id"]]))
    return Wallet.from_row(row, cosigners)


def list_all(db: Database) -> list[Wallet]:
    return [get(db, row["name"]) for row in db["wallets"].rows_where(order_by="name")]


def remove(db: Database, name: str) -> None:
    wallet = get(db, name)
    with write(db):
        db.execute("DELETE FROM wallets WHERE id = ?", [wallet.id])


def import_text(db: Database, text: str, network: str, name: str | None = None,
                fmt: str | None = None, origins: tuple[str, ...] = ()) -> Wallet:
    """Parse a wallet file in any supported format and store it.

    ``origins`` are ``FPR:PATH`` texts for keys the file has no origin for.
    """
    from ..wallet import formats  # formats import the descriptor, not the store
    from ..wallet.keys import KeyOrigin

    loaded = formats.load(text, fmt, tuple(KeyOrigin.from_option(o) for o in origins))
    if loaded.network and networks.is_test(loaded.network) != networks.is_test(network):
        raise InvalidInput(
            "wrong_network",
            f"the file is for {loaded.network} but Huddle runs on {network} (HUDDLE_NETWORK)",
        )
    chosen = (name or loaded.name or "").strip()
    if not chosen:
        raise InvalidInput("bad_wallet_name", "the file names no wallet; pass --name")
    return add(db, chosen, network, loaded.descriptor, loaded.birth_height)


def export_text(wallet: Wallet, fmt: str, as_name: str | None = None) -> str:
    """The wallet as a file for another tool, optionally under another name."""
    from ..wallet import formats

    name = check_name(as_name) if as_name else wallet.name
    loaded = formats.WalletFile(name, wallet.descriptor, wallet.network, wallet.birth_height)
    return formats.dump(loaded, fmt, wallet.network)
