"""Verifying an address on the caller's own device, through their signer agent
(docs/agent.md, "Showing an address when asked"; issue 13 Build 2, issue 12 Build 4).

``POST .../address-checks`` asks the caller's agents, and only theirs, to show
one receive or change address (``show_address`` in ``/agent``); the answer comes
later as an ``address_verified``, ``address_mismatch`` or ``address_check_refused``
event in the wallet's room. ``GET`` lists the answered checks."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...governance import address_checks
from ..auth import signed_in
from ..db import get_db
from ..openapi import INTEGER, WALLET_ID, obj, op
from .body import json_body
from .wallets import wallet_for

bp = Blueprint("address_checks", __name__)
PATH = "/wallets/<int:wallet_id>/address-checks"


@bp.post(PATH)
def ask(wallet_id: int):
    from ..agent_socket import connected_agents, send_show_address

    wallet = wallet_for(wallet_id, "keyholder")
    data = json_body({"branch": str, "index": int})
    user = signed_in().user
    check, payload = address_checks.ask(get_db(), wallet, user.id, data["branch"], data["index"],
                                        connected_agents(user.id))
    agents = send_show_address(user.id, payload)
    return jsonify({"request_id": check.id, "branch": payload["branch"], "index": check.index,
                    "address": check.address, "agents": agents}), 201


@bp.get(PATH)
def checks(wallet_id: int):
    wallet_for(wallet_id, "viewer")
    return jsonify({"checks": address_checks.listing(get_db(), wallet_id)})


PATHS = {
    "/wallets/{wallet_id}/address-checks": {
        "post": op("Ask the caller's own signer agents to show a receive or change address on their device "
                   "(Socket.IO show_address in /agent); the answer comes as a wallet event", "keyholder",
                   obj({"branch": {"type": "string", "enum": ["receive", "change"]}, "index": INTEGER}), 201,
                   params=[WALLET_ID], errors=(404, 409, 422)),
        "get": op("The wallet's address checks, answered, newest first: who, which device, which address, "
                  "verified, mismatch or refused", "viewer", params=[WALLET_ID], errors=(404,))},
}
