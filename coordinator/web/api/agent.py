"""Pairing the signer agent (docs/agent.md, "Pairing"): a signed-in member makes
a pairing code; the agent redeems it for an ``agent``-scoped API token of that
member; the agent can revoke its own token when it unpairs."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...accounts import api_tokens, pairing
from ...errors import AccessDenied
from ..agent_socket import disconnect_token
from ..auth import bearer, signed_in
from ..db import get_db
from .body import json_body
from .tokens import session_caller

bp = Blueprint("agent", __name__)


@bp.post("/agent/pairings")
def create():
    caller = session_caller()  # a token may not mint codes, hence tokens
    made, code = pairing.create(get_db(), caller.user.id)
    return jsonify({"pairing": made.to_dict(), "code": code}), 201


@bp.get("/agent/pairings")
def list_mine():
    caller = session_caller()
    return jsonify({"pairings": [p.to_dict() for p in pairing.list_for(get_db(), caller.user.id)]})


@bp.post("/agent/pairings/redeem")
def redeem():
    data = json_body({"code": str, "label": str})
    user, token, text = pairing.redeem(get_db(), data["code"], data["label"])
    return jsonify({"user": user.to_dict(), "token": token.to_dict(), "secret": text}), 201


@bp.delete("/agent/token")
def revoke_own():
    caller = signed_in()
    if caller.via != "token":
        raise AccessDenied("forbidden", "only an agent revokes its own token here; use /tokens from a session")
    user, token = api_tokens.authenticate(get_db(), bearer() or "", "agent")
    api_tokens.revoke(get_db(), user.id, token.id)
    disconnect_token(token.id)
    return jsonify({"revoked": token.id})
