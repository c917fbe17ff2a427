"""The first run: the admin opens the printed setup link and registers a passkey."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ...accounts import passkeys, recovery, sessions, setup
from ...store.db import write
from ..auth import set_session_cookie
from ..db import get_db
from .body import json_body

bp = Blueprint("setup", __name__)


def _subject(name: str) -> str:
    return f"setup:{name}"


@bp.get("/setup")
def status():
    return jsonify({"needs_setup": setup.needs_setup(get_db())})


@bp.post("/setup/options")
def options():
    data = json_body({"token": str, "name": str})
    db = get_db()
    setup.check_token(db, data["token"])
    rp = current_app.config["HUDDLE"].relying_party
    return jsonify(passkeys.registration_options(db, rp, _subject(data["name"]), data["name"]))


@bp.post("/setup")
def complete():
    data = json_body({"token": str, "name": str, "credential": dict})
    db, rp = get_db(), current_app.config["HUDDLE"].relying_party
    setup.check_token(db, data["token"])
    passkey = passkeys.finish_registration(db, rp, _subject(data["name"]), data["credential"])
    with write(db):
        admin = setup.complete(db, data["token"], data["name"])
        passkeys.add(db, admin.id, passkey)
        codes = recovery.issue(db, admin.id)
        token, session = sessions.start(db, admin.id)
    response = jsonify({"user": admin.to_dict(), "csrf_token": session.csrf_token, "recovery_codes": codes})
    set_session_cookie(response, token)
    return response, 201
