"""The wallet's coins, for coin control in the spend form (docs/errors-coins.md):
every member, viewers too, reads them; keyholders and admins freeze and unfreeze one
(BIP-329 ``spendable``, each change an audit entry); a wallet the caller is not a member
of answers 404, as a missing one. Choosing coins is POST .../proposals' ``coins``."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...accounts import roles
from ...governance import coin_freeze, coins, proposals
from ..auth import signed_in
from ..db import get_db
from ..openapi import STRING, WALLET_ID, obj, op
from .body import json_body
from .wallets import wallet_for

bp = Blueprint("coins", __name__)


@bp.get("/wallets/<int:wallet_id>/coins")
def listing(wallet_id: int):
    wallet = wallet_for(wallet_id, "viewer")
    db = get_db()
    proposals.expire_due(db)  # an expired proposal's coins are free again
    role = roles.role_of(db, signed_in().user.id, wallet_id)
    # may_freeze: whether this caller's coin list offers freeze and unfreeze (keyholder+)
    return jsonify({**coins.listing(db, wallet).to_dict(), "may_freeze": role in ("keyholder", "admin")})


@bp.post("/wallets/<int:wallet_id>/coins/freeze")
def freeze(wallet_id: int):
    return _set_frozen(wallet_id, True)


@bp.post("/wallets/<int:wallet_id>/coins/unfreeze")
def unfreeze(wallet_id: int):
    return _set_frozen(wallet_id, False)


def _set_frozen(wallet_id: int, frozen: bool):
    wallet = wallet_for(wallet_id, "keyholder")
    outpoint = json_body({"outpoint": str})["outpoint"]
    db = get_db()
    proposals.expire_due(db)
    coin = coins.unspent_coin(db, wallet, outpoint)
    changed = coin_freeze.set_frozen(db, wallet.id, (coin.txid, coin.vout), frozen, signed_in().user.id)
    return jsonify({"coin": coins.unspent_coin(db, wallet, coin.outpoint).to_dict(), "changed": changed})


_OUTPOINT = obj({"outpoint": STRING})
PATHS = {
    "/wallets/{wallet_id}/coins": {"get": op(
        "The wallet's unspent coins as of its last sync: outpoint, value (sats), height and confirmations, "
        "address and derivation (branch, index), BIP-329 label, the proposal holding it (locked), and "
        "whether it is frozen and why", "viewer", params=[WALLET_ID], errors=(404,))},
    "/wallets/{wallet_id}/coins/freeze": {"post": op(
        "Freeze one unspent coin (BIP-329 spendable false): no spend takes it, chosen or not, until it is "
        "unfrozen; an audit entry", "keyholder", _OUTPOINT, params=[WALLET_ID], errors=(404, 409))},
    "/wallets/{wallet_id}/coins/unfreeze": {"post": op(
        "Unfreeze one unspent coin (BIP-329 spendable true); an audit entry", "keyholder", _OUTPOINT,
        params=[WALLET_ID], errors=(404, 409))},
}
