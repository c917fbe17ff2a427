"""The caller's own API tokens (for the signer agent). Only a signed-in browser
session manages tokens; a token cannot mint or revoke tokens."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...accounts import api_tokens
from ...errors import AccessDenied
from ..agent_socket import disconnect_token
from ..auth import Caller, signed_in
from ..db import get_db
from .body import json_body

bp = Blueprint("tokens", __name__)


def session_caller() -> Caller:
    caller = signed_in()
    if caller.via != "session":
        raise AccessDenied("forbidden", "API tokens are managed from a signed-in session, not with a token")
    return caller


@bp.get("/tokens")
def list_mine():
    caller = session_caller()
    return jsonify({"tokens": [t.to_dict() for t in api_tokens.list_for(get_db(), caller.user.id)]})


@bp.post("/tokens")
def create():
    caller = session_caller()
    data = json_body({"scopes": list}, {"label": str})
    token, text = api_tokens.create(get_db(), caller.user.id, data["scopes"], data.get("label", ""))
    return jsonify({"token": token.to_dict(), "secret": text}), 201


@bp.delete("/tokens/<token_id>")
def revoke(token_id: str):
    caller = session_caller()
    api_tokens.revoke(get_db(), caller.user.id, token_id)
    disconnect_token(token_id)  # an agent connected with it goes too
    return jsonify({"revoked": token_id})
