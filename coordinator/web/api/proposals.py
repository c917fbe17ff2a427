"""Proposals, their comments and approvals (docs/proposals.md). Viewers read;
keyholders and admins propose, comment and approve; the proposer or an admin cancels.
Expired proposals are closed before any of these runs."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify

from ...accounts import passkeys, roles
from ...errors import AccessDenied, InvalidInput
from ...governance import approvals, comments, proposals
from ...governance.approvals import PasskeyApproval
from ...psbt.model import Recipient as Payment
from ..auth import signed_in
from ..db import get_db
from .body import json_body
from .wallets import wallet_for

bp = Blueprint("proposals", __name__)
BASE = "/wallets/<int:wallet_id>/proposals"


def _open(wallet_id: int, at_least: str):
    wallet = wallet_for(wallet_id, at_least)
    proposals.expire_due(get_db())
    return wallet


def _payments(raw: list) -> list[Payment]:
    if not raw or len(raw) > 100 or not all(
            isinstance(p, dict) and set(p) == {"address", "amount"} and isinstance(p["address"], str)
            and isinstance(p["amount"], int) and not isinstance(p["amount"], bool) for p in raw):
        raise InvalidInput("bad_json", "payments are 1 to 100 {\"address\": text, \"amount\": sats}")
    return [Payment(p["address"], p["amount"]) for p in raw]


@bp.get(BASE)
def list_all(wallet_id: int):
    _open(wallet_id, "viewer")
    return jsonify({"proposals": [p.to_dict() for p in proposals.list_for(get_db(), wallet_id)]})


@bp.post(BASE)
def create(wallet_id: int):
    wallet = _open(wallet_id, "keyholder")
    data = json_body({"payments": list, "memo": str, "fee_rate": int},
                     {"coins": list, "fee_ceiling": int, "ttl": int})
    if not all(isinstance(c, str) for c in data.get("coins", [])):
        raise InvalidInput("bad_json", "coins are \"txid:vout\" texts")
    proposal = proposals.create(get_db(), wallet, signed_in().user.id, _payments(data["payments"]), data["memo"],
                                data["fee_rate"], coins=data.get("coins"), fee_ceiling=data.get("fee_ceiling"),
                                ttl=data.get("ttl", proposals.TTL))
    return jsonify({"proposal": proposal.to_dict(), "psbt": proposal.psbt}), 201


@bp.get(f"{BASE}/<int:proposal_id>")
def show(wallet_id: int, proposal_id: int):
    wallet = _open(wallet_id, "viewer")
    db = get_db()
    proposal = proposals.get(db, wallet_id, proposal_id)
    return jsonify({"proposal": proposal.to_dict(), "psbt": proposals.handout(db, wallet, proposal),
                    "approved_by": _approved_by(db, proposal), "summary": _summary(db, wallet, proposal)})


def _approved_by(db, proposal) -> list[str]:
    """Members who approved the proposal's family, by passkey or at their agent ("user:<id>");
    whether they count is the quorum's business (GET .../quorum)."""
    from ...governance import quorum

    return sorted({f"user:{a['member']}" for a in quorum.stored(db, proposal.family_id)})


def _summary(db, wallet, proposal) -> dict:
    """Recipients as addresses, verified change and the fee, computed here from the PSBT by
    the signer checks (psbt/checks.py), so the PWA never parses a PSBT."""
    from ...psbt.checks import change_index_limit, check
    from ...wallet import addresses
    from ...wallet.addresses import CHANGE

    return check(proposal.psbt, wallet.descriptor, wallet.network,
                 max_change_index=change_index_limit(addresses.last_used(db, wallet, CHANGE))).to_dict()


@bp.post(f"{BASE}/<int:proposal_id>/cancel")
def cancel(wallet_id: int, proposal_id: int):
    _open(wallet_id, "keyholder")
    db, user = get_db(), signed_in().user
    proposal = proposals.get(db, wallet_id, proposal_id)
    if proposal.proposer != user.id and roles.role_of(db, user.id, wallet_id) != "admin":
        raise AccessDenied("forbidden", "only the proposer or a wallet admin may cancel a proposal")
    return jsonify({"proposal": proposals.cancel(db, wallet_id, proposal_id, actor=user.id).to_dict()})


@bp.get(f"{BASE}/<int:proposal_id>/comments")
def list_comments(wallet_id: int, proposal_id: int):
    _open(wallet_id, "viewer")
    return jsonify({"comments": [c.to_dict() for c in comments.list_for(get_db(), wallet_id, proposal_id)]})


@bp.post(f"{BASE}/<int:proposal_id>/comments")
def comment(wallet_id: int, proposal_id: int):
    _open(wallet_id, "keyholder")
    text = json_body({"text": str})["text"]
    added = comments.add(get_db(), wallet_id, proposal_id, signed_in().user.id, text)
    return jsonify({"comment": added.to_dict()}), 201


@bp.post(f"{BASE}/<int:proposal_id>/approvals/options")
def approval_options(wallet_id: int, proposal_id: int):
    """WebAuthn options whose challenge is the proposal's intent digest."""
    import webauthn  # only here: it pulls in pyOpenSSL (the server's footprint, issue 14)
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

    _open(wallet_id, "keyholder")
    db, user = get_db(), signed_in().user
    proposal = proposals.get(db, wallet_id, proposal_id)
    mine = [PublicKeyCredentialDescriptor(id=webauthn.base64url_to_bytes(c)) for c, _ in
            passkeys.public_keys(db, user.id)]
    options = webauthn.generate_authentication_options(
        rp_id=current_app.config["HUDDLE"].relying_party.rp_id, challenge=proposal.intent.digest(),
        allow_credentials=mine, user_verification=UserVerificationRequirement.PREFERRED)
    return jsonify({"options": _json(options), "intent": proposal.intent.to_dict()})


@bp.post(f"{BASE}/<int:proposal_id>/approvals")
def approve(wallet_id: int, proposal_id: int):
    _open(wallet_id, "keyholder")
    data = json_body({"credential": dict})
    db, user, rp = get_db(), signed_in().user, current_app.config["HUDDLE"].relying_party
    proposal = proposals.get(db, wallet_id, proposal_id)
    approval = PasskeyApproval.from_credential(f"user:{user.id}", data["credential"])
    key = dict(passkeys.public_keys(db, user.id)).get(approval.credential_id)
    if key is None:
        raise InvalidInput("approval_invalid", "approve with one of your own registered passkeys")
    approvals.record(db, proposal, user.id, approval, key, rp.rp_id, rp.origin)
    return jsonify({"approved_by": _approved_by(db, proposal)}), 201


def _json(options) -> dict:
    import webauthn

    return json.loads(webauthn.options_to_json(options))
