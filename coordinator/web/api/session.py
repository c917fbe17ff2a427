"""Signing in and out: a passkey assertion, or a one-time recovery code."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from ...accounts import passkeys, recovery, roles, sessions, users
from ...errors import Unauthenticated
from ...governance import audit
from ...store.db import write
from ..auth import COOKIE, clear_session_cookie, set_session_cookie, signed_in
from ..db import get_db
from .body import json_body

bp = Blueprint("session", __name__)


def _signed_in_as(user_id: int, how: str):
    db = get_db()
    with write(db):
        user = users.get(db, user_id)
        if user.revoked_at is not None:
            raise Unauthenticated("not_signed_in", "this account has been revoked")
        token, session = sessions.start(db, user_id)
        audit.append(db, audit.SERVER_CHAIN, "signed_in", {"user": user_id, "with": how}, actor=f"user:{user_id}")
    response = jsonify({"user": user.to_dict(), "csrf_token": session.csrf_token})
    set_session_cookie(response, token)
    return response, 201


@bp.post("/session/options")
def options():
    return jsonify(passkeys.login_options(get_db(), current_app.config["HUDDLE"].relying_party))


@bp.post("/session")
def sign_in():
    data = json_body({"credential": dict})
    user_id = passkeys.finish_login(get_db(), current_app.config["HUDDLE"].relying_party, data["credential"])
    return _signed_in_as(user_id, "passkey")


@bp.post("/session/recovery")
def sign_in_with_recovery_code():
    data = json_body({"code": str})
    return _signed_in_as(recovery.redeem(get_db(), data["code"]), "recovery_code")


@bp.get("/session")
def whoami():
    caller = signed_in()
    wallets = [{"id": wallet_id, "role": role} for wallet_id, role in roles.wallets_of(get_db(), caller.user.id)]
    return jsonify({"user": caller.user.to_dict(), "via": caller.via, "csrf_token": caller.csrf_token,
                    "wallets": wallets})


@bp.delete("/session")
def sign_out():
    signed_in()
    sessions.end(get_db(), request.cookies.get(COOKIE, ""))
    response = jsonify({"signed_out": True})
    clear_session_cookie(response)
    return response
