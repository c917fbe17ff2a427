"""The web edge (issue 10): the Flask app factory, the JSON API under /api/v1,
and Socket.IO. A thin adapter over the core: it parses requests, checks who is
calling, calls accounts/, governance/ and store/, and turns errors into the one
JSON shape. Nothing in the core imports this package."""

from __future__ import annotations

from flask import Flask, g

from ..governance import audit
from ..store import open_database
from .config import WebConfig

AUDIT_HEAD = "Huddle-Audit-Head"


def create_app(config: WebConfig) -> Flask:
    from . import api, errors, health, limits, proxy, pwa, qr_socket, realtime, security
    from .db import close_db

    open_database(config.database).close()  # migrate once, before any request
    app = Flask(__name__)
    app.config.update(SECRET_KEY=config.secret_key, MAX_CONTENT_LENGTH=config.max_body, HUDDLE=config,
                      JSON_SORT_KEYS=False)
    app.teardown_appcontext(close_db)
    errors.init_app(app)
    security.init_app(app)
    api.init_app(app)
    health.init_app(app)
    pwa.init_app(app)
    limits.init_app(app)
    realtime.init_app(app)
    qr_socket.register(realtime.socketio, realtime.NAMESPACE)  # scanning part by part (issue 13)
    _start_push(app)
    app.extensions["huddle_watcher"] = _start_watcher(app)
    app.after_request(_audit_head)
    app.after_request(_publish)
    proxy.init_app(app)
    return app


def _publish(response):
    """After a change commits, its outbox events go out to their rooms."""
    from flask import request

    from .db import get_db
    from .realtime import publish

    if request.method != "GET" and response.status_code < 400:
        publish(get_db())
        _wake_push()
    return response


def _start_push(app: Flask) -> None:
    """Web Push (coordinator/push/): the VAPID key, made on the first run, and this
    process's dispatcher, which sends from its own thread (pywebpush loads on first send)."""
    from ..push import keys
    from ..push.delivery import Dispatcher, contact_for

    config: WebConfig = app.config["HUDDLE"]
    key_file = keys.ensure(config.database.parent)
    app.extensions["huddle_push_key"] = key_file
    app.extensions["huddle_push"] = Dispatcher(config.database, key_file, contact_for(config.origin))


def _wake_push() -> None:
    from flask import current_app

    current_app.extensions["huddle_push"].wake()


def _start_watcher(app: Flask):
    """The chain watcher (sessions/watcher.py), when a chain backend is configured
    (HUDDLE_CHAIN) and HUDDLE_WATCH_INTERVAL is not 0; its rounds publish what they wrote."""
    import atexit

    config: WebConfig = app.config["HUDDLE"]
    spec, proxy, interval = config.chain_settings()
    spec = app.config.get("HUDDLE_CHAIN") or spec
    if not spec or interval == 0:
        return None
    # Only now: the backends import httpx (the server's footprint, issue 14).
    from ..chain.config import from_url
    from ..sessions.watcher import Watcher
    from .db import get_db
    from .realtime import publish

    def published() -> None:
        with app.app_context():
            publish(get_db())
            _wake_push()  # a confirmation is the watcher's

    def backend():
        return from_url(spec, config.network, proxy=proxy)

    watcher = Watcher(config.database, backend, config.network, interval, on_change=published).start()
    atexit.register(watcher.stop)  # give the lease up on a clean exit, so another process need not wait
    return watcher


def _audit_head(response):
    """The head of the chain this response concerns: the wallet's, for its
    members; the server chain's, for the server's admin; none otherwise."""
    from .db import get_db

    chain = g.get("audit_chain")
    found = g.get("caller")
    if chain is None and found is not None and found.user.is_admin:
        chain = audit.SERVER_CHAIN
    if chain is not None:
        response.headers[AUDIT_HEAD] = f"{chain} {audit.head(get_db(), chain).to_string()}"
    return response


__all__ = ["WebConfig", "create_app", "AUDIT_HEAD"]
