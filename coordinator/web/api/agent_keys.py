"""Registering the signer agent's key (docs/agent.md "Agent key"; DESIGN.md): the
agent, with its own agent-scoped token, registers the public key it signs
roster confirmations, roster changes, approvals and heads with."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...accounts import api_tokens
from ...errors import AccessDenied
from ...governance import agent_keys
from ..auth import bearer, signed_in
from ..db import get_db
from ..openapi import STRING, obj, op
from .body import json_body

bp = Blueprint("agent_keys", __name__)


@bp.post("/agent/keys")
def register():
    caller = signed_in()
    if caller.via != "token" or "agent" not in caller.scopes:
        raise AccessDenied("forbidden", "only the signer agent registers its key, with its agent-scoped token")
    _, token = api_tokens.authenticate(get_db(), bearer() or "", "agent")
    data = json_body({"public_key": str})
    key, replaced, wallets = agent_keys.register_key(get_db(), caller.user.id, data["public_key"], token.id)
    return jsonify({"agent_key": key, "replaced": replaced, "roster_change_needed": wallets}), 201


PATHS = {
    "/agent/keys": {"post": op(
        "Register the calling agent's public key (BIP-340 x-only hex), replacing the user's earlier one; "
        "wallets whose pinned roster names the old key need a roster change", "agent",
        obj({"public_key": STRING}), 201, errors=(409,))},
}
