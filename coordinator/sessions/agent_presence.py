"""Which signer agents are connected, to any server process (issue 11 Build 6, issue 12;
docs/scaling.md, "Several processes on one host").

With several ``huddle serve`` processes on one SQLite file and one Redis, a member
may ask through process A while their agent is connected to process B; A must
count that agent (an address check or a sign request emitted through Redis
reaches it). Each process writes one row per agent socket when it connects and
deletes it when it goes, and renews its own ``agent_processes`` row every
``ttl / 3`` seconds while it holds agents (``beat``). A row counts while its
process was seen within ``ttl`` seconds: a process killed with kill -9 leaves its
rows behind, they stop counting after the TTL, and the next process to beat
deletes them. Clocks are one host's (every process runs beside the file).

A single process without Redis keeps none of this: its own sockets are the
whole truth, and an emit would reach no other process anyway.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass, field

from sqlite_utils import Database

from ..errors import InvalidInput
from ..store.db import write

DEFAULT_TTL = 30  # seconds; a beat every 10 s costs one small write per process
TTL_VARIABLE = "HUDDLE_AGENT_TTL"


@dataclass(frozen=True)
class Connection:
    """One agent socket held by this process."""

    user_id: int
    name: str
    wallet_ids: list[int]
    token_id: str


@dataclass
class Beat:
    """What a beat found: this process's sockets whose token or user was revoked (a
    revocation served by another process whose Redis message never came), and the
    agents of dead processes that are now offline everywhere (user id, name, wallets)."""

    revoked: list[str] = field(default_factory=list)
    gone: list[tuple[int, str, list[int]]] = field(default_factory=list)


def process_id() -> str:
    """``host:pid:start`` in milliseconds: a restarted process is a new one, its old rows stale."""
    return f"{socket.gethostname()}:{os.getpid()}:{time.time_ns() // 1_000_000}"


def ttl_setting(text: str | None = None) -> int:
    """HUDDLE_AGENT_TTL: whole seconds from 3 to 3600 (default 30), else ``bad_config``."""
    text = (os.environ.get(TTL_VARIABLE, "") if text is None else text).strip() or str(DEFAULT_TTL)
    if not text.isascii() or not text.isdigit() or not 3 <= int(text) <= 3600:
        raise InvalidInput("bad_config", f"{TTL_VARIABLE} is whole seconds from 3 to 3600 (how long the agents "
                           f"of a server process that stopped renewing still count), not {text!r}")
    return int(text)


def connected(db: Database, process: str, sid: str, found: Connection, now: float | None = None) -> None:
    at = time.time() if now is None else now
    with write(db):
        _renew(db, process, at)
        db.execute("INSERT OR REPLACE INTO agent_connections (process, sid, user_id, token_id, wallet_ids, "
                   "connected_at) VALUES (?, ?, ?, ?, ?, ?)",
                   [process, sid, found.user_id, found.token_id, json.dumps(found.wallet_ids), int(at)])


def disconnected(db: Database, process: str, sid: str) -> None:
    with write(db):
        db.execute("DELETE FROM agent_connections WHERE process = ? AND sid = ?", [process, sid])


def count(db: Database, user_id: int, process: str, ttl: int, now: float | None = None) -> int:
    """The user's agents connected to any live process (this one is live: it is asking)."""
    cutoff = (time.time() if now is None else now) - ttl
    return db.execute(
        "SELECT count(*) FROM agent_connections c JOIN agent_processes p ON p.process = c.process "
        "WHERE c.user_id = ? AND (c.process = ? OR p.seen_at >= ?)", [user_id, process, cutoff]).fetchone()[0]


def online(db: Database, user_ids: list[int], process: str, ttl: int, now: float | None = None) -> list[int]:
    """Which of ``user_ids`` have an agent connected to any live process: one query for a
    whole wallet's keyholders (the ceremony's ``agents_online``), in ``user_ids``' order."""
    if not user_ids:
        return []
    cutoff = (time.time() if now is None else now) - ttl
    marks = ", ".join("?" for _ in user_ids)
    found = {r[0] for r in db.execute(
        "SELECT DISTINCT c.user_id FROM agent_connections c JOIN agent_processes p ON p.process = c.process "
        f"WHERE c.user_id IN ({marks}) AND (c.process = ? OR p.seen_at >= ?)", [*user_ids, process, cutoff])}
    return [u for u in user_ids if u in found]


def beat(db: Database, process: str, local: dict[str, Connection], ttl: int, now: float | None = None) -> Beat:
    """Renew this process, make its rows exactly its sockets (a neighbour may have deleted
    them while this process was paused past the TTL), delete dead processes' rows."""
    at = time.time() if now is None else now
    with write(db):
        _renew(db, process, at)
        _reconcile(db, process, local, int(at))
        gone = _forget_dead(db, process, at - ttl)
    return Beat(revoked=_revoked(db, local), gone=[g for g in gone if count(db, g[0], process, ttl, at) == 0])


def leave(db: Database, process: str) -> None:
    """This process stops (its sockets closed): its rows go."""
    with write(db):
        db.execute("DELETE FROM agent_connections WHERE process = ?", [process])
        db.execute("DELETE FROM agent_processes WHERE process = ?", [process])


def _renew(db: Database, process: str, at: float) -> None:
    db.execute("INSERT INTO agent_processes (process, seen_at) VALUES (?, ?) "
               "ON CONFLICT (process) DO UPDATE SET seen_at = excluded.seen_at", [process, at])


def _reconcile(db: Database, process: str, local: dict[str, Connection], at: int) -> None:
    stored = {r[0] for r in db.execute("SELECT sid FROM agent_connections WHERE process = ?", [process])}
    for sid in stored - set(local):
        db.execute("DELETE FROM agent_connections WHERE process = ? AND sid = ?", [process, sid])
    for sid in set(local) - stored:
        found = local[sid]
        db.execute("INSERT INTO agent_connections (process, sid, user_id, token_id, wallet_ids, connected_at) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   [process, sid, found.user_id, found.token_id, json.dumps(found.wallet_ids), at])


def _forget_dead(db: Database, process: str, cutoff: float) -> list[tuple[int, str, list[int]]]:
    """Delete the rows of processes not seen since ``cutoff``; whose agents they were."""
    dead = [r[0] for r in db.execute("SELECT process FROM agent_processes WHERE seen_at < ? AND process != ?",
                                     [cutoff, process])]
    gone: dict[int, tuple[int, str, list[int]]] = {}
    for name in dead:
        rows = db.execute("SELECT c.user_id, u.name, c.wallet_ids FROM agent_connections c "
                          "JOIN users u ON u.id = c.user_id WHERE c.process = ?", [name]).fetchall()
        for user_id, user_name, wallet_ids in rows:
            known = gone.get(user_id, (user_id, user_name, []))[2]
            gone[user_id] = (user_id, user_name, sorted({*known, *json.loads(wallet_ids)}))
        db.execute("DELETE FROM agent_connections WHERE process = ?", [name])
        db.execute("DELETE FROM agent_processes WHERE process = ?", [name])
    return list(gone.values())


def _revoked(db: Database, local: dict[str, Connection]) -> list[str]:
    """This process's sockets whose token, or whose user, was revoked."""
    tokens = sorted({found.token_id for found in local.values()})
    if not tokens:
        return []
    marks = ", ".join("?" for _ in tokens)
    revoked = {r[0] for r in db.execute(
        f"SELECT t.id FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id IN ({marks}) "
        "AND (t.revoked_at IS NOT NULL OR u.revoked_at IS NOT NULL)", tokens)}
    return [sid for sid, found in local.items() if found.token_id in revoked]
