"""Passkey approvals: a WebAuthn assertion whose challenge is the intent digest.

The stored approval keeps what anyone holding the member's pinned passkey
public key needs to re-verify it offline (DESIGN.md): the credential id,
``authenticatorData``, ``clientDataJSON`` and the signature. Verification is
strict: the pinned RP ID and origin, ``webauthn.get``, not cross-origin, user
present (and verified, if the wallet's policy says so), the signature, and the
challenge equal to the digest the verifier rebuilt itself. A quorum counts
members, not credentials. Sign counters are not relied on.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass

from sqlite_utils import Database

from ..errors import AccessDenied, Conflict, InvalidInput
from ..store.db import write
from . import audit, outbox
from .events import ApprovalAdded
from .intent import Intent
from . import roster_errors  # noqa: F401  (registers the codes used here)



@dataclass(frozen=True)
class PasskeyApproval:
    member: str  # who approved, as the roster names them (e.g. "user:2")
    credential_id: str  # base64url
    authenticator_data: str  # base64url
    client_data_json: str  # base64url
    signature: str  # base64url

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: object) -> "PasskeyApproval":
        fields = ("member", "credential_id", "authenticator_data", "client_data_json", "signature")
        if not isinstance(data, dict) or set(data) != set(fields) or not all(isinstance(data[f], str) for f in fields):
            raise InvalidInput("approval_invalid", "an approval has member, credential_id, authenticator_data, "
                               "client_data_json and signature, all text")
        return cls(**data)

    @classmethod
    def from_credential(cls, member: str, credential: dict) -> "PasskeyApproval":
        """From the assertion JSON a browser posts."""
        try:
            response = credential["response"]
            return cls(member, credential["id"], response["authenticatorData"], response["clientDataJSON"],
                       response["signature"])
        except (KeyError, TypeError):
            raise InvalidInput("approval_invalid", "not a WebAuthn assertion") from None


def verify(approval: PasskeyApproval, public_key: bytes, intent: Intent, rp_id: str, origin: str,
           require_user_verification: bool = False) -> None:
    """Raise ``approval_invalid`` unless the assertion approves exactly ``intent``."""
    verify_digest(approval, public_key, intent.digest(), rp_id, origin, require_user_verification)


def verify_digest(approval: PasskeyApproval, public_key: bytes, digest: bytes, rp_id: str, origin: str,
                  require_user_verification: bool = False) -> None:
    """Raise ``approval_invalid`` unless the assertion's challenge is ``digest`` (an intent digest
    the verifier rebuilt itself) and everything else about it verifies."""
    credential = {"id": approval.credential_id, "rawId": approval.credential_id, "type": "public-key",
                  "response": {"authenticatorData": approval.authenticator_data,
                               "clientDataJSON": approval.client_data_json, "signature": approval.signature},
                  "clientExtensionResults": {}}
    import webauthn  # only here: it pulls in pyOpenSSL (the server's footprint, issue 14)
    from webauthn.helpers.exceptions import WebAuthnException

    try:
        webauthn.verify_authentication_response(
            credential=credential, expected_challenge=digest, expected_rp_id=rp_id, expected_origin=origin,
            credential_public_key=public_key, credential_current_sign_count=0,
            require_user_verification=require_user_verification)
        cross_origin = json.loads(webauthn.base64url_to_bytes(approval.client_data_json)).get("crossOrigin")
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError) as err:
        raise InvalidInput("approval_invalid", f"{approval.member}'s approval does not verify: {err}",
                           member=approval.member) from None
    if cross_origin is True:
        raise InvalidInput("approval_invalid", f"{approval.member}'s approval came from a foreign frame",
                           member=approval.member)


def approving_members(approvals: list[PasskeyApproval], roster: dict[str, dict[str, bytes]], intent: Intent,
                      rp_id: str, origin: str, require_user_verification: bool = False) -> set[str]:
    """The members whose approval verifies with one of their own pinned passkeys.

    ``roster`` maps each member to {credential id: COSE public key}. A member
    counts once however many of their passkeys approved; a credential pinned
    to another member does not count for this one.
    """
    approved = set()
    for approval in approvals:
        key = roster.get(approval.member, {}).get(approval.credential_id)
        if key is None:
            continue
        try:
            verify(approval, key, intent, rp_id, origin, require_user_verification)
        except InvalidInput:
            continue
        approved.add(approval.member)
    return approved


def record(db: Database, proposal, member_id: int, approval: PasskeyApproval, public_key: bytes, rp_id: str,
           origin: str, require_user_verification: bool = False, now: int | None = None) -> None:
    """Verify and store a member's approval of an open proposal; it goes into the
    wallet's audit chain whole, so the chain alone can be checked against a roster."""
    at = int(time.time()) if now is None else now
    if approval.member != f"user:{member_id}":
        raise InvalidInput("approval_invalid", "an approval is recorded for the member who gave it")
    if proposal.state != "open" or at >= proposal.expires_at:
        raise Conflict("proposal_closed", f"proposal {proposal.id} is not open for approval")
    verify(approval, public_key, proposal.intent, rp_id, origin, require_user_verification)
    with write(db):
        pinned_member = check_kind(db, proposal.wallet_id, member_id, "passkey")
        if pinned_member is not None and approval.credential_id not in pinned_member.passkeys:
            # a passkey added since the roster was pinned counts only once M agents confirm it
            # (DESIGN: roster changes); storing it now would leave a chain verify refuses
            raise Conflict("passkey_not_pinned", "this passkey is not in the wallet's pinned roster yet; "
                           "approve with a pinned passkey, or wait until the keyholders' agents confirm it")
        try:
            db.execute("INSERT INTO approvals (wallet_id, proposal_id, family_id, user_id, credential_id, "
                       "authenticator_data, client_data_json, signature, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [proposal.wallet_id, proposal.id, proposal.family_id, member_id, approval.credential_id,
                        approval.authenticator_data, approval.client_data_json, approval.signature, at])
        except sqlite3.IntegrityError:
            raise Conflict("already_approved", "you already approved this proposal with this passkey") from None
        audit.append_to_wallet(db, proposal.wallet_id, "approval_added",
                               {"proposal": proposal.id, "family": proposal.family_id, "approval": approval.to_dict()},
                               actor=approval.member, at=at)
        outbox.record(db, ApprovalAdded(proposal.wallet_id, proposal.id, member_id), at=at)


def stored(db: Database, family_id: str) -> list[PasskeyApproval]:
    rows = db.execute("SELECT user_id, credential_id, authenticator_data, client_data_json, signature FROM approvals "
                      "WHERE family_id = ? ORDER BY id", [family_id]).fetchall()
    return [PasskeyApproval(f"user:{r[0]}", *r[1:]) for r in rows]


def check_kind(db: Database, wallet_id: int, member_id: int, kind: str):
    """The member's pinned roster entry, if they may approve with ``kind`` (the pinned
    roster says who approves and how: a member with an agent key approves with it)."""
    from .roster import pinned  # roster imports this module
    roster = pinned(db, wallet_id)
    if roster is None:
        if kind == "agent":
            raise Conflict("roster_not_pinned", "this wallet has no pinned roster (it was imported, not set up "
                           "at a ceremony), so no agent key is pinned for its members")
        return None
    member = roster.member(member_id)
    if member is None or member_id not in roster.approvers:
        raise AccessDenied("not_an_approver", "the wallet's pinned roster does not list you among its approvers")
    if member.approves_with != kind:
        raise InvalidInput("approval_wrong_kind", f"the pinned roster says you approve with your "
                           f"{member.approves_with}" + (" key" if member.approves_with == "agent" else ""))
    return member


def record_agent(db: Database, proposal, member_id: int, signature: object, now: int | None = None) -> None:
    """Verify and store an agent approval: the member's pinned agent key's BIP-340
    signature over the proposal's intent digest (purpose ``approval``)."""
    from . import agent_keys
    from .roster_events import AgentApprovalAdded
    at = int(time.time()) if now is None else now
    if proposal.state != "open" or at >= proposal.expires_at:
        raise Conflict("proposal_closed", f"proposal {proposal.id} is not open for approval")
    with write(db):
        member = check_kind(db, proposal.wallet_id, member_id, "agent")
        agent_keys.require(member.agent_key, "approval", proposal.intent.to_dict(), signature, f"user:{member_id}")
        try:
            db.execute("INSERT INTO agent_approvals (wallet_id, proposal_id, family_id, user_id, agent_key, "
                       "signature, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [proposal.wallet_id, proposal.id, proposal.family_id, member_id, member.agent_key,
                        signature, at])
        except sqlite3.IntegrityError:
            raise Conflict("already_approved", "your agent already approved this proposal") from None
        audit.append_to_wallet(db, proposal.wallet_id, "agent_approval_added",
                               {"proposal": proposal.id, "family": proposal.family_id, "member": member_id,
                                "agent_key": member.agent_key, "signature": signature},
                               actor=f"user:{member_id}", at=at)
        outbox.record(db, AgentApprovalAdded(proposal.wallet_id, proposal.id, member_id), at=at)
