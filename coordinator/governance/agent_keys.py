"""Agent keys and the messages they sign (DESIGN.md "The roster is pinned",
"Approvals"; docs/canonical.md "Agent signatures").

An agent key is a secp256k1 key; its public form is the 32-byte x-only key of
BIP-340, written as 64 lowercase hex digits. Every signed message is
domain-separated so that no signature made for one purpose passes for another:

    message(purpose, body) = SHA-256(b"huddle/<purpose>/v1" || 0x00 || JCS(body))

and the signature is BIP-340 Schnorr over those 32 bytes, as 128 hex digits.
For ``approval`` the body is the intent itself, so the message IS the intent
digest (governance/intent.py) that passkey approvals use as their challenge.
"""

from __future__ import annotations

import hashlib
import re
import time

from embit import ec
from embit.wordlists.bip39 import WORDLIST
from sqlite_utils import Database

from .. import canonical
from ..errors import Conflict, InvalidInput, register
from ..store.db import write

register({
    "bad_agent_key": "an agent public key that is not 64 hex digits of a BIP-340 x-only key on secp256k1",
    "bad_agent_signature": "an agent signature that is not 128 hex digits, or does not verify",
    "agent_key_taken": "this agent key is (or was) registered by another user; each member's agent has its own key",
})

PURPOSES = ("roster-confirm", "approval", "head", "roster-change")
SAFETY_WORDS = 6  # 66 bits: a server would need ~2^66 tries to find a second roster reading the same
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")


def domain(purpose: str) -> bytes:
    if purpose not in PURPOSES:
        raise InvalidInput("bad_agent_signature", f"no signed message has purpose {purpose!r}")
    return b"huddle/" + purpose.encode() + b"/v1"


def message(purpose: str, body: object) -> bytes:
    """The 32 bytes an agent key signs for ``purpose`` over ``body``."""
    return hashlib.sha256(domain(purpose) + b"\x00" + canonical.encode(body)).digest()


def check_public_key(text: object) -> str:
    """The x-only public key, checked to be a point on the curve (BIP-340 lift_x)."""
    if not isinstance(text, str) or not _HEX64.fullmatch(text):
        raise InvalidInput("bad_agent_key", "an agent key is 64 lowercase hex digits (BIP-340 x-only)")
    if _point(text) is None:
        raise InvalidInput("bad_agent_key", "the agent key is not a point on secp256k1")
    return text


def _point(xonly_hex: str) -> ec.PublicKey | None:
    try:
        return ec.PublicKey.from_xonly(bytes.fromhex(xonly_hex))
    except Exception:  # embit raises its own errors, ValueError or AssertionError for a point off the curve
        return None


def public_key(private_key: ec.PrivateKey) -> str:
    return private_key.xonly().hex()


def sign_digest(private_key: ec.PrivateKey, digest: bytes) -> str:
    if len(digest) != 32:
        raise InvalidInput("bad_agent_signature", "an agent key signs 32-byte messages")
    return private_key.schnorr_sign(digest).serialize().hex()


def sign(private_key: ec.PrivateKey, purpose: str, body: object) -> str:
    return sign_digest(private_key, message(purpose, body))


def verify_digest(public_key_hex: str, digest: bytes, signature_hex: object) -> bool:
    """BIP-340 verification of a 32-byte message; False for anything malformed."""
    if not isinstance(public_key_hex, str) or not _HEX64.fullmatch(public_key_hex):
        return False
    if not isinstance(signature_hex, str) or not _HEX128.fullmatch(signature_hex) or len(digest) != 32:
        return False
    point = _point(public_key_hex)
    if point is None:
        return False
    try:
        return bool(point.schnorr_verify(ec.SchnorrSig(bytes.fromhex(signature_hex)), digest))
    except Exception:  # a backend refusing r >= p or s >= n is a failed verification, not an error
        return False


def verify(public_key_hex: str, purpose: str, body: object, signature_hex: object) -> bool:
    return verify_digest(public_key_hex, message(purpose, body), signature_hex)


def require(public_key_hex: str, purpose: str, body: object, signature_hex: object, who: str) -> None:
    if not verify(public_key_hex, purpose, body, signature_hex):
        raise InvalidInput("bad_agent_signature", f"{who}'s agent signature ({purpose}) does not verify "
                           "against their registered agent key", purpose=purpose)


def roster_confirm_body(draft_id: int, roster_hash: str, first_address: str) -> dict:
    """What a keyholder's agent signs at setup (purpose ``roster-confirm``): the draft,
    the hash of the roster whose safety code was read aloud, and the first address
    its device showed."""
    return {"v": canonical.VERSION, "draft": draft_id, "roster": roster_hash, "first_address": first_address}


def roster_change_body(wallet_id: int, from_hash: str, to_hash: str) -> dict:
    """What a keyholder's agent signs to accept a roster change (purpose ``roster-change``)."""
    return {"v": canonical.VERSION, "wallet": wallet_id, "from": from_hash, "to": to_hash}


def approval_digest(intent_dict: dict) -> bytes:
    """An agent approval signs the intent itself: this equals ``Intent.digest()``."""
    return message("approval", intent_dict)


def head_body(wallet_id: int, seq: int, head_hash: str) -> dict:
    """What an agent signs for purpose ``head``: its remembered head of a wallet's chain."""
    return {"v": canonical.VERSION, "wallet": wallet_id, "seq": seq, "hash": head_hash}


def safety_code(roster: object) -> str:
    """Six BIP-39 English words: the first 66 bits of SHA-256(JCS(roster)), 11 bits a word."""
    value = int.from_bytes(canonical.digest(roster), "big") >> (256 - 11 * SAFETY_WORDS)
    words = [WORDLIST[(value >> (11 * (SAFETY_WORDS - 1 - i))) & 0x7FF] for i in range(SAFETY_WORDS)]
    return " ".join(words)


def active(db: Database, user_id: int) -> str | None:
    """The user's registered agent key, if any."""
    row = db.execute("SELECT public_key FROM agent_keys WHERE user_id = ? AND replaced_at IS NULL",
                     [user_id]).fetchone()
    return row[0] if row else None


def register_key(db: Database, user_id: int, public_key_hex: object, token_id: str | None = None,
                 now: int | None = None) -> tuple[str, str | None, list[int]]:
    """Register the user's agent key, replacing any earlier one. Returns (the key, the key it
    replaced, the wallets whose pinned roster names the old key: each needs a roster change
    before the new key counts there)."""
    at = int(time.time()) if now is None else now
    key = check_public_key(public_key_hex)
    with write(db):
        owner = db.execute("SELECT user_id FROM agent_keys WHERE public_key = ? AND user_id != ?",
                           [key, user_id]).fetchone()
        if owner is not None:
            raise Conflict("agent_key_taken", "another user registered this agent key")
        old = active(db, user_id)
        if old == key:
            return key, None, []
        if old is not None:
            db.execute("UPDATE agent_keys SET replaced_at = ? WHERE user_id = ? AND replaced_at IS NULL", [at, user_id])
        db.execute("INSERT INTO agent_keys (user_id, public_key, token_id, created_at) VALUES (?, ?, ?, ?)",
                   [user_id, key, token_id, at])
    return key, old, _wallets_pinning(db, user_id, old) if old else []


def _wallets_pinning(db: Database, user_id: int, key: str) -> list[int]:
    from .roster import pinned  # roster imports this module
    wallets = [r[0] for r in db.execute("SELECT wallet_id FROM memberships WHERE user_id = ? ORDER BY wallet_id",
                                        [user_id]).fetchall()]
    return [w for w in wallets if (p := pinned(db, w)) and (m := p.member(user_id)) and m.agent_key == key]

