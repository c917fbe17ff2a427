"""The ceremony room, ``ceremony:<proposal id>`` in the ``/wallets`` namespace
(docs/ceremony.md, "Channels"), and what the REST routes and the agent's
namespace share: the ceremony's view, the chain backend, automatic broadcast,
and sending a sign request to a member's agents.

``join_ceremony`` {"wallet_id", "proposal_id", "since"?, "id"?} puts a member in the
room and answers what they missed after ``since`` (like ``join``). Presence: who
is in the room, through the PWA (a session) or an agent (a token). Every error of
a request is the one JSON shape, as the acknowledgement and as an ``error`` event
carrying the request's ``id`` (DESIGN.md, "Errors").
"""

from __future__ import annotations

import threading

from flask import current_app, request
from flask_socketio import emit, join_room, leave_room

from ..accounts import roles, users
from ..errors import HuddleError, InvalidInput, Unavailable
from ..governance import audit, outbox, proposals
from ..psbt import codec
from ..sessions import broadcast, ceremony, presence, signatures
from ..sessions.events import room
from ..sessions.signatures import Submission
from .auth import caller
from .db import get_db

_lock = threading.Lock()


def view(db, wallet, proposal) -> dict:
    """The ceremony as members see it: state, who signed which input, the combined PSBT."""
    current = ceremony.of(db, proposal)
    return {"ceremony": {**current.to_dict(), "threshold": wallet.descriptor.threshold,
                         "auto_broadcast": ceremony.auto_broadcast(db, wallet.id),
                         "inputs": signatures.signed_by(db, wallet, proposal)},
            "psbt": codec.to_base64(signatures.combined(db, wallet, proposal))}


def agents_online(db, wallet_id: int) -> list[int]:
    """The wallet's keyholders and admins (not revoked) whose signer agent is connected now:
    to any live process with a message queue (one query, sessions/agent_presence.py), else
    to this one. The PWA's grid starts from it, then follows ``agent_presence`` (issue 11)."""
    from ..sessions import agent_presence
    from .agent_socket import REGISTRY, SIGNING_ROLES, connected_agents

    marks = ", ".join("?" for _ in SIGNING_ROLES)
    signers = [r[0] for r in db.execute(
        "SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.wallet_id = ? "
        f"AND m.role IN ({marks}) AND u.revoked_at IS NULL ORDER BY m.user_id", [wallet_id, *SIGNING_ROLES])]
    registry = current_app.extensions.get(REGISTRY)
    if registry is None:  # this process's own sockets, in memory
        return [u for u in signers if connected_agents(u)]
    return agent_presence.online(db, signers, registry.process, registry.ttl)


def chain_backend():
    """The configured chain backend (HUDDLE_CHAIN), or ``no_chain_backend``."""
    from ..chain.config import from_url

    spec, proxy, _ = current_app.config["HUDDLE"].chain_settings()
    spec = current_app.config.get("HUDDLE_CHAIN") or spec
    if not spec:
        raise Unavailable("no_chain_backend", "this server has no chain backend (set HUDDLE_CHAIN), "
                          "so it cannot broadcast; download the PSBT and broadcast it elsewhere")
    return from_url(spec, current_app.config["HUDDLE"].network, proxy=proxy)


def after_signatures(db, wallet, proposal, done: Submission) -> None:
    """The threshold was reached and the wallet broadcasts by itself: do it now. Without a
    backend it waits, ready, for a member's confirmation or the chain watcher."""
    if not (done.threshold_reached and ceremony.auto_broadcast(db, wallet.id)):
        return
    try:
        backend = chain_backend()
    except HuddleError:
        return
    try:
        broadcast.claim(db, proposal, None)
        broadcast.send(db, wallet, proposal, backend)
    except HuddleError:
        pass  # recorded on the ceremony (failed) or left broadcasting for the watcher
    finally:
        getattr(backend, "close", lambda: None)()


def send_sign_request(user_id: int, payload: dict) -> int:
    """Emit ``sign_request`` to the user's agents; how many were connected here."""
    from .agent_socket import NAMESPACE as AGENT, connected_agents
    from .realtime import socketio

    socketio.emit("sign_request", payload, to=f"user:{user_id}", namespace=AGENT)
    return connected_agents(user_id)


def answer_error(err: HuddleError, data: object) -> dict:
    """The one error shape, sent as an ``error`` event with the request's id, and returned as the ack."""
    fields = data if isinstance(data, dict) else {}
    request_id = fields.get("id", fields.get("request_id"))
    emit("error", {"id": request_id if isinstance(request_id, (str, int)) else None, **err.to_dict()})
    return err.to_dict()


def publish_now() -> None:
    from .realtime import publish

    publish(get_db())


# -- the ceremony room in /wallets --------------------------------------------------

def _members() -> dict[str, tuple[int, str, set[int]]]:
    """sid -> (user, via, ceremonies joined), this process's sockets."""
    return current_app.extensions.setdefault("huddle_ceremony_members", {})


def on_join_ceremony(data=None):
    try:
        wallet_id, proposal_id, since = _join_fields(data)
        users_of = current_app.extensions.get("huddle_socket_users", {})
        user_id = users_of.get(request.sid)
        if user_id is None:
            raise InvalidInput("bad_socket_request", "this socket is not signed in")
        db = get_db()
        roles.require(db, user_id, wallet_id, "viewer")
        proposal = proposals.get(db, wallet_id, proposal_id)
        answer = {"joined": proposal_id, "audit_head": audit.head(db, audit.wallet_chain(wallet_id)).to_string(),
                  **_catch_up(room(proposal_id), since)}
        _present(db, user_id, proposal)
        return answer
    except HuddleError as err:
        return answer_error(err, data)


def _join_fields(data: object) -> tuple[int, int, int]:
    fields = data if isinstance(data, dict) else {}
    values = [fields.get("wallet_id"), fields.get("proposal_id"), fields.get("since", 0)]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise InvalidInput("bad_socket_request", "join_ceremony needs {\"wallet_id\", \"proposal_id\", "
                           "\"since\": <last seq seen, optional>}")
    return values[0], values[1], values[2]


def _catch_up(where: str, since: int) -> dict:
    from . import realtime

    if hasattr(realtime, "catch_up"):
        return realtime.catch_up(where, since)
    join_room(where)
    missed = outbox.since(get_db(), where, since)
    return {"resync": True} if missed is None else {"events": [e.to_dict() for e in missed]}


def _present(db, user_id: int, proposal) -> None:
    via = "pwa" if caller() is not None and caller().via == "session" else "agent"
    with _lock:
        already = any(u == user_id and v == via and proposal.id in joined for u, v, joined in _members().values())
        _members().setdefault(request.sid, (user_id, via, set()))[2].add(proposal.id)
    if not already:
        presence.joined(db, proposal.wallet_id, proposal.id, user_id, users.get(db, user_id).name, via)
        publish_now()


def on_leave_ceremony(data=None):
    fields = data if isinstance(data, dict) else {}
    proposal_id = fields.get("proposal_id")
    leave_room(room(proposal_id) if isinstance(proposal_id, int) else "")
    _gone(request.sid, {proposal_id} if isinstance(proposal_id, int) else set())
    return {"left": proposal_id}


def _gone(sid: str, which: set[int] | None) -> None:
    """``sid`` left ``which`` ceremonies (all, when None): SignerLeft where it was the last of its kind."""
    with _lock:
        found = _members().get(sid)
        if found is None:
            return
        user_id, via, joined = found
        left = set(joined) if which is None else joined & which
        joined -= left
        if not joined:
            _members().pop(sid, None)
        still = {p for s, (u, v, j) in _members().items() if u == user_id and v == via for p in j}
    db = get_db()
    for proposal_id in sorted(left - still):
        row = db.execute("SELECT wallet_id FROM proposals WHERE id = ?", [proposal_id]).fetchone()
        if row is not None:
            presence.left(db, row[0], proposal_id, user_id, via)
    if left - still:
        publish_now()


def register(socketio, namespace: str) -> None:
    """Add the ceremony handlers to ``namespace`` (called once from realtime.init_app)."""
    socketio.on("join_ceremony", namespace=namespace)(on_join_ceremony)
    socketio.on("leave_ceremony", namespace=namespace)(on_leave_ceremony)
    wallet_events = socketio.server.namespace_handlers.get(namespace)

    def on_disconnect(*args):
        try:
            _gone(request.sid, None)
        finally:
            if wallet_events is not None:
                wallet_events.trigger_event("disconnect", request.sid, *args)

    socketio.on("disconnect", namespace=namespace)(on_disconnect)


def wallet_by_id(db, wallet_id: int):
    from ..store import wallets

    row = db.execute("SELECT name FROM wallets WHERE id = ?", [wallet_id]).fetchone()
    if row is None:
        raise InvalidInput("bad_socket_request", "no such wallet")
    return wallets.get(db, row[0])
