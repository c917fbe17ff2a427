"""Pinned rosters, safety codes, roster changes and agent approvals over the API
(docs/setup-ceremony.md "Safety codes", docs/roles.md "Roster changes",
docs/proposals.md "Agent approvals"): a thin adapter over governance/roster.py,
setup_roster.py, roster_changes.py, approvals.py and quorum.py."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify

from ...accounts import roles
from ...governance import approvals, proposals, quorum, roster, roster_changes, setup_roster, wallet_setup
from ..auth import signed_in
from ..db import get_db
from ..openapi import INTEGER, PROPOSAL_ID, STRING, WALLET_ID, obj, op
from .body import json_body
from .drafts import _checked
from .wallets import wallet_for

bp = Blueprint("roster", __name__)
CHANGE = "/wallets/<int:wallet_id>/roster/change"


def _rp():
    return current_app.config["HUDDLE"].relying_party


def _shown(pinned: roster.PinnedRoster) -> dict:
    bare = [m.user for m in pinned.keyholders() if m.agent_key is None]
    warning = (f"{len(bare)} keyholders have no agent; a signing group made only of them ({pinned.m} of them) "
               "skips every agent check") if len(bare) >= pinned.m else None
    return {"roster": pinned.to_dict(), "hash": pinned.hash(), "safety_code": pinned.safety_code(),
            "keyholders_without_agent": bare, "warning": warning}


@bp.get("/drafts/<int:draft_id>/roster")
def draft_roster(draft_id: int):
    db = get_db()
    draft = wallet_setup.get(db, _checked(draft_id), signed_in().user.id)
    g.audit_chain = wallet_setup.setup_chain(draft.id)
    return jsonify({"draft": draft.id, "first_address": draft.first_address,
                    **_shown(setup_roster.draft_roster(db, draft, _rp()))})


@bp.post("/drafts/<int:draft_id>/slots/<int:position>/confirm/agent")
def confirm_with_agent(draft_id: int, position: int):
    data = json_body({"address": str, "signature": str}, {"roster_hash": str})
    draft = wallet_setup.confirm(get_db(), _checked(draft_id), position, signed_in().user.id, data["address"],
                                 agent_signature=data["signature"], roster_hash=data.get("roster_hash"), rp=_rp())
    g.audit_chain = wallet_setup.setup_chain(draft.id)
    return jsonify({"draft": draft.to_dict()})


@bp.get("/wallets/<int:wallet_id>/roster")
def wallet_roster(wallet_id: int):
    wallet_for(wallet_id, "viewer")
    db = get_db()
    pinned = roster.pinned(db, wallet_id)
    if pinned is None:
        return jsonify({"pinned": None, "version": 0})
    drift = roster.current(db, wallet_id, _rp()).hash() != pinned.hash()
    return jsonify({"pinned": _shown(pinned), "version": roster.pinned_version(db, wallet_id),
                    "server_roster_differs": drift})


@bp.get(CHANGE)
def pending_change(wallet_id: int):
    wallet_for(wallet_id, "viewer")
    return jsonify({"change": roster_changes.pending(get_db(), wallet_id).to_dict()})


@bp.post(CHANGE)
def propose_change(wallet_id: int):
    wallet_for(wallet_id, "admin")
    data = json_body({}, {"threshold": int, "approvers": list})
    change = roster_changes.propose(get_db(), wallet_id, signed_in().user.id, _rp(), data.get("threshold"),
                                    data.get("approvers"))
    return jsonify({"change": change.to_dict()}), 201


@bp.post(CHANGE + "/confirm")
def confirm_change(wallet_id: int):
    wallet_for(wallet_id, "keyholder")
    data = json_body({"signature": str}, {"to": str})
    change = roster_changes.confirm(get_db(), wallet_id, signed_in().user.id, data["signature"], data.get("to"))
    return jsonify({"change": change.to_dict()})


@bp.post("/wallets/<int:wallet_id>/proposals/<int:proposal_id>/approvals/agent")
def approve_with_agent(wallet_id: int, proposal_id: int):
    wallet_for(wallet_id, "keyholder")
    db = get_db()
    proposals.expire_due(db)
    data = json_body({"signature": str})
    proposal = proposals.get(db, wallet_id, proposal_id)
    approvals.record_agent(db, proposal, signed_in().user.id, data["signature"])
    counted, needed = quorum.status(db, wallet_id, proposal.family_id, proposal.intent.digest())
    return jsonify({"approved_by": sorted(counted), "threshold": needed}), 201


@bp.get("/wallets/<int:wallet_id>/proposals/<int:proposal_id>/quorum")
def proposal_quorum(wallet_id: int, proposal_id: int):
    wallet_for(wallet_id, "viewer")
    db = get_db()
    proposal = proposals.get(db, wallet_id, proposal_id)
    counted, needed = quorum.status(db, wallet_id, proposal.family_id, proposal.intent.digest())
    return jsonify({"approved_by": sorted(counted), "threshold": needed, "open": len(counted) >= needed,
                    "approvals": quorum.stored(db, proposal.family_id)})


_DRAFT = [{"name": "draft_id", "in": "path", "required": True, "schema": INTEGER}]
_SLOT = [*_DRAFT, {"name": "position", "in": "path", "required": True, "schema": INTEGER}]
_P = [WALLET_ID, PROPOSAL_ID]
PATHS = {
    "/drafts/{draft_id}/roster": {"get": op(
        "The roster the ceremony will pin (descriptor, members, passkeys, agent keys, RP, policy), its hash "
        "and safety code; once every slot holds a key", "setup_member", params=_DRAFT, errors=(404, 409))},
    "/drafts/{draft_id}/slots/{position}/confirm/agent": {"post": op(
        "Confirm the caller's slot at their agent: the first address their device showed and the agent key's "
        "signature over {draft, roster hash, first address}", "setup_member",
        obj({"address": STRING, "signature": STRING}, {"roster_hash": STRING}), params=_SLOT,
        errors=(404, 409))},
    "/wallets/{wallet_id}/roster": {"get": op(
        "The wallet's pinned roster, its hash, safety code and version, and whether the server's members, "
        "passkeys or agent keys have moved since", "viewer", params=[WALLET_ID], errors=(404,))},
    "/wallets/{wallet_id}/roster/change": {
        "get": op("The pending roster change: the new roster, what changes, who confirmed, how many are needed",
                  "viewer", params=[WALLET_ID], errors=(404,)),
        "post": op("Propose a roster change: the members, passkeys and agent keys as they are now, with the "
                   "approval threshold and approvers asked for; supersedes a pending one", "admin",
                   obj({}, {"threshold": INTEGER, "approvers": {"type": "array", "items": INTEGER}}), 201,
                   params=[WALLET_ID], errors=(404, 409))},
    "/wallets/{wallet_id}/roster/change/confirm": {"post": op(
        "Confirm the pending roster change with the keyholder's agent-key signature over {wallet, from, to}; "
        "the M-th confirmation pins it", "keyholder", obj({"signature": STRING}, {"to": STRING}),
        params=[WALLET_ID], errors=(404, 409))},
    "/wallets/{wallet_id}/proposals/{proposal_id}/approvals/agent": {"post": op(
        "Approve with the member's pinned agent key: its BIP-340 signature over the intent digest", "keyholder",
        obj({"signature": STRING}), 201, params=_P, errors=(404, 409))},
    "/wallets/{wallet_id}/proposals/{proposal_id}/quorum": {"get": op(
        "Who counts toward the approval threshold under the pinned roster, the threshold, and every stored "
        "approval in the shape agents verify", "viewer", params=_P, errors=(404,))},
}
