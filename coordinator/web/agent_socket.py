"""The signer agent's Socket.IO namespace, ``/agent`` (docs/api.md, "Socket.IO").

Only an ``agent``-scoped API token connects (``auth={"token": "hdl_..."}``); a
session cookie or a read token is refused, so a browser page cannot pose as
someone's agent. Revoking the user or the token cuts it. The agent sits in
``user:<id>`` and in ``agent:<wallet id>`` for each wallet where it may sign. Members watching a
wallet (namespace ``/wallets``) see ``agent_presence`` when it comes and goes.

Signing (contracts §2, docs/ceremony.md): the server emits ``sign_request``; the
agent answers ``sign_step`` (device_ready, reviewing, signed, declined; with
``device`` {"type", "fingerprint"} it also reports its device), ``sign_result``
(its device's new partial signatures, or a refusal) and ``head`` (its signed audit
head). Each is acknowledged with ``{"ok": true, ...}`` or the one error shape, which
also comes as an ``error`` event carrying the request's id.

Showing an address (docs/agent.md, "Showing an address when asked"): the server
emits ``show_address`` {request_id, wallet_id, policy_id, branch, index,
fingerprint} to the asking member's own agents; the agent answers
``address_shown`` (the address its device showed, or ``refused``), which the
server compares with its own derivation (governance/address_checks.py).
"""

from __future__ import annotations

import logging

from flask import current_app, request
# socketio's ConnectionRefusedError, not the builtin: only its reason reaches the client
from flask_socketio import ConnectionRefusedError, Namespace, emit, join_room

from ..accounts import api_tokens, roles
from ..errors import HuddleError, InvalidInput
from ..governance import address_checks, audit, proposals
from ..sessions import agent_presence, presence, requests, signatures
from ..sessions.agent_presence import Connection
from ..store import open_database
from .ceremony_socket import after_signatures, answer_error, publish_now, wallet_by_id
from .db import get_db
from .relay import _lock  # a greenlet lock under gevent, else a thread lock

NAMESPACE = "/agent"
SIGNING_ROLES = ("keyholder", "admin")
REGISTRY = "huddle_agent_registry"  # app.extensions key: the Registry, with a message queue only
log = logging.getLogger(__name__)


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
        _arrived(request.sid, Connection(user.id, user.name, wallet_ids, token.id))
        emit("welcome", {"user": user.to_dict(), "wallets": wallet_ids})
        _presence(user.id, user.name, wallet_ids, True)

    def on_disconnect(self, *args):
        found = _left(request.sid)
        if found is not None and connected_agents(found.user_id) == 0:  # its last one, on any process
            _presence(found.user_id, found.name, found.wallet_ids, False)

    def on_sign_step(self, data=None):
        try:
            db, (wallet_id, proposal_id), user_id = get_db(), *_request(data)
            requests.step(db, wallet_id, proposal_id, user_id, data.get("step"), data.get("reason"))
            if data.get("device") is not None:
                presence.device(db, wallet_by_id(db, wallet_id), proposal_id, user_id, data["device"])
            publish_now()
            return {"ok": True}
        except HuddleError as err:
            return answer_error(err, data)

    def on_sign_result(self, data=None):
        try:
            db, (wallet_id, proposal_id), user_id = get_db(), *_request(data)
            if isinstance(data.get("refused"), dict):
                refused = data["refused"]
                reason = f"{refused.get('code', 'refused')}: {refused.get('message', '')}"
                requests.step(db, wallet_id, proposal_id, user_id, "declined", reason[:300])
                publish_now()
                return {"ok": True, "added": 0}
            if not isinstance(data.get("psbt"), str):
                raise InvalidInput("bad_socket_request", "sign_result carries psbt (base64) or refused {code, message}")
            wallet = wallet_by_id(db, wallet_id)
            proposal = proposals.get(db, wallet_id, proposal_id)
            done = signatures.submit(db, wallet, proposal, data["psbt"], user_id, "agent")
            after_signatures(db, wallet, proposal, done)
            publish_now()
            return {"ok": True, "added": done.added}
        except HuddleError as err:
            return answer_error(err, data)

    def on_head(self, data=None):
        try:
            fields = data if isinstance(data, dict) else {}
            wallet_id = fields.get("wallet_id")
            if not isinstance(wallet_id, int) or isinstance(wallet_id, bool):
                raise InvalidInput("bad_socket_request", "head needs wallet_id, seq, hash and signature")
            requests.record_head(get_db(), wallet_id, _agents()[request.sid].user_id, fields.get("seq"),
                                 fields.get("hash"), fields.get("signature"))
            return {"ok": True}
        except HuddleError as err:
            return answer_error(err, data)

    def on_address_shown(self, data=None):
        try:
            db, user_id = get_db(), _agents()[request.sid].user_id
            fields = data if isinstance(data, dict) else {}
            wallet_id = address_checks.wallet_of(db, fields.get("request_id"), user_id)
            roles.require(db, user_id, wallet_id, "keyholder")  # still a keyholder of it
            check = address_checks.answer(db, wallet_by_id(db, wallet_id), user_id, fields)
            publish_now()
            return {"ok": True, "outcome": check.outcome, "reason": check.reason}
        except HuddleError as err:
            return answer_error(err, data)


def send_show_address(user_id: int, payload: dict) -> int:
    """Emit ``show_address`` to the user's own agents (their room ``user:<id>``); how many are here."""
    from .realtime import socketio

    socketio.emit("show_address", payload, to=f"user:{user_id}", namespace=NAMESPACE)
    return connected_agents(user_id)


def _request(data: object) -> tuple[tuple[int, int], int]:
    """The (wallet, proposal) of the sign request ``data`` answers, and this agent's user."""
    if not isinstance(data, dict):
        raise InvalidInput("bad_socket_request", "send an object with request_id and proposal_id")
    user_id = _agents()[request.sid].user_id
    return requests.request_of(get_db(), data.get("request_id"), user_id, data.get("proposal_id")), user_id


def connected_agents(user_id: int) -> int:
    """How many of the user's agents are connected: to any live server process when
    there is a message queue (an emit then reaches them all), else to this one."""
    registry = current_app.extensions.get(REGISTRY)
    if registry is None:
        return sum(1 for found in _agents().values() if found.user_id == user_id)
    return agent_presence.count(get_db(), user_id, registry.process, registry.ttl)


def _agents() -> dict[str, Connection]:
    """This process's agent sockets: sid -> Connection."""
    return current_app.extensions.setdefault("huddle_agents", {})


def disconnect_token(token_id: str) -> None:
    """Cut the agents connected with a token that was just revoked, on every process."""
    cut_token_here(token_id)
    current_app.extensions["huddle_relay"].cut_token_everywhere(token_id)


def cut_token_here(token_id: str, app=None) -> None:
    from .realtime import cut

    for sid, found in list((app or current_app).extensions.get("huddle_agents", {}).items()):
        if found.token_id == token_id:
            cut(sid, NAMESPACE)


def _presence(user_id: int, name: str, wallet_ids: list[int], online: bool) -> None:
    from .realtime import NAMESPACE as WALLETS, socketio

    for wallet_id in wallet_ids:
        socketio.emit("agent_presence", {"wallet_id": wallet_id, "user": {"id": user_id, "name": name},
                                         "online": online}, to=audit.wallet_chain(wallet_id), namespace=WALLETS)


# -- agents on every process (sessions/agent_presence.py; docs/scaling.md) ----------

class Registry:
    """With a message queue: this process's agent rows in the shared database, renewed
    every ``ttl / 3`` seconds by one background task while it holds agents."""

    def __init__(self, app, ttl: int) -> None:
        self.app, self.ttl, self.process = app, ttl, agent_presence.process_id()
        self.lock, self.running = _lock(app.config["HUDDLE"].async_mode), False

    def write(self, step) -> None:
        """A connect or disconnect row; if the database is busy, the next beat writes it."""
        try:
            step(get_db())
        except HuddleError as err:
            log.warning("agent presence: %s (the next beat catches up)", err)

    def start(self) -> None:
        from .realtime import socketio

        with self.lock:
            if self.running:
                return
            self.running = True
        socketio.start_background_task(self._keep_alive)

    def _keep_alive(self) -> None:
        """Renew every ttl / 3 seconds until this process holds no agent; any failure (a busy
        database) is logged and the next beat tries again: a beat that stopped for good
        would make this process's agents vanish for the others after the TTL."""
        from .realtime import socketio

        db = None
        try:
            while True:
                socketio.sleep(self.ttl / 3)
                try:
                    db = db or open_database(self.app.config["HUDDLE"].database)
                    with self.lock:
                        local = dict(self.app.extensions.get("huddle_agents", {}))
                        self.running = bool(local)
                        if not local:
                            return
                        found = agent_presence.beat(db, self.process, local, self.ttl)
                    self._act(found)
                except Exception as err:  # noqa: BLE001  (see above)
                    log.warning("agent presence: %s (trying again at the next beat)", err)
        finally:
            if db is not None:
                db.close()

    def _act(self, found: agent_presence.Beat) -> None:
        from .realtime import cut

        for sid in found.revoked:  # a revocation whose Redis message this process missed
            cut(sid, NAMESPACE)
        for user_id, name, wallet_ids in found.gone:  # agents of a process that died
            _presence(user_id, name, wallet_ids, False)

    def stop(self) -> None:
        try:
            db = open_database(self.app.config["HUDDLE"].database)
            try:
                agent_presence.leave(db, self.process)
            finally:
                db.close()
        except HuddleError as err:
            log.warning("agent presence: %s (other processes forget this one after the TTL)", err)


def _arrived(sid: str, found: Connection) -> None:
    registry = current_app.extensions.get(REGISTRY)
    if registry is None:
        _agents()[sid] = found
        return
    with registry.lock:
        _agents()[sid] = found
        registry.write(lambda db: agent_presence.connected(db, registry.process, sid, found))
    registry.start()
    current_app.extensions["huddle_relay"].start()  # hear revocations from the other processes


def _left(sid: str) -> Connection | None:
    registry = current_app.extensions.get(REGISTRY)
    if registry is None:
        return _agents().pop(sid, None)
    with registry.lock:
        found = _agents().pop(sid, None)
        if found is not None:
            registry.write(lambda db: agent_presence.disconnected(db, registry.process, sid))
    return found


def init_app(app, relay) -> None:
    """With a message queue, agents count on every process, and a token revoked on one
    process cuts its sockets on all (relay.py carries ``cut-token:``)."""
    relay.cut_token = lambda token_id: cut_token_here(token_id, app)
    if relay.redis is None:
        return
    from .production import on_stop

    registry = app.extensions[REGISTRY] = Registry(app, agent_presence.ttl_setting())
    on_stop(app, registry.stop)
