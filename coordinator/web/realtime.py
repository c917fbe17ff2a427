"""Socket.IO, bound to the app through ``init_app`` (threading mode; real
WebSockets through simple-websocket).

The handshake is refused unless its ``Origin`` is the pinned origin:
engine.io checks it against ``cors_allowed_origins`` (never against ``Host`` or
``X-Forwarded-Host``), and ``on_connect`` checks it again. A socket belongs to a
signed-in user (session cookie, or ``auth={"token": ...}`` for the agent) and
sits in the room ``user:<id>``, so revoking the user cuts it. ``join`` puts a
member in their wallet's room, and catches them up from the outbox; ``publish``
sends each committed outbox event to its room (docs/events.md), through this
process's ``Relay`` (relay.py), which also sends the events other processes
commit (docs/scaling.md).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

from flask import current_app, request

_CLIENT_ONLY = {"requests": "engineio.client", "websocket": "engineio.client", "aiohttp": "engineio.async_client"}


class _OnFirstUse:
    """Stands in for a module that python-socketio's clients use: imported on first use."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)


def _import_socketio_lean() -> None:
    """python-socketio imports, whenever they are installed, ``redis`` (with asyncio and
    cryptography) for its message queue and ``requests``, ``websocket`` and ``aiohttp``
    for its clients. A server uses no client, and redis only with HUDDLE_MESSAGE_QUEUE
    (the server's footprint, issue 14), so they are held back while socketio is imported;
    the clients get stand-ins that import them on first use, and ``_redis_for_socketio``
    gives redis back when a queue is set."""
    if "socketio" in sys.modules:
        return
    held = [name for name in ("redis", *_CLIENT_ONLY) if name not in sys.modules]
    for name in held:
        sys.modules[name] = None  # type: ignore[assignment]  # `import name` then raises ImportError
    try:
        import socketio  # noqa: F401
    finally:
        for name in held:
            del sys.modules[name]
    for name, user in _CLIENT_ONLY.items():
        module = sys.modules[user]
        if getattr(module, name, "") is None and importlib.util.find_spec(name) is not None:
            setattr(module, name, _OnFirstUse(name))


_import_socketio_lean()
# socketio's ConnectionRefusedError, not the builtin: only its reason reaches the client
from flask_socketio import ConnectionRefusedError, Namespace, SocketIO, join_room  # noqa: E402

from ..accounts import api_tokens, roles
from ..errors import HuddleError, InvalidInput
from ..governance import audit, outbox
from .agent_socket import NAMESPACE as AGENT_NAMESPACE, AgentEvents, init_app as agent_init
from .ceremony_socket import register as ceremony_register
from .auth import caller
from .db import get_db
from .relay import Relay

NAMESPACE = "/wallets"  # every outbox room (wallet:<id>, ceremony:<id>) lives here
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
        _relay().start()

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
        answer = {"joined": wallet_id, "audit_head": audit.head(get_db(), room).to_string()}
        return {**answer, **catch_up(room, since)}

    @staticmethod
    def _users() -> dict[str, int]:
        return current_app.extensions.setdefault("huddle_socket_users", {})


def _join_request(data: object) -> tuple[int, int]:
    fields = data if isinstance(data, dict) else {}
    wallet_id, since = fields.get("wallet_id"), fields.get("since", 0)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (wallet_id, since)):
        raise InvalidInput("bad_json", "join needs {\"wallet_id\": <integer>, \"since\": <last seq seen, optional>}")
    return wallet_id, since


def catch_up(room: str, since: int) -> dict:
    """Put this socket in ``room`` and answer what it missed after ``since``:
    ``{"events": [...]}`` or ``{"resync": True}``. Every later event of the room
    comes live, once; none is in both (a ceremony namespace calls this too)."""
    missed = _relay().join(get_db(), room, since, lambda: join_room(room))
    return {"resync": True} if missed is None else {"events": [e.to_dict() for e in missed]}


def publish(db) -> None:
    """After a commit: send every new outbox event to its room, in order, and wake
    the other server processes (relay.py)."""
    _relay().changed(db)


def _relay() -> Relay:
    return current_app.extensions["huddle_relay"]


def disconnect_user(user_id: int) -> None:
    """Cut every open socket of a user (after revoking them), their agents' too, on
    every server process (through the message queue, when there is one)."""
    _cut_here(user_id)
    _relay().cut_everywhere(user_id)


def _cut_here(user_id: int) -> None:
    for namespace in (NAMESPACE, AGENT_NAMESPACE):
        for sid, _ in list(socketio.server.manager.get_participants(namespace, f"user:{user_id}")):
            cut(sid, namespace)


def cut(sid: str, namespace: str) -> None:
    """Disconnect a socket, and close its transport too: now and then the client never
    heard the namespace's DISCONNECT alone and stayed, unknowing, on a dead session
    (tests/hw/test_agent_connection.py caught it about one run in three)."""
    eio_sid = socketio.server.manager.eio_sid_from_sid(sid, namespace)
    socketio.server.disconnect(sid, namespace=namespace)
    if eio_sid is not None:
        socketio.server.eio.disconnect(eio_sid)


def message_queue_setting() -> str:
    """HUDDLE_MESSAGE_QUEUE, for a server started without it in its WebConfig."""
    import os

    from ..config import check_message_queue

    return check_message_queue(os.environ.get("HUDDLE_MESSAGE_QUEUE", ""))


def _redis_for_socketio() -> None:
    """The ``redis`` module python-socketio's RedisManager looks for, when
    ``_import_socketio_without_redis`` kept it out."""
    import redis
    from socketio import redis_manager

    if redis_manager.redis is None:
        redis_manager.redis, redis_manager.RedisError = redis, redis.exceptions.RedisError


def init_app(app) -> None:
    config = app.config["HUDDLE"]
    queue = config.message_queue or message_queue_setting()
    if queue:
        _redis_for_socketio()
    socketio.init_app(app, async_mode=config.async_mode, cors_allowed_origins=[config.origin],
                      cors_credentials=True, max_http_buffer_size=64 * 1024, message_queue=queue or None,
                      channel="huddle-socketio")
    socketio.on_namespace(WalletEvents(NAMESPACE))
    socketio.on_namespace(AgentEvents(AGENT_NAMESPACE))
    ceremony_register(socketio, NAMESPACE)  # join_ceremony, leave_ceremony, presence (issue 11)
    app.extensions["huddle_relay"] = relay = Relay(socketio.server, config.database, NAMESPACE, queue, _cut_here)
    agent_init(app, relay)  # agents counted and cut on every process (docs/scaling.md)
