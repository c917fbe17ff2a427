"""The wallet's coins, for coin control in the spend form (docs/errors-coins.md):
every member, viewers too, reads them; a wallet the caller is not a member of answers
404, as a missing one. Choosing coins is POST .../proposals' ``coins``."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...governance import coins, proposals
from ..db import get_db
from ..openapi import WALLET_ID, op
from .wallets import wallet_for

bp = Blueprint("coins", __name__)


@bp.get("/wallets/<int:wallet_id>/coins")
def listing(wallet_id: int):
    wallet = wallet_for(wallet_id, "viewer")
    db = get_db()
    proposals.expire_due(db)  # an expired proposal's coins are free again
    return jsonify(coins.listing(db, wallet).to_dict())


PATHS = {
    "/wallets/{wallet_id}/coins": {"get": op(
        "The wallet's unspent coins as of its last sync: outpoint, value (sats), height and confirmations, "
        "address and derivation (branch, index), BIP-329 label, and the proposal holding it (locked)",
        "viewer", params=[WALLET_ID], errors=(404,))},
}
