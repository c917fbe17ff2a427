"""The wallet-setup ceremony over the API (docs/setup-ceremony.md): a thin
adapter over governance/wallet_setup.py. A server admin drafts; each slot's
owner fills it with their key and confirms the first address their device
showed. A draft the caller is not part of answers as a missing one (404); the
draft's setup chain head rides on every answer about it."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify

from ...errors import NotFound
from ...governance import wallet_setup
from ..auth import server_admin, signed_in
from ..db import get_db
from .body import json_body

bp = Blueprint("drafts", __name__)
BASE = "/drafts/<int:draft_id>"
_MAX_ID = 2**62  # larger path numbers cannot be rows (SQLite integers are 64-bit)


def _answer(draft: wallet_setup.Draft, status: int = 200):
    g.audit_chain = wallet_setup.setup_chain(draft.id)
    return jsonify({"draft": draft.to_dict()}), status


def _checked(draft_id: int) -> int:
    if draft_id > _MAX_ID:
        raise NotFound("draft_not_found", "no such wallet draft")
    return draft_id


@bp.get("/drafts")
def list_mine():
    caller = signed_in()
    return jsonify({"drafts": [d.to_dict() for d in wallet_setup.list_for(get_db(), caller.user.id)]})


@bp.post("/drafts")
def create():
    caller = server_admin()
    data = json_body({"name": str, "script_type": str, "threshold": int, "slots": list})
    draft = wallet_setup.create(get_db(), caller.user.id, data["name"], current_app.config["HUDDLE"].network,
                                data["script_type"], data["threshold"], data["slots"])
    return _answer(draft, 201)


@bp.get(BASE)
def show(draft_id: int):
    return _answer(wallet_setup.get(get_db(), _checked(draft_id), signed_in().user.id))


@bp.post(BASE + "/slots/<int:position>")
def fill(draft_id: int, position: int):
    caller = signed_in()
    data = json_body({"key": str})
    return _answer(wallet_setup.fill(get_db(), _checked(draft_id), position, caller.user.id, data["key"]))


@bp.post(BASE + "/slots/<int:position>/confirm")
def confirm(draft_id: int, position: int):
    caller = signed_in()
    data = json_body({"address": str})
    return _answer(wallet_setup.confirm(get_db(), _checked(draft_id), position, caller.user.id, data["address"],
                                        rp=current_app.config["HUDDLE"].relying_party))


@bp.post(BASE + "/cancel")
def cancel(draft_id: int):
    return _answer(wallet_setup.cancel(get_db(), _checked(draft_id), signed_in().user.id))
