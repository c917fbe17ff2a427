"""The group ledger as CSV: a header row, then one line per ledger entry.

RFC 4180: CRLF line ends, and a field holding a comma, a quote or a line break
is quoted with its quotes doubled (Python's ``csv`` module in its default
dialect does exactly this). Amounts come in sats (exact) and in BTC (text with
eight decimals, made from the integer, never from a float).

Formula injection (OWASP "CSV Injection"; ASVS 5.0 V1.2.10; CWE-1236): a
spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some
with a tab, CR, LF or NUL first) as a formula, so a memo such as
``=HYPERLINK(...)`` would act on the reader's machine. Every free-text cell
(memo, label, member names) that starts with one, after any leading spaces,
gets a leading apostrophe, which spreadsheets show as text. Numbers are ours
and never guarded.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from .ledger import Ledger, LedgerEntry, Person

COLUMNS = ("txid", "time_utc", "height", "confirmations", "status", "direction", "net_sats", "net_btc",
           "fee_sats", "fee_btc", "balance_sats", "balance_btc", "memo", "memo_verified", "label", "proposal",
           "proposer", "approved_by", "signed_by")
# Formula triggers, and their full-width forms that some spreadsheets also read as formulas.
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "\uff1d", "\uff0b", "\uff0d", "\uff20")
SATS_PER_BTC = 100_000_000
_VERIFIED = {True: "yes", False: "no", None: ""}


def to_string(ledger: Ledger) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for entry in ledger.entries:
        writer.writerow(_row(entry))
    return out.getvalue()


def guard(text: str | None) -> str:
    """A free-text cell a spreadsheet will not run as a formula."""
    if not text:
        return ""
    return "'" + text if text.lstrip(" ").startswith(_TRIGGERS) else text


def btc(sats: int | None) -> str:
    """Satoshis as BTC text with eight decimals, from the integer alone."""
    if sats is None:
        return ""
    sign = "-" if sats < 0 else ""
    whole, frac = divmod(abs(sats), SATS_PER_BTC)
    return f"{sign}{whole}.{frac:08d}"


def _row(e: LedgerEntry) -> list[str]:
    when = "" if e.time is None else dt.datetime.fromtimestamp(e.time, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [e.txid, when, _int(e.height), str(e.confirmations), "pending" if e.pending else "confirmed",
            e.direction, str(e.net), btc(e.net), _int(e.fee), btc(e.fee), _int(e.balance_after),
            btc(e.balance_after), guard(e.memo), _VERIFIED[e.memo_verified], guard(e.label), _int(e.proposal),
            guard(_name(e.proposer)), guard("; ".join(_name(p) for p in e.approved_by)),
            guard("; ".join(_name(p) for p in e.signed_by))]


def _name(person: Person | None) -> str:
    if person is None:
        return ""
    if person.name is not None:
        return person.name
    return person.cosigner or person.fingerprint or ""


def _int(value: int | None) -> str:
    return "" if value is None else str(value)
