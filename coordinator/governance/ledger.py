"""The group ledger: every transaction touching a wallet, with its why and its who.

A view, not a second source of truth (DESIGN.md): the amounts, fees, heights
and times come from the wallet's synced chain data (``wallet_txs``, written by
chain sync); the memo and proposer from the proposal whose unsigned
transaction has the same txid (segwit: the txid does not cover the witness, so
the proposal's PSBT names the broadcast transaction before anyone signs); who
approved and who signed from the wallet's audit chain; the label from the
group's imported BIP-329 labels (governance/labels.py). Nothing here is stored.
Amounts are integer satoshis (docs/ledger.md).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from sqlite_utils import Database

from ..psbt import codec
from ..psbt.model import parse_tx
from . import audit
from .intent import memo_hash


@dataclass(frozen=True)
class Person:
    """A member as the ledger names them; a signer may be only a cosigner key
    (``user`` None) when the signature came without a member (a QR device)."""

    user: int | None
    name: str | None
    fingerprint: str | None = None  # the cosigner's master fingerprint, for signers
    cosigner: str | None = None  # the cosigner's label in the wallet

    def to_dict(self) -> dict:
        out: dict = {"user": self.user, "name": self.name}
        if self.fingerprint is not None or self.cosigner is not None:
            out.update(fingerprint=self.fingerprint, cosigner=self.cosigner)
        return out


@dataclass(frozen=True)
class LedgerEntry:
    txid: str
    direction: str  # "incoming", "outgoing" or "self" (only the fee left the wallet)
    net: int  # received by the wallet minus spent from it, sats
    fee: int | None  # what the wallet paid the miners; None for incoming
    height: int | None  # None while pending
    time: int | None  # the block's time, or when sync first saw it while pending (UTC seconds)
    confirmations: int
    balance_after: int | None  # the confirmed balance after this transaction; None while pending
    memo: str | None = None
    memo_verified: bool | None = None  # the memo's SHA-256 is the one the audit chain committed to
    label: str | None = None
    proposal: int | None = None
    proposer: Person | None = None
    approved_by: tuple[Person, ...] = ()
    signed_by: tuple[Person, ...] = ()

    @property
    def pending(self) -> bool:
        return self.height is None

    def to_dict(self) -> dict:
        return {"txid": self.txid, "direction": self.direction, "net": self.net, "fee": self.fee,
                "height": self.height, "time": self.time, "confirmations": self.confirmations,
                "pending": self.pending, "balance_after": self.balance_after, "memo": self.memo,
                "memo_verified": self.memo_verified, "label": self.label, "proposal": self.proposal,
                "proposer": self.proposer.to_dict() if self.proposer else None,
                "approved_by": [p.to_dict() for p in self.approved_by],
                "signed_by": [p.to_dict() for p in self.signed_by]}


@dataclass(frozen=True)
class Ledger:
    wallet_id: int
    tip_height: int | None  # None until the wallet is synced
    synced_at: str | None
    entries: list[LedgerEntry] = field(default_factory=list)  # oldest first, pending last
    succession: dict = field(default_factory=dict)  # retired/successor/predecessor links, late coins (issue 15)

    @property
    def confirmed(self) -> int:
        return sum(e.net for e in self.entries if not e.pending)

    @property
    def pending(self) -> int:
        return sum(e.net for e in self.entries if e.pending)

    def balances(self) -> list[dict]:
        """The confirmed balance at the end of each block that touched the wallet."""
        points: dict[int, dict] = {}
        for e in self.entries:
            if not e.pending:
                points[e.height] = {"height": e.height, "time": e.time, "balance": e.balance_after}
        return list(points.values())

    def to_dict(self) -> dict:
        return {"wallet_id": self.wallet_id, "tip_height": self.tip_height, "synced_at": self.synced_at,
                "balance": {"confirmed": self.confirmed, "pending": self.pending,
                            "total": self.confirmed + self.pending},
                "balances": self.balances(), "entries": [e.to_dict() for e in self.entries], **self.succession}


@dataclass
class _Linked:
    """What governance says about one proposal's transaction."""

    proposal: int
    family: str
    proposer: int
    memo: str | None
    keys: dict[str, str]  # pubkey hex -> master fingerprint hex, from the PSBT's derivations
    memo_sha256: str | None = None  # what the chain's proposal_created entry committed to
    approvers: list[int] = field(default_factory=list)
    signers: list[tuple[int | None, str]] = field(default_factory=list)  # (user, pubkey hex)


def build(db: Database, wallet_id: int) -> Ledger:
    """The wallet's ledger from what is stored now."""
    state = db.execute("SELECT tip_height, synced_at FROM sync_state WHERE wallet_id = ?", [wallet_id]).fetchone()
    tip, synced_at = (state[0], state[1]) if state else (None, None)
    rows = _history(db, wallet_id)
    linked = _linked(db, wallet_id, {r["txid"] for r in rows})
    names = dict(db.execute("SELECT id, name FROM users").fetchall())
    cosigners = {fp: label for fp, label in db.execute(
        "SELECT fingerprint, label FROM cosigners WHERE wallet_id = ?", [wallet_id]).fetchall()}
    labels = dict(db.execute("SELECT ref, label FROM wallet_labels WHERE wallet_id = ? AND type = 'tx' "
                             "AND label IS NOT NULL", [wallet_id]).fetchall())
    entries, running = [], 0
    for row in rows:
        if row["height"] is not None:
            running += row["net"]
        link = linked.get(row["txid"])
        entries.append(_entry(row, tip, running, link, names, cosigners, labels.get(row["txid"])))
    return Ledger(wallet_id, tip, synced_at, entries, _succession(db, wallet_id))


def _succession(db: Database, wallet_id: int) -> dict:
    """The links between a retired wallet's ledger and its successor's, both ways, and the
    coins flagged for arriving after retirement (docs/successor.md)."""
    from . import successor  # successor -> wallet_setup -> ...; read only when a ledger is built

    retired, before = successor.retired(db, wallet_id), successor.predecessor(db, wallet_id)
    return {"retired": retired is not None,
            "successor": retired.to_dict()["successor"] | {"retired_at": retired.retired_at} if retired else None,
            "predecessor": before.to_dict()["retired"] | {"retired_at": before.retired_at} if before else None,
            "late_coins": successor.flag_late_coins(db, wallet_id) if retired else []}


def memos(db: Database, wallet_id: int) -> dict[str, str]:
    """The memo of each transaction in the wallet's history that a proposal made."""
    txids = {r[0] for r in db.execute("SELECT txid FROM wallet_txs WHERE wallet_id = ?", [wallet_id]).fetchall()}
    return {txid: link.memo for txid, link in _linked(db, wallet_id, txids).items() if link.memo is not None}


def _entry(row: dict, tip: int | None, running: int, link: _Linked | None, names: dict[int, str],
           cosigners: dict[str, str], label: str | None) -> LedgerEntry:
    net, fee, height = row["net"], row["fee"], row["height"]
    direction = "incoming" if net > 0 else ("self" if -net == fee or net == 0 else "outgoing")
    confirmations = 0 if height is None or tip is None else max(tip, height) - height + 1
    time_ = row["block_time"] if height is not None else _epoch(row["first_seen"])
    entry = LedgerEntry(row["txid"], direction, net, None if direction == "incoming" else fee, height, time_,
                        confirmations, running if height is not None else None, label=label)
    if link is None:
        return entry
    person = lambda user: Person(user, names.get(user))  # noqa: E731
    signers = []
    for user, pubkey in link.signers:
        fingerprint = link.keys.get(pubkey)
        signer = Person(user, names.get(user) if user is not None else None, fingerprint, cosigners.get(fingerprint))
        if signer not in signers:
            signers.append(signer)
    verified = None if link.memo is None or link.memo_sha256 is None else memo_hash(link.memo) == link.memo_sha256
    return LedgerEntry(**{**entry.__dict__, "memo": link.memo, "memo_verified": verified, "proposal": link.proposal,
                          "proposer": person(link.proposer),
                          "approved_by": tuple(person(u) for u in dict.fromkeys(link.approvers)),
                          "signed_by": tuple(signers)})


def _history(db: Database, wallet_id: int) -> list[dict]:
    """The wallet's transactions in ledger order: by height, a parent before its
    child within a block, and the mempool last (by when sync first saw each)."""
    cursor = db.execute("SELECT txid, net, fee, height, block_time, raw, first_seen FROM wallet_txs "
                        "WHERE wallet_id = ?", [wallet_id])
    names = [c[0] for c in cursor.description]
    rows = [dict(zip(names, r)) for r in cursor.fetchall()]
    groups: dict[object, list[dict]] = {}
    for row in sorted(rows, key=lambda r: (r["height"] is None, r["height"] or 0, r["first_seen"], r["txid"])):
        groups.setdefault(row["height"], []).append(row)
    return [row for group in groups.values() for row in _parents_first(group)]


def _parents_first(group: list[dict]) -> list[dict]:
    """A stable topological order: a transaction after any in ``group`` it spends."""
    parents = {}
    txids = {r["txid"] for r in group}
    for row in group:
        tx = parse_tx(bytes.fromhex(row["raw"])) if row["raw"] else None
        parents[row["txid"]] = {i.txid.hex() for i in tx.vin} & txids if tx else set()
    done: list[dict] = []
    placed: set[str] = set()
    while len(done) < len(group):
        ready = [r for r in group if r["txid"] not in placed and parents[r["txid"]] <= placed]
        ready = ready or [r for r in group if r["txid"] not in placed]  # a cycle cannot happen; never loop
        done.append(ready[0])
        placed.add(ready[0]["txid"])
    return done


def _linked(db: Database, wallet_id: int, txids: set[str]) -> dict[str, _Linked]:
    """Governance's record of each transaction in ``txids`` that a proposal made."""
    by_id: dict[int, tuple[str, _Linked]] = {}
    for pid, family, proposer, memo, psbt in db.execute(
            "SELECT id, family_id, proposer, memo, psbt FROM proposals WHERE wallet_id = ? ORDER BY id",
            [wallet_id]).fetchall():
        txid, keys = _unsigned(psbt)
        if txid is not None:
            by_id[pid] = (txid, _Linked(pid, family, proposer, memo, dict(keys)))
    _read_chain(db, wallet_id, by_id)
    out: dict[str, _Linked] = {}
    for txid, link in by_id.values():
        if txid in txids and txid not in out:
            out[txid] = link
    return out


@functools.lru_cache(maxsize=2048)
def _unsigned(psbt_b64: str) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """The txid of a proposal's unsigned transaction, and its keys' fingerprints.
    A pure function of the PSBT text, cached: parsing is most of a ledger's cost."""
    try:
        psbt = codec.parse(psbt_b64)
    except Exception:  # noqa: BLE001 (a stored PSBT that no longer parses links to nothing)
        return None, ()
    keys = {pub.sec().hex(): d.fingerprint.hex() for scope in psbt.inputs
            for pub, d in scope.bip32_derivations.items()}
    return psbt.tx.txid().hex(), tuple(keys.items())


def _read_chain(db: Database, wallet_id: int, by_id: dict[int, tuple[str, _Linked]]) -> None:
    """Approvals, signatures and broadcasts, as the wallet's audit chain records them
    (contracts: ``signature_added``, ``proposal_broadcast``, ``agent_approval_added``)."""
    families: dict[str, list[_Linked]] = {}
    for _, link in by_id.values():
        families.setdefault(link.family, []).append(link)
    for entry in audit.entries(db, audit.wallet_chain(wallet_id)):
        body = entry.body
        link = by_id.get(body.get("proposal")) if isinstance(body.get("proposal"), int) else None
        if link is None:
            continue
        txid, linked = link
        if entry.type == "proposal_created" and isinstance(body.get("intent"), dict):
            committed = body["intent"].get("memo_sha256")
            linked.memo_sha256 = committed if isinstance(committed, str) else None
        elif entry.type in ("approval_added", "agent_approval_added"):
            user = _member(body, entry.actor)
            for sibling in families.get(linked.family, ()):  # approvals sign the family's intent
                if user is not None:
                    sibling.approvers.append(user)
        elif entry.type == "signature_added" and isinstance(body.get("pubkey"), str):
            user = body.get("user") if isinstance(body.get("user"), int) else None
            linked.signers.append((user, body["pubkey"].lower()))
        elif entry.type == "proposal_broadcast" and isinstance(body.get("txid"), str):
            by_id[linked.proposal] = (body["txid"].lower(), linked)


def _member(body: dict, actor: str) -> int | None:
    """Who approved: the approval's member ("user:<id>"), else the entry's actor."""
    approval = body.get("approval") if isinstance(body.get("approval"), dict) else {}
    for value in (body.get("user"), approval.get("member"), body.get("member"), actor):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.startswith("user:") and value[5:].isdigit():
            return int(value[5:])
    return None


def _epoch(iso: str | None) -> int | None:
    try:
        return int(dt.datetime.fromisoformat(iso).timestamp()) if iso else None
    except ValueError:
        return None
