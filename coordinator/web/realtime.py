"""Socket.IO, bound to the app through ``init_app`` (threading mode; real
WebSockets through simple-websocket).

The handshake is refused unless its ``Origin`` is the pinned origin:
engine.io checks it against ``cors_allowed_origins`` (never against ``Host`` or
``X-Forwarded-Host``), and ``on_connect`` checks it again. A socket belongs to a
signed-in user (session cookie, or ``auth={"token": ...}`` for the agent) and
sits in the room ``user:<id>``, so revoking the user cuts it. ``join`` puts a
member in their wallet's room.
"""

from __future__ import annotations

from flask import current_app, request
from flask_socketio import Namespace, SocketIO, join_room

from ..accounts import api_tokens, roles
from ..errors import HuddleError, InvalidInput
from ..governance import audit
from .auth import caller
from .db import get_db

NAMESPACE = "/wallets"
socketio = SocketIO()


def _user_id(auth: object) -> int | None:
    token = auth.get("token") if isinstance(auth, dict) else None
    if isinstance(token, str):
        return api_tokens.authenticate(get_db(), token, "agent")[0].id
    found = caller()
    return found.user.id if found else None


class WalletEvents(Namespace):
    """The wallet rooms: presence and events come here in later steps."""

    def on_connect(self, auth=None):
        origin = request.headers.get("Origin")
        if origin is not None and origin != current_app.config["HUDDLE"].origin:
            raise ConnectionRefusedError("forbidden: a socket from another site")
        try:
            user_id = _user_id(auth)
        except HuddleError:
            user_id = None
        if user_id is None:
            raise ConnectionRefusedError("not_signed_in")
        join_room(f"user:{user_id}")
        self._users()[request.sid] = user_id

    def on_disconnect(self, *args):
        self._users().pop(request.sid, None)

    def on_join(self, data):
        """Join a wallet's room; answers with the chain head, or the error shape."""
        try:
            wallet_id = data.get("wallet_id") if isinstance(data, dict) else None
            if not isinstance(wallet_id, int) or isinstance(wallet_id, bool):
                raise InvalidInput("bad_json", "join needs {\"wallet_id\": <integer>}")
            roles.require(get_db(), self._users()[request.sid], wallet_id, "viewer")
        except HuddleError as err:
            return err.to_dict()
        join_room(audit.wallet_chain(wallet_id))
        head = audit.head(get_db(), audit.wallet_chain(wallet_id))
        return {"joined": wallet_id, "audit_head": head.to_string()}

    @staticmethod
    def _users() -> dict[str, int]:
        return current_app.extensions.setdefault("huddle_socket_users", {})


def disconnect_user(user_id: int) -> None:
    """Cut every open socket of a user (after revoking them)."""
    for sid, _ in list(socketio.server.manager.get_participants(NAMESPACE, f"user:{user_id}")):
        socketio.server.disconnect(sid, namespace=NAMESPACE)


def init_app(app) -> None:
    config = app.config["HUDDLE"]
    socketio.init_app(app, async_mode="threading", cors_allowed_origins=[config.origin],
                      cors_credentials=True, max_http_buffer_size=64 * 1024)
    socketio.on_namespace(WalletEvents(NAMESPACE))
