"""Asking a member's agent to sign (contracts §2, ``sign_request``), what the agent
answers (``sign_step``, ``sign_result``), and the audit heads agents sign
(``head``), relayed to the next signer as ``signed_heads``.

The request carries everything the agent decides from (DESIGN.md, "The agent's
protocol"): the combined PSBT, the intent, the memo, the stored approvals, the
wallet's audit entries after the head that agent last reported, the signed heads
of the other agents, and the fingerprint of the member's slot. The agent trusts
none of it: it checks each against its pinned roster and its own head.
"""

from __future__ import annotations

import re
import secrets
import time

from sqlite_utils import Database

from ..accounts import roles
from ..errors import Conflict, InvalidInput, NotFound, Unprocessable
from ..governance import agent_keys, audit, quorum
from ..governance.proposals import Proposal
from ..psbt import codec
from ..store.db import write
from ..store.wallets import Wallet
from . import ceremony, events, signatures
from .events import SignerStep, SignRequested

STEPS = ("device_ready", "reviewing", "signed", "declined")
SIGNING_ROLES = ("keyholder", "admin")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def ask(db: Database, wallet: Wallet, proposal: Proposal, user_id: int, asked_by: int,
        now: int | None = None) -> dict:
    """Record a request to ``user_id``'s agents; returns the ``sign_request`` payload."""
    at = int(time.time()) if now is None else now
    quorum.require_approved(db, wallet.id, proposal.id)
    if roles.role_of(db, user_id, wallet.id) not in SIGNING_ROLES:
        raise Unprocessable("not_a_signer", f"user {user_id} holds no key of this wallet")
    request_id = secrets.token_hex(12)
    with write(db):
        current = ceremony.of(db, proposal, at)
        if not current.is_open:
            raise Conflict("ceremony_stale", f"the ceremony of proposal {proposal.id} is {current.state}",
                           state=current.state)
        db.execute("INSERT INTO sign_requests (id, wallet_id, proposal_id, user_id, asked_by, created_at) "
                   "VALUES (?, ?, ?, ?, ?, ?)", [request_id, wallet.id, proposal.id, user_id, asked_by, at])
        events.record(db, SignRequested(wallet.id, proposal.id, user_id, asked_by, request_id), at=at)
    return payload(db, wallet, proposal, user_id, request_id)


def payload(db: Database, wallet: Wallet, proposal: Proposal, user_id: int, request_id: str) -> dict:
    chain = audit.wallet_chain(wallet.id)
    seen = db.execute("SELECT seq FROM agent_heads WHERE wallet_id = ? AND user_id = ?",
                      [wallet.id, user_id]).fetchone()
    head = audit.head(db, chain)
    return {"request_id": request_id, "wallet_id": wallet.id, "proposal_id": proposal.id,
            "policy_id": wallet.descriptor.policy_id,
            "psbt": codec.to_base64(signatures.combined(db, wallet, proposal)),
            "intent": proposal.intent.to_dict(), "memo": proposal.memo or "",
            "approvals": quorum.stored(db, proposal.family_id),
            "audit": [e.to_dict() for e in audit.entries(db, chain, seen[0] if seen else 0)],
            "audit_head": {"seq": head.seq, "hash": head.hash},
            "signed_heads": signed_heads(db, wallet.id, exclude=user_id),
            "fingerprint": slot_fingerprint(db, wallet, user_id)}


def request_of(db: Database, request_id: object, user_id: int, proposal_id: object) -> tuple[int, int]:
    """(wallet id, proposal id) of a request sent to ``user_id``; ``sign_request_unknown`` otherwise."""
    row = db.execute("SELECT wallet_id, proposal_id FROM sign_requests WHERE id = ? AND user_id = ?",
                     [request_id if isinstance(request_id, str) else "", user_id]).fetchone()
    if row is None or row[1] != proposal_id:
        raise NotFound("sign_request_unknown", "no sign request with this id was sent to this agent "
                       "for this proposal")
    return row[0], row[1]


def step(db: Database, wallet_id: int, proposal_id: int, user_id: int, name: object, reason: object) -> None:
    """A signer's step, as an event in the ceremony's room."""
    if name not in STEPS or not (reason is None or isinstance(reason, str)):
        raise InvalidInput("bad_socket_request", f"step is one of {', '.join(STEPS)}; reason is text")
    with write(db):
        events.record(db, SignerStep(wallet_id, proposal_id, user_id, name, reason[:300] if reason else None))


def record_head(db: Database, wallet_id: int, user_id: int, seq: object, hash_: object, signature: object,
                now: int | None = None) -> None:
    """Keep an agent's signed head (the latest per wallet and member). When the member has
    registered an agent key, the signature must verify under it (governance/agent_keys.py)."""
    if not (isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0 and isinstance(hash_, str)
            and _HEX64.fullmatch(hash_) and isinstance(signature, str) and len(signature) <= 256):
        raise InvalidInput("bad_socket_request", "head is {wallet_id, seq, hash: 64 hex, signature: hex}")
    if roles.role_of(db, user_id, wallet_id) not in SIGNING_ROLES:
        raise Unprocessable("not_a_signer", f"user {user_id} holds no key of wallet {wallet_id}")
    key = agent_keys.active(db, user_id)
    if key is not None:
        agent_keys.require(key, "head", agent_keys.head_body(wallet_id, seq, hash_), signature, f"user:{user_id}")
    at = int(time.time()) if now is None else now
    with write(db):
        db.execute("INSERT INTO agent_heads (wallet_id, user_id, seq, hash, signature, at) VALUES (?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT (wallet_id, user_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, "
                   "signature = excluded.signature, at = excluded.at", [wallet_id, user_id, seq, hash_, signature, at])


def signed_heads(db: Database, wallet_id: int, exclude: int | None = None) -> list[dict]:
    rows = db.execute("SELECT user_id, seq, hash, signature FROM agent_heads WHERE wallet_id = ? ORDER BY user_id",
                      [wallet_id]).fetchall()
    return [{"user": u, "seq": s, "hash": h, "signature": sig} for u, s, h, sig in rows if u != exclude]


def slot_fingerprint(db: Database, wallet: Wallet, user_id: int) -> str | None:
    """The master fingerprint of the member's slot, when the wallet was set up on the server."""
    row = db.execute("SELECT s.position FROM draft_slots s JOIN wallet_drafts d ON d.id = s.draft_id "
                     "WHERE d.wallet_id = ? AND s.user_id = ? ORDER BY s.position LIMIT 1",
                     [wallet.id, user_id]).fetchone()
    if row is None or row[0] >= len(wallet.descriptor.cosigners):
        return None
    return wallet.descriptor.cosigners[row[0]].fingerprint
