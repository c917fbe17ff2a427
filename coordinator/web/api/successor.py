"""Successor wallets, sweeps, retired wallets and replacing a lost passkey over the
API (issue 15, docs/successor.md): a thin adapter over governance/successor.py
and governance/sweep.py."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ...accounts import passkeys
from ...governance import successor, sweep, wallet_setup
from ..auth import signed_in
from ..db import get_db
from ..openapi import CREDENTIAL, INTEGER, STRING, WALLET_ID, obj, op
from .body import json_body
from .tokens import session_caller
from .wallets import wallet_for

bp = Blueprint("successor", __name__)


def _rp():
    return current_app.config["HUDDLE"].relying_party


@bp.post("/wallets/<int:wallet_id>/successor")
def start(wallet_id: int):
    wallet_for(wallet_id, "admin")
    data = json_body({"slots": list, "threshold": int}, {"script_type": str, "name": str})
    draft = successor.start(get_db(), wallet_id, signed_in().user.id, data["slots"], data["threshold"],
                            data.get("script_type"), data.get("name"))
    return jsonify({"draft": draft.to_dict(), "setup_chain": wallet_setup.setup_chain(draft.id)}), 201


@bp.get("/wallets/<int:wallet_id>/succession")
def show(wallet_id: int):
    wallet_for(wallet_id, "viewer")
    return jsonify(sweep.status(get_db(), wallet_id))


@bp.post("/wallets/<int:wallet_id>/sweeps")
def sweep_coins(wallet_id: int):
    wallet_for(wallet_id, "keyholder")
    data = json_body({"fee_rate": int})
    return jsonify(sweep.propose(get_db(), wallet_id, signed_in().user.id, data["fee_rate"])), 201


def _subject(user_id: int) -> str:
    return f"passkey-replace:{user_id}"


@bp.post("/account/passkeys/options")
def passkey_options():
    user = session_caller().user  # a passkey is a browser's; an API token never adds or drops one
    return jsonify(passkeys.registration_options(get_db(), _rp(), _subject(user.id), user.name))


@bp.post("/account/passkeys")
def passkey_replace():
    user = session_caller().user
    data = json_body({"credential": dict}, {"lost": list})
    db = get_db()
    added = passkeys.finish_registration(db, _rp(), _subject(user.id), data["credential"])
    return jsonify(successor.replace_passkeys(db, user.id, added, data.get("lost"), _rp())), 201


_SLOTS = {"type": "array", "items": {"type": "object"}}
PATHS = {
    "/wallets/{wallet_id}/successor": {"post": op(
        "Start the wallet's successor setup draft: slots kept ({\"keep\": old position}: same key, same owner) "
        "or given to a new owner ({\"owner\": user id}), the threshold, optional script type and name; it "
        "goes through the setup ceremony, and its activation retires this wallet", "admin",
        obj({"slots": _SLOTS, "threshold": INTEGER}, {"script_type": STRING, "name": STRING}), 201,
        params=[WALLET_ID], errors=(404, 409))},
    "/wallets/{wallet_id}/succession": {"get": op(
        "Whether the wallet is retired, its successor or predecessor (wallet and policy ids), its sweeps and "
        "their states, coins flagged for arriving after retirement, and coins in no sweep yet", "viewer",
        params=[WALLET_ID], errors=(404,))},
    "/wallets/{wallet_id}/sweeps": {"post": op(
        "Sweep proposals for every coin of the retired wallet in no proposal yet, into fresh successor "
        "addresses; several when the coins do not fit one standard transaction", "keyholder",
        obj({"fee_rate": INTEGER}), 201, params=[WALLET_ID], errors=(404, 409))},
    "/account/passkeys/options": {"post": op(
        "Passkey registration options for a new passkey of the signed-in member (after a recovery code)",
        "session")},
    "/account/passkeys": {"post": op(
        "Register the new passkey, drop the lost ones (credential ids in `lost`); each wallet with a pinned "
        "roster gets a pending roster change for the keyholders' agents to confirm", "session",
        obj({"credential": CREDENTIAL}, {"lost": {"type": "array", "items": STRING}}), 201, errors=(401, 409))},
}
