"""A wallet's members (docs/roles.md#changing-roles-and-removing-members): every
member lists them; a wallet admin changes a role or removes a member; a member
may remove themselves (leave). A thin adapter over accounts/membership.py.

A removed member's sockets are cut at once (they reconnect, and may join only
the wallets they still belong to), so no event of this wallet reaches them
after the answer. Answers carry ``warning`` while the wallet has one admin."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...accounts import membership
from ...errors import NotFound
from ..auth import signed_in
from ..db import get_db
from ..openapi import INTEGER, WALLET_ID, obj, op
from ..realtime import disconnect_user
from .body import json_body
from .wallets import wallet_for

bp = Blueprint("members", __name__)
BASE = "/wallets/<int:wallet_id>/members"
_MAX_ID = 2**62  # larger path numbers cannot be rows (SQLite integers are 64-bit)


def _user(user_id: int) -> int:
    if user_id > _MAX_ID:
        raise NotFound("member_not_found", "no such member in this wallet")
    return user_id


@bp.get(BASE)
def list_all(wallet_id: int):
    wallet_for(wallet_id, "viewer")
    db = get_db()
    return jsonify({"members": [m.to_dict() for m in membership.members(db, wallet_id)],
                    "warning": membership.warning(db, wallet_id)})


@bp.patch(f"{BASE}/<int:user_id>")
def change_role(wallet_id: int, user_id: int):
    wallet_for(wallet_id, "viewer")  # a stranger gets 404; the core wants an admin
    role = json_body({"role": str})["role"]
    db = get_db()
    changed = membership.change_role(db, wallet_id, signed_in().user.id, _user(user_id), role)
    return jsonify({"member": changed.to_dict(), "warning": membership.warning(db, wallet_id)})


@bp.delete(f"{BASE}/<int:user_id>")
def remove(wallet_id: int, user_id: int):
    wallet_for(wallet_id, "viewer")  # a stranger gets 404; the core wants an admin, or the member themselves
    db = get_db()
    removal = membership.remove(db, wallet_id, signed_in().user.id, _user(user_id))
    disconnect_user(user_id)
    return jsonify({**removal.to_dict(), "warning": membership.warning(db, wallet_id)})


_USER_ID = {"name": "user_id", "in": "path", "required": True, "schema": INTEGER}
PATHS = {
    "/wallets/{wallet_id}/members": {"get": op(
        "The wallet's members (user, name, role, revoked, the cosigner slots they own) and a `warning` while "
        "the wallet has only one admin", "viewer", params=[WALLET_ID], errors=(404,))},
    "/wallets/{wallet_id}/members/{user_id}": {
        "patch": op("Change a member's role; never leaves the wallet without an admin, and a member who owns a "
                    "cosigner slot stays at least a keyholder", "admin",
                    obj({"role": {"type": "string", "enum": ["viewer", "keyholder", "admin"]}}),
                    params=[WALLET_ID, _USER_ID], errors=(404, 409)),
        "delete": op("Remove a member (a wallet admin), or leave (the member themselves; not the last admin); "
                     "their sockets are cut, and the answer names any key of theirs the wallet still depends on",
                     "admin", params=[WALLET_ID, _USER_ID], errors=(404, 409))},
}
