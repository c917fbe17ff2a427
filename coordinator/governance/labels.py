"""BIP-329 wallet labels: export the group's memos and labels, import labels.

A memo is not a label. It is the proposer's "why", the intent and the audit
chain commit to its hash, and no import may rewrite it: imported labels live in
their own table (``wallet_labels``, m016). An export writes each memo as the
``tx`` label of its transaction (over an imported label for the same
transaction), then every imported label, sorted by type and ref. An imported
``tx`` label equal to that transaction's memo is the memo coming back and is
not stored, so export → import → export gives the same file.

Import is strict and all or nothing: every line is checked before anything is
written, the first bad line is named (``details["line"]``), and the writes go
in one transaction (docs/ledger.md "Labels").
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass

from embit import bech32
from sqlite_utils import Database

from .. import networks
from ..errors import HuddleError, InvalidInput
from ..psbt.recipients import script_for
from ..store.db import write
from ..wallet.keys import parse_xpub
from . import audit, ledger, ledger_errors, outbox  # noqa: F401  (ledger_errors registers the codes)
from .events import LabelsChanged
from .proposals import MAX_MEMO

TYPES = ("tx", "addr", "pubkey", "input", "output", "xpub", "spscan")  # BIP-329 (spscan: bitcoin/bips#2149)
# BIP-329 "Additional Fields": the exporter's view of the chain. Read and ignored:
# the ledger derives heights, times, fees and values from the chain itself.
ADDITIONAL = frozenset({"height", "time", "fee", "value", "rate", "keypath", "fmv", "heights"})
KEYS = frozenset({"type", "ref", "label", "origin", "spendable"}) | ADDITIONAL
MAX_LABEL = MAX_MEMO  # BIP-329 suggests 255; a memo (up to 1000) must come back in
MAX_ORIGIN = 1000
MAX_BYTES = 1_000_000
MAX_LINES = 20_000
MAX_LINE_BYTES = 16_384
_HEX = re.compile(r"[0-9a-fA-F]+")
_OUTPOINT = re.compile(r"([0-9a-fA-F]{64}):(0|[1-9][0-9]{0,9})")
_ORIGIN = re.compile(r"[a-z_]+\([\x21-\x7e]*\)")  # an abbreviated descriptor: no spaces, no checksum
_BECH32M_CONST = 0x2BC830A3
_LINE_BREAKS = ("\x85", "\u2028", "\u2029")  # json.dumps escapes the C0 ones already
# Who set an output's spendable (m060): the import, when it changes the stored value;
# else whoever did before (a member's freeze, governance/coin_freeze.py).
_CHANGES_SPENDABLE = "excluded.spendable IS NOT NULL AND excluded.spendable IS NOT spendable"
_FROZEN_BY_IMPORT = ", ".join(f"spendable_{c} = CASE WHEN {_CHANGES_SPENDABLE} THEN excluded.spendable_{c} "
                              f"ELSE spendable_{c} END" for c in ("via", "by", "at"))


@dataclass(frozen=True)
class Label:
    type: str
    ref: str
    label: str | None = None
    origin: str | None = None
    spendable: bool | None = None

    def to_dict(self) -> dict:
        out: dict = {"type": self.type, "ref": self.ref}
        for name in ("label", "origin", "spendable"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out

    def to_string(self, extra: dict | None = None) -> str:
        """One JSON Lines record (``extra``: BIP-329 additional fields). Characters that some
        readers take for a line end (NEL, U+2028, U+2029: Python's splitlines, JavaScript)
        are escaped."""
        text = json.dumps({**self.to_dict(), **(extra or {})}, ensure_ascii=False, separators=(", ", ": "))
        for char in _LINE_BREAKS:
            text = text.replace(char, f"\\u{ord(char):04x}")
        return text

    @classmethod
    def from_row(cls, row: dict) -> "Label":
        spendable = None if row["spendable"] is None else bool(row["spendable"])
        return cls(row["type"], row["ref"], row["label"], row["origin"], spendable)


@dataclass(frozen=True)
class ImportResult:
    records: int  # lines read
    applied: int  # labels written (stored new or changed)
    unchanged: int  # records that said nothing new: a memo coming back, the same label again, no label

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def parse(text: str | bytes, network: str) -> list[Label]:
    """Every record of a BIP-329 file, checked; raises on the first bad line."""
    lines = _lines(text)
    seen: dict[tuple[str, str], int] = {}
    out = []
    for number, line in lines:
        label = _record(line, number, network)
        key = (label.type, label.ref)
        if key in seen:
            raise InvalidInput("label_duplicate", f"line {number} labels {label.type} {_short(label.ref)} again "
                               f"(first on line {seen[key]})", line=number, first=seen[key])
        seen[key] = number
        out.append(label)
    return out


def export(db: Database, wallet_id: int) -> str:
    """The wallet's labels as BIP-329 JSON Lines: memos as tx labels, then the rest,
    each transaction the ledger knows with what the chain says of it."""
    records = {(r["type"], r["ref"]): Label.from_row(r) for r in db.query(
        "SELECT type, ref, label, origin, spendable FROM wallet_labels WHERE wallet_id = ?", [wallet_id])}
    known = {e.txid: e for e in ledger.build(db, wallet_id).entries}
    for entry in known.values():
        if entry.memo is not None:
            held = records.get(("tx", entry.txid))
            records[("tx", entry.txid)] = Label("tx", entry.txid, entry.memo, held.origin if held else None)
    ordered = sorted(records.values(), key=lambda r: (TYPES.index(r.type), r.ref))
    return "".join(r.to_string(_chain_fields(known.get(r.ref)) if r.type == "tx" else None) + "\n"
                   for r in ordered)


def _chain_fields(entry: ledger.LedgerEntry | None) -> dict:
    """BIP-329 "Additional Fields" of a transaction: its height and block time once 6
    blocks deep (the BIP: omit them before), the fee the wallet paid, its net value."""
    if entry is None:
        return {}
    out: dict = {}
    if entry.confirmations >= 6:
        out["height"] = entry.height
        if entry.time is not None:
            out["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(entry.time))
    if entry.fee is not None:
        out["fee"] = entry.fee
    out["value"] = entry.net
    return out


def stored(db: Database, wallet_id: int) -> list[Label]:
    return [Label.from_row(r) for r in db.query(
        "SELECT type, ref, label, origin, spendable FROM wallet_labels WHERE wallet_id = ? ORDER BY type, ref",
        [wallet_id])]


def import_labels(db: Database, wallet_id: int, network: str, text: str | bytes, actor: int,
                  now: int | None = None) -> ImportResult:
    """Check every line, then write every label in one transaction (or none)."""
    at = int(time.time()) if now is None else now
    records = parse(text, network)
    raw = text.encode("utf-8") if isinstance(text, str) else text
    applied = 0
    with write(db):
        memos = ledger.memos(db, wallet_id)
        for r in records:
            if (r.label is None and r.spendable is None) or (r.type == "tx" and r.label == memos.get(r.ref)):
                continue
            spendable = None if r.spendable is None else int(r.spendable)
            cursor = db.execute(
                "INSERT INTO wallet_labels (wallet_id, type, ref, label, origin, spendable, updated_by, updated_at, "
                "spendable_via, spendable_by, spendable_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (wallet_id, type, ref) DO UPDATE SET "
                "label = COALESCE(excluded.label, label), origin = COALESCE(excluded.origin, origin), "
                "spendable = COALESCE(excluded.spendable, spendable), updated_by = excluded.updated_by, "
                f"updated_at = excluded.updated_at, {_FROZEN_BY_IMPORT} "
                "WHERE COALESCE(excluded.label, label) IS NOT label "
                "OR COALESCE(excluded.origin, origin) IS NOT origin "
                "OR COALESCE(excluded.spendable, spendable) IS NOT spendable",
                [wallet_id, r.type, r.ref, r.label, r.origin, spendable, actor, at,
                 None if spendable is None else "import", None if spendable is None else actor,
                 None if spendable is None else at])
            applied += cursor.rowcount
        if applied:  # an import that changed nothing leaves no entry
            audit.append_to_wallet(db, wallet_id, "labels_imported",
                                   {"records": len(records), "applied": applied,
                                    "sha256": hashlib.sha256(raw).hexdigest()}, actor=f"user:{actor}", at=at)
            outbox.record(db, LabelsChanged(wallet_id, applied, actor), at=at)  # open coin lists and ledgers redraw
    return ImportResult(len(records), applied, len(records) - applied)


# -- reading a file -------------------------------------------------------------

def _lines(text: str | bytes) -> list[tuple[int, str]]:
    """(line number, text) of each non-blank line, within the limits."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise InvalidInput("labels_too_large", f"a label file holds at most {MAX_BYTES} bytes")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            line = text[:err.start].count(b"\n") + 1
            raise InvalidInput("labels_malformed", f"line {line} is not UTF-8 text", line=line) from None
    if not isinstance(text, str):
        raise InvalidInput("labels_malformed", "a label file is text")
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise InvalidInput("labels_too_large", f"a label file holds at most {MAX_BYTES} bytes")
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    if len(lines) > MAX_LINES + 1:
        raise InvalidInput("labels_too_large", f"a label file holds at most {MAX_LINES} lines")
    out = []
    for number, line in enumerate(lines, 1):
        line = line.removesuffix("\r")
        if len(line.encode("utf-8", "surrogatepass")) > MAX_LINE_BYTES:
            raise InvalidInput("labels_too_large", f"line {number} is longer than {MAX_LINE_BYTES} bytes",
                               line=number)
        if line.strip():
            out.append((number, line))
    return out


def _record(line: str, number: int, network: str) -> Label:
    data = _json_object(line, number)
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise InvalidInput("label_bad_field", f"line {number}: unknown key {unknown[0]!r} (BIP-329 keys are "
                           "type, ref, label, origin, spendable and its additional fields)", line=number)
    kind, ref = data.get("type"), data.get("ref")
    if kind not in TYPES:
        raise InvalidInput("label_bad_type", f"line {number}: type {str(kind)[:20]!r} is not one of "
                           f"{', '.join(TYPES)}", line=number)
    if not isinstance(ref, str):
        raise InvalidInput("label_bad_ref", f"line {number}: ref must be text", line=number)
    try:
        ref = _REFS[kind](ref, network)
    except HuddleError as err:
        raise InvalidInput("label_bad_ref", f"line {number}: {err.message}", line=number) from None
    return Label(kind, ref, _text(data, "label", MAX_LABEL, number), _origin(data, number),
                 _spendable(data, kind, number))


def _json_object(line: str, number: int) -> dict:
    def pairs(items: list) -> dict:
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            raise ValueError("a key appears twice")
        return dict(items)

    def constant(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    try:
        data = json.loads(line, object_pairs_hook=pairs, parse_constant=constant)
    except (ValueError, RecursionError) as err:
        raise InvalidInput("labels_malformed", f"line {number} is not a JSON object: {str(err)[:80]}",
                           line=number) from None
    if not isinstance(data, dict):
        raise InvalidInput("labels_malformed", f"line {number} is not a JSON object", line=number)
    return data


def _text(data: dict, name: str, limit: int, number: int) -> str | None:
    value = data.get(name)
    if value is None and name not in data:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput("label_bad_field", f"line {number}: {name} must be text of at most {limit} "
                           "characters", line=number)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("label_bad_field", f"line {number}: {name} holds a lone surrogate (not Unicode text)",
                           line=number) from None
    return value


def _origin(data: dict, number: int) -> str | None:
    origin = _text(data, "origin", MAX_ORIGIN, number)
    if origin is not None and not _ORIGIN.fullmatch(origin):
        raise InvalidInput("label_bad_field", f"line {number}: origin must be an abbreviated descriptor "
                           "such as wpkh([d34db33f/84'/0'/0']), without a checksum", line=number)
    return origin


def _spendable(data: dict, kind: str, number: int) -> bool | None:
    if "spendable" not in data:
        return None
    if kind != "output" or not isinstance(data["spendable"], bool):
        raise InvalidInput("label_bad_field", f"line {number}: spendable is true or false, and only on an output",
                           line=number)
    return data["spendable"]


# -- the shape of each type's ref ------------------------------------------------------

def _txid(ref: str, network: str) -> str:
    if len(ref) != 64 or not _HEX.fullmatch(ref):
        raise InvalidInput("label_bad_ref", f"{_short(ref)!r} is not a txid (64 hex digits)")
    return ref.lower()


def _outpoint(ref: str, network: str) -> str:
    found = _OUTPOINT.fullmatch(ref)
    if found is None or int(found.group(2)) >= 2**32:
        raise InvalidInput("label_bad_ref", f"{_short(ref)!r} is not txid:index")
    return f"{found.group(1).lower()}:{found.group(2)}"


def _address(ref: str, network: str) -> str:
    if ref != ref.strip():
        raise InvalidInput("label_bad_ref", "an address has no surrounding spaces")
    script_for(ref, network)  # wrong_network, bad_spend: their messages say why
    return ref


def _pubkey(ref: str, network: str) -> str:
    size = len(ref) // 2
    if not _HEX.fullmatch(ref) or len(ref) % 2 or size not in (32, 33, 65) \
            or (size == 33 and ref[:2] not in ("02", "03")) or (size == 65 and ref[:2] != "04"):
        raise InvalidInput("label_bad_ref", f"{_short(ref)!r} is not a 32, 33 or 65 byte public key in hex")
    return ref.lower()


def _xpub(ref: str, network: str) -> str:
    if ref != ref.strip():
        raise InvalidInput("label_bad_ref", "an extended key has no surrounding spaces")
    _, is_test = parse_xpub(ref)  # private_key, malformed_key
    if is_test != networks.is_test(network):
        raise InvalidInput("label_bad_ref", f"that extended key is not for {network}")
    return ref


def _spscan(ref: str, network: str) -> str:
    """A BIP-392 silent payments scan key expression: bech32m, hrp spscan (tspscan off mainnet)."""
    hrp = "tspscan" if networks.is_test(network) else "spscan"
    lower = ref.lower()
    data = lower[len(hrp) + 1:]
    if (ref != lower and ref != ref.upper()) or not lower.startswith(hrp + "1") or not 6 < len(data) <= 1023 \
            or any(c not in bech32.CHARSET for c in data) \
            or bech32.bech32_polymod(bech32.bech32_hrp_expand(hrp) + [bech32.CHARSET.find(c) for c in data]) \
            != _BECH32M_CONST:
        raise InvalidInput("label_bad_ref", f"{_short(ref)!r} is not a {hrp} key expression (bech32m)")
    return ref


_REFS = {"tx": _txid, "input": _outpoint, "output": _outpoint, "addr": _address, "pubkey": _pubkey,
         "xpub": _xpub, "spscan": _spscan}


def _short(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:20]}…"
