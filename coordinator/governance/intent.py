"""The intent digest: what an approval signs (DESIGN.md, "The intent digest").

An approval signs the intent of a spend, not one exact transaction, so a fee
bump within the intent needs no new approvals. The digest is

    SHA-256(b"huddle/approval/v1" || 0x00 || canonical(intent))

where the domain prefix keeps any other signed message from passing as an
approval, and ``canonical`` is coordinator/canonical.py. Recipients are
sorted, because a PSBT's outputs are shuffled and whoever checks an approval
rebuilds the intent from the PSBT itself, never from the server.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .. import canonical
from ..errors import InvalidInput
from ..psbt.model import MAX_MONEY

DOMAIN = b"huddle/approval/v1"


@dataclass(frozen=True)
class Recipient:
    script_pubkey: str  # lowercase hex
    amount: int  # satoshis

    def to_dict(self) -> dict:
        return {"script_pubkey": self.script_pubkey, "amount": self.amount}


@dataclass(frozen=True)
class Intent:
    network: str
    policy_id: str
    family_id: str  # a proposal and its fee-bump replacements share it
    recipients: tuple[Recipient, ...]
    memo_sha256: str  # memo_hash(text); the memo itself stays outside the chain
    fee_ceiling: int  # satoshis: no replacement may pay more
    created_at: int
    expires_at: int

    def __post_init__(self) -> None:
        _check(self)

    def to_dict(self) -> dict:
        return {"v": canonical.VERSION, "network": self.network, "policy_id": self.policy_id,
                "family_id": self.family_id,
                "recipients": [r.to_dict() for r in sorted(self.recipients, key=lambda r: (r.script_pubkey, r.amount))],
                "memo_sha256": self.memo_sha256, "fee_ceiling": self.fee_ceiling,
                "created_at": self.created_at, "expires_at": self.expires_at}

    @classmethod
    def from_dict(cls, data: object) -> "Intent":
        """Read an intent back (from a proposal row or an audit entry), re-checked."""
        fields = {"v", "network", "policy_id", "family_id", "recipients", "memo_sha256", "fee_ceiling",
                  "created_at", "expires_at"}
        if not isinstance(data, dict) or set(data) != fields or data["v"] != canonical.VERSION \
                or not isinstance(data["recipients"], list) \
                or not all(isinstance(r, dict) and set(r) == {"script_pubkey", "amount"} for r in data["recipients"]):
            raise InvalidInput("bad_intent", "not a version 1 intent")
        recipients = tuple(Recipient(r["script_pubkey"], r["amount"]) for r in data["recipients"])
        return cls(**{k: v for k, v in data.items() if k not in ("v", "recipients")}, recipients=recipients)

    def digest(self) -> bytes:
        return hashlib.sha256(DOMAIN + b"\x00" + canonical.encode(self.to_dict())).digest()


def memo_hash(memo: str) -> str:
    return hashlib.sha256(memo.encode("utf-8")).hexdigest()


def _is_hex(text: object, length: int | None = None) -> bool:
    return isinstance(text, str) and len(text) % 2 == 0 and (length is None or len(text) == length) \
        and all(c in "0123456789abcdef" for c in text)


def _amount(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_MONEY


def _check(intent: Intent) -> None:
    if not intent.recipients or not all(isinstance(r, Recipient) and _is_hex(r.script_pubkey) and r.script_pubkey
                                        and _amount(r.amount) for r in intent.recipients):
        raise InvalidInput("bad_intent", "an intent needs recipients with a hex scriptPubKey and 1..MAX_MONEY sats")
    if not _is_hex(intent.memo_sha256, 64) or not _amount(intent.fee_ceiling):
        raise InvalidInput("bad_intent", "an intent needs a memo SHA-256 (hex) and a fee ceiling in sats")
    if not all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in (intent.created_at, intent.expires_at)) \
            or intent.expires_at <= intent.created_at:
        raise InvalidInput("bad_intent", "an intent expires after it is created (UTC seconds)")
    if not all(isinstance(t, str) and t for t in (intent.network, intent.policy_id, intent.family_id)):
        raise InvalidInput("bad_intent", "an intent names its network, policy id and proposal family")
