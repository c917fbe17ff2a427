"""The append-only audit log: one SHA-256 hash chain per chain key.

Each entry commits to the one before it (DESIGN.md, "The audit log is a hash
chain"): ``hash = SHA-256(prev_hash || canonical(entry without hash))``, with
the entry in the canonical encoding (``coordinator/canonical.py``) and a
version field. Entries are appended inside the caller's write transaction, so
a state change and its audit entry commit together or not at all. Chain keys:
``server`` for account events, ``wallet:<id>`` for a wallet's history.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Iterable

from sqlite_utils import Database

from .. import canonical
from ..store.db import write
from ..errors import NotFound
from .errors import ChainBroken, InvalidInput

GENESIS = "00" * 32  # the prev_hash of a chain's first entry
SERVER_CHAIN = "server"
_FIELDS = ("chain", "seq", "prev_hash", "at", "actor", "type", "body", "hash")


def wallet_chain(wallet_id: int) -> str:
    return f"wallet:{wallet_id}"


@dataclass(frozen=True)
class Head:
    """Where a chain ends: the sequence number and hash of its last entry."""

    seq: int
    hash: str

    def to_string(self) -> str:
        """The form of the ``Huddle-Audit-Head`` header: ``<seq>:<hash>``."""
        return f"{self.seq}:{self.hash}"


EMPTY = Head(0, GENESIS)


@dataclass(frozen=True)
class Entry:
    chain: str
    seq: int
    prev_hash: str
    at: int
    actor: str
    type: str
    body: dict
    hash: str

    def unhashed(self) -> dict:
        """What the hash covers: every field but the hash, with the version."""
        return {"v": canonical.VERSION, "chain": self.chain, "seq": self.seq, "prev": self.prev_hash,
                "at": self.at, "actor": self.actor, "type": self.type, "body": self.body}

    def computed_hash(self) -> str:
        return hashlib.sha256(bytes.fromhex(self.prev_hash) + canonical.encode(self.unhashed())).hexdigest()

    @classmethod
    def from_row(cls, row: dict) -> "Entry":
        return cls(row["chain"], row["seq"], row["prev_hash"], row["at"], row["actor"], row["type"],
                   json.loads(row["body"]), row["hash"])

    def to_dict(self) -> dict:
        """The exported form (``huddle audit export``, the API's entries)."""
        return {"v": canonical.VERSION, "chain": self.chain, "seq": self.seq, "prev": self.prev_hash,
                "at": self.at, "actor": self.actor, "type": self.type, "body": self.body, "hash": self.hash}

    @classmethod
    def from_dict(cls, data: object) -> "Entry":
        keys = {"v", "chain", "seq", "prev", "at", "actor", "type", "body", "hash"}
        if not isinstance(data, dict) or set(data) != keys or data["v"] != canonical.VERSION:
            raise InvalidInput("audit_malformed", f"not a version {canonical.VERSION} audit entry: {str(data)[:80]}")
        entry = cls(data["chain"], data["seq"], data["prev"], data["at"], data["actor"], data["type"],
                    data["body"], data["hash"])
        types = (str, int, str, int, str, str, dict, str)
        if not all(isinstance(getattr(entry, f), t) and not isinstance(getattr(entry, f), bool)
                   for f, t in zip(_FIELDS, types)):
            raise InvalidInput("audit_malformed", f"audit entry {data.get('seq')!r} has a field of the wrong type")
        if not all(_is_hash(h) for h in (entry.prev_hash, entry.hash)):
            raise InvalidInput("audit_malformed", f"audit entry {entry.seq}: hashes are 64 lowercase hex digits")
        return entry


def _is_hash(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def append(db: Database, chain: str, type_: str, body: dict, actor: str, at: int | None = None) -> Entry:
    """Add an entry at the end of ``chain``, in the caller's transaction if there is one."""
    with write(db):
        last = head(db, chain)
        entry = Entry(chain, last.seq + 1, last.hash, int(time.time()) if at is None else at, actor, type_,
                      body, "")
        entry = Entry(**{**entry.__dict__, "hash": entry.computed_hash()})
        db.execute("INSERT INTO audit_log (chain, seq, prev_hash, at, actor, type, body, hash) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [chain, entry.seq, entry.prev_hash, entry.at, actor, type_,
                    canonical.encode(body).decode("utf-8"), entry.hash])
    return entry


def start_wallet_chain(db: Database, wallet_id: int, actor: str, at: int | None = None) -> None:
    """Make sure the wallet's chain begins by committing to its policy id
    (DESIGN.md); a wallet imported before the server ran gets it on first use."""
    chain = wallet_chain(wallet_id)
    with write(db):
        if head(db, chain) != EMPTY:
            return
        row = db.execute("SELECT policy_id, network, name FROM wallets WHERE id = ?", [wallet_id]).fetchone()
        if row is None:
            raise NotFound("wallet_not_found", "no such wallet")
        append(db, chain, "wallet_created", {"policy_id": row[0], "network": row[1], "name": row[2]}, actor, at)


def append_to_wallet(db: Database, wallet_id: int, type_: str, body: dict, actor: str,
                     at: int | None = None) -> Entry:
    """Append to a wallet's chain, starting it first if needed."""
    with write(db):
        start_wallet_chain(db, wallet_id, "system", at)
        return append(db, wallet_chain(wallet_id), type_, body, actor, at)


def head(db: Database, chain: str) -> Head:
    row = db.execute("SELECT seq, hash FROM audit_log WHERE chain = ? ORDER BY seq DESC LIMIT 1",
                     [chain]).fetchone()
    return Head(row[0], row[1]) if row else EMPTY


def entries(db: Database, chain: str, after: int = 0) -> list[Entry]:
    """The chain's entries after sequence number ``after``, in order."""
    cursor = db.execute(f"SELECT {', '.join(_FIELDS)} FROM audit_log WHERE chain = ? AND seq > ? ORDER BY seq",
                        [chain, after])
    return [Entry.from_row(dict(zip(_FIELDS, row))) for row in cursor.fetchall()]


def chains(db: Database) -> list[str]:
    return [row[0] for row in db.execute("SELECT DISTINCT chain FROM audit_log ORDER BY chain").fetchall()]


def verify(chain_entries: Iterable[Entry], start: Head = EMPTY) -> Head:
    """Check that the entries extend ``start`` link by link and hash as they claim.

    Returns the new head; raises ``ChainBroken`` naming the first bad entry.
    """
    last, name = start, None
    for entry in chain_entries:
        name = entry.chain if name is None else name
        if entry.chain != name:
            raise ChainBroken(name, entry.seq, f"belongs to another chain ({entry.chain!r})")
        if entry.seq != last.seq + 1:
            raise ChainBroken(name, entry.seq, f"expected entry {last.seq + 1} here (an entry was removed or moved)")
        if entry.prev_hash != last.hash:
            raise ChainBroken(name, entry.seq, "its prev hash is not the hash of the entry before it")
        if entry.computed_hash() != entry.hash:
            raise ChainBroken(name, entry.seq, "its content does not match its hash (the entry was edited)")
        last = Head(entry.seq, entry.hash)
    return last
