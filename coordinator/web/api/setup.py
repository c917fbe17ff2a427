"""The first run: the admin opens the printed setup link and registers a passkey."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ...accounts import passkeys, setup
from ..auth import welcome
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
    return welcome(db, lambda: setup.complete(db, data["token"], data["name"]), passkey)
