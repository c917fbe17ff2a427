"""Invites: a wallet admin makes one to their wallet, the server's admin one to
the server alone; the invitee checks it, registers a passkey and joins. The token travels in request bodies, never in a URL the server logs
(the invite link carries it after ``#``)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ...accounts import invites, passkeys, roles, tokens
from ..auth import server_admin, signed_in, welcome
from ..db import get_db
from .body import json_body
from .wallets import wallet_for

bp = Blueprint("invites", __name__)


def _subject(token: str, name: str) -> str:
    return f"invite:{tokens.hash_secret(token)}:{name}"


def _made(invite: invites.Invite, token: str):
    link = f"{current_app.config['HUDDLE'].origin}/join#{token}"
    return jsonify({"invite": invite.to_dict(), "token": token, "link": link}), 201


def _ttl(data: dict) -> int:
    return min(max(data.get("ttl", invites.TTL), 60), 30 * 24 * 3600)


@bp.post("/wallets/<int:wallet_id>/invites")
def create(wallet_id: int):
    caller = signed_in()
    wallet_for(wallet_id, "admin")
    data = json_body({"role": str}, {"ttl": int})
    return _made(*invites.create(get_db(), wallet_id, roles.check_role(data["role"]), caller.user.id,
                                 ttl=_ttl(data)))


@bp.post("/invites")
def create_for_server():
    """An invite to the server alone: the invitee joins as a plain user, whom the
    admin can then make a slot owner of a wallet draft."""
    caller = server_admin()
    return _made(*invites.create(get_db(), None, None, caller.user.id, ttl=_ttl(json_body({}, {"ttl": int}))))


@bp.post("/invites/check")
def check():
    invite = invites.check(get_db(), json_body({"token": str})["token"])
    return jsonify({"role": invite.role, "expires_at": invite.expires_at})


@bp.post("/invites/options")
def options():
    data = json_body({"token": str, "name": str})
    db = get_db()
    invites.check(db, data["token"])
    rp = current_app.config["HUDDLE"].relying_party
    return jsonify(passkeys.registration_options(db, rp, _subject(data["token"], data["name"]), data["name"]))


@bp.post("/invites/accept")
def accept():
    data = json_body({"token": str, "name": str, "credential": dict})
    db, rp = get_db(), current_app.config["HUDDLE"].relying_party
    invites.check(db, data["token"])
    passkey = passkeys.finish_registration(db, rp, _subject(data["token"], data["name"]), data["credential"])
    return welcome(db, lambda: invites.accept(db, data["token"], data["name"]), passkey)
