"""Socket.IO, bound to the app through ``init_app`` (threading mode; real
WebSockets through simple-websocket).

The handshake is refused unless its ``Origin`` is the pinned origin:
engine.io checks it against ``cors_allowed_origins`` (never against ``Host`` or
``X-Forwarded-Host``), and ``on_connect`` checks it again. A socket belongs to a
signed-in user (session cookie, or ``auth={"token": ...}`` for the agent) and
sits in the room ``user:<id>``, so revoking the user cuts it. ``join`` puts a
member in their wallet's room, and catches them up from the outbox; ``publish``
sends each committed outbox event to its room (docs/events.md).
"""

from __future__ import annotations

import threading

from flask import current_app, request
from flask_socketio import Namespace, SocketIO, join_room

from ..accounts import api_tokens, roles
from ..errors import HuddleError, InvalidInput
from ..governance import audit, outbox
from .agent_socket import NAMESPACE as AGENT_NAMESPACE, AgentEvents
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
        """Join a wallet's room: the chain head and the events after ``since``
        (or ``"resync": true``), or the error shape."""
        try:
            wallet_id, since = _join_request(data)
            roles.require(get_db(), self._users()[request.sid], wallet_id, "viewer")
        except HuddleError as err:
            return err.to_dict()
        room = audit.wallet_chain(wallet_id)
        join_room(room)
        answer = {"joined": wallet_id, "audit_head": audit.head(get_db(), room).to_string()}
        missed = outbox.since(get_db(), room, since)
        answer.update({"resync": True} if missed is None else {"events": [e.to_dict() for e in missed]})
        return answer

    @staticmethod
    def _users() -> dict[str, int]:
        return current_app.extensions.setdefault("huddle_socket_users", {})


def _join_request(data: object) -> tuple[int, int]:
    fields = data if isinstance(data, dict) else {}
    wallet_id, since = fields.get("wallet_id"), fields.get("since", 0)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (wallet_id, since)):
        raise InvalidInput("bad_json", "join needs {\"wallet_id\": <integer>, \"since\": <last seq seen, optional>}")
    return wallet_id, since


def publish(db) -> None:
    """Send every outbox event committed since the last call to its room, in order."""
    state = current_app.extensions["huddle_publisher"]
    with state["lock"]:
        for envelope in outbox.after_id(db, state["last_id"]):
            socketio.emit("event", envelope.to_dict(), to=envelope.room, namespace=NAMESPACE)
            state["last_id"] = envelope.id


def disconnect_user(user_id: int) -> None:
    """Cut every open socket of a user (after revoking them), their agents' too."""
    for namespace in (NAMESPACE, AGENT_NAMESPACE):
        for sid, _ in list(socketio.server.manager.get_participants(namespace, f"user:{user_id}")):
            socketio.server.disconnect(sid, namespace=namespace)


def init_app(app) -> None:
    config = app.config["HUDDLE"]
    socketio.init_app(app, async_mode="threading", cors_allowed_origins=[config.origin],
                      cors_credentials=True, max_http_buffer_size=64 * 1024)
    socketio.on_namespace(WalletEvents(NAMESPACE))
    socketio.on_namespace(AgentEvents(AGENT_NAMESPACE))
    from ..store import open_database

    db = open_database(config.database)
    app.extensions["huddle_publisher"] = {"lock": threading.Lock(), "last_id": outbox.last_id(db)}
    db.close()
