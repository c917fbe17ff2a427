"""Fee bumps over the API (docs/proposals.md#fee-bumps): a keyholder or admin asks
for a replacement of a live proposal at a higher fee rate; a thin adapter over
governance/replacements.py. The replacement keeps the family's intent, so the
approvals already given count for it; it needs new signatures."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...governance import proposals, replacements
from ..auth import signed_in
from ..db import get_db
from ..openapi import INTEGER, PROPOSAL_ID, WALLET_ID, obj, op
from .body import json_body
from .wallets import wallet_for

bp = Blueprint("replacements", __name__)


@bp.post("/wallets/<int:wallet_id>/proposals/<int:proposal_id>/replacements")
def create(wallet_id: int, proposal_id: int):
    wallet = wallet_for(wallet_id, "keyholder")
    db = get_db()
    proposals.expire_due(db)
    fee_rate = json_body({"fee_rate": int})["fee_rate"]
    bumped = replacements.bump(db, wallet, proposal_id, signed_in().user.id, fee_rate)
    return jsonify({"proposal": bumped.to_dict(), "psbt": proposals.handout(db, wallet, bumped)}), 201


PATHS = {
    "/wallets/{wallet_id}/proposals/{proposal_id}/replacements": {"post": op(
        "Fee-bump a live proposal (BIP-125): a replacement in its family with the same intent (the approvals "
        "carry over), spending the same inputs at `fee_rate` sat/kvB, within the intent's fee ceiling; it "
        "replaces the family's newest live member", "keyholder", obj({"fee_rate": INTEGER}), 201,
        params=[WALLET_ID, PROPOSAL_ID], errors=(404, 409))},
}
