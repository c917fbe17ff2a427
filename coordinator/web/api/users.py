"""Users, as the server's admin manages them: listing them (to pick a draft's slot
owners); revoking one ends their sessions, API tokens and open sockets at once."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...accounts import roles, users
from ...errors import InvalidInput
from ...governance import audit, outbox
from ...governance.events import MemberRevoked
from ...store.db import write
from ..auth import server_admin
from ..db import get_db
from ..realtime import disconnect_user

bp = Blueprint("users", __name__)


@bp.get("/users")
def list_all():
    """Every user, so that the admin can pick a draft's slot owners."""
    server_admin()
    return jsonify({"users": [{"id": u.id, "name": u.name, "is_admin": u.is_admin,
                               "revoked": u.revoked_at is not None} for u in users.list_all(get_db())]})


@bp.post("/users/<int:user_id>/revoke")
def revoke(user_id: int):
    caller = server_admin()
    if user_id == caller.user.id:
        raise InvalidInput("bad_input", "the admin cannot revoke themselves")
    db = get_db()
    with write(db):
        users.revoke(db, user_id)
        audit.append(db, audit.SERVER_CHAIN, "user_revoked", {"user": user_id}, actor=f"user:{caller.user.id}")
        for wallet_id, _ in roles.wallets_of(db, user_id):
            audit.append_to_wallet(db, wallet_id, "member_revoked", {"user": user_id}, actor=f"user:{caller.user.id}")
            outbox.record(db, MemberRevoked(wallet_id, user_id))
    disconnect_user(user_id)
    return jsonify({"revoked": user_id})
