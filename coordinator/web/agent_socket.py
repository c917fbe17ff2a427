"""The signer agent's Socket.IO namespace, ``/agent`` (docs/api.md, "Socket.IO").

Only an ``agent``-scoped API token connects (``auth={"token": "hdl_..."}``); a
session cookie or a read token is refused, so a browser page cannot pose as
someone's agent. Revoking the user or the token cuts it. The agent sits in
``user:<id>`` and in ``agent:<wallet id>`` for each wallet where it may sign. Members watching a
wallet (namespace ``/wallets``) see ``agent_presence`` when it comes and goes.
"""

from __future__ import annotations

from flask import current_app, request
from flask_socketio import Namespace, emit, join_room

from ..accounts import api_tokens, roles
from ..errors import HuddleError
from ..governance import audit
from .db import get_db

NAMESPACE = "/agent"
SIGNING_ROLES = ("keyholder", "admin")


class AgentEvents(Namespace):
    def on_connect(self, auth=None):
        origin = request.headers.get("Origin")
        if origin is not None and origin != current_app.config["HUDDLE"].origin:
            raise ConnectionRefusedError("forbidden: a socket from another site")
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            user, token = api_tokens.authenticate(get_db(), token if isinstance(token, str) else "", "agent")
        except HuddleError as err:
            raise ConnectionRefusedError(err.code) from None
        wallet_ids = [w for w, role in roles.wallets_of(get_db(), user.id) if role in SIGNING_ROLES]
        join_room(f"user:{user.id}")
        for wallet_id in wallet_ids:
            join_room(f"agent:{wallet_id}")
        _agents()[request.sid] = (user.id, user.name, wallet_ids, token.id)
        emit("welcome", {"user": user.to_dict(), "wallets": wallet_ids})
        _presence(user.id, user.name, wallet_ids, True)

    def on_disconnect(self, *args):
        found = _agents().pop(request.sid, None)
        if found is not None:
            _presence(*found[:3], False)


def _agents() -> dict[str, tuple[int, str, list[int], str]]:
    return current_app.extensions.setdefault("huddle_agents", {})


def disconnect_token(token_id: str) -> None:
    """Cut the agents connected with a token that was just revoked."""
    from .realtime import socketio

    for sid, found in list(_agents().items()):
        if found[3] == token_id:
            socketio.server.disconnect(sid, namespace=NAMESPACE)


def _presence(user_id: int, name: str, wallet_ids: list[int], online: bool) -> None:
    from .realtime import NAMESPACE as WALLETS, socketio

    for wallet_id in wallet_ids:
        socketio.emit("agent_presence", {"wallet_id": wallet_id, "user": {"id": user_id, "name": name},
                                         "online": online}, to=audit.wallet_chain(wallet_id), namespace=WALLETS)
