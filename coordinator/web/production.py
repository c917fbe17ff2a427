"""``huddle serve`` under gunicorn: one worker process with threads, WebSockets
through simple-websocket (Flask-SocketIO's threading mode) (docs/deploy.md).

One worker, never more: the Socket.IO sessions and rooms, the rate-limit
counters and the outbox relay's cursor live in that process's memory, and
SQLite takes one writer at a time anyway. Threads give the concurrency; each
open WebSocket holds one of them.

The app is built in ``load()``, which gunicorn calls in the worker after the
fork (``preload_app`` stays off), so every thread the app starts (the outbox
relay, a chain watcher) runs in the worker, never in the master.

On SIGTERM the master stops listening and tells the worker; the worker stops
accepting, closes every open socket, runs the app's stop hooks (``on_stop``),
and lets the requests in flight finish for up to ``graceful_timeout`` seconds. A write is
one SQLite transaction: it either committed before its answer went out, or
the worker was killed before the commit and the client got no answer.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
from typing import Callable

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.glogging import Logger
from gunicorn.workers.gthread import ThreadWorker

from ..errors import HuddleError
from . import logs
from .socket_budget import limit_sockets

THREADS = 512  # open sockets plus requests in flight: each WebSocket holds one. The pool starts
# threads as needed, so unused ones cost nothing; 500 sockets measured 135 MB (docs/scaling.md)
GRACEFUL_TIMEOUT = 30  # seconds; systemd's TimeoutStopSec must be longer (docs/deploy/huddle.service)
STOP_HOOKS = "huddle_on_stop"  # app.extensions key: callables run in the worker on SIGTERM
log = logging.getLogger(__name__)


def on_stop(app: Flask, hook: Callable[[], None]) -> None:
    """Run ``hook`` in the worker when it is told to stop, after its sockets close."""
    app.extensions.setdefault(STOP_HOOKS, []).append(hook)


def stop_app(app: Flask) -> None:
    """Every Socket.IO client told it is disconnected by the server (clients
    reconnect to the next server by themselves), then the stop hooks, and the
    chain watcher (sessions/watcher.py) gives its lease up for the next server."""
    from .realtime import socketio

    server = socketio.server
    for namespace in list(server.manager.get_namespaces()):
        for sid, _ in list(server.manager.get_participants(namespace, None)):
            server.disconnect(sid, namespace=namespace)
    server.eio.disconnect()  # and the engine.io connections under them
    watcher = app.extensions.get("huddle_watcher")
    hooks = [*app.extensions.get(STOP_HOOKS, []), *([watcher.stop] if watcher is not None else [])]
    for hook in hooks:
        try:
            hook()
        except Exception:  # one failing hook must not keep the others from running
            log.exception("a stop hook failed")


class Worker(ThreadWorker):
    """gunicorn's threaded worker, plus closing the sockets on SIGTERM: a
    WebSocket never ends by itself, so without this the worker would wait out
    the whole graceful timeout and then be killed."""

    stopper: threading.Thread | None = None

    def handle_exit(self, sig, frame) -> None:
        super().handle_exit(sig, frame)
        if self.stopper is None and getattr(self, "wsgi", None) is not None:
            # A signal handler: do the work in a thread of its own.
            self.stopper = threading.Thread(target=stop_app, args=(self.wsgi,), name="huddle-stop", daemon=True)
            self.stopper.start()

    def run(self) -> None:
        super().run()  # returns once the requests in flight are done (or the graceful timeout is up)
        if self.stopper is not None:
            self.stopper.join(self.cfg.graceful_timeout)  # the hooks, before the process ends


class Logs(Logger):
    """gunicorn's own messages and its access log as JSON lines (web/logs.py)."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(logs.JsonLines())

    def access(self, resp, req, environ, request_time) -> None:
        logs.request_line(environ, getattr(resp, "status_code", None), request_time.total_seconds())


class Server(BaseApplication):
    """gunicorn's application API, so that ``huddle serve`` stays one command."""

    def __init__(self, build: Callable[[], Flask], options: dict) -> None:
        self.build, self.options = build, options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        try:
            return self.build()  # in the worker, after the fork
        except HuddleError as err:  # a setting only the app reads (HUDDLE_PWA_DIR): one line, no traceback
            log.error("cannot start: %s [%s]", err.message, err.code)
            sys.exit(Arbiter.WORKER_BOOT_ERROR)  # the master then stops too, with this status (3)


def without_compression(app: Flask) -> Flask:
    """WebSockets without permessage-deflate (RFC 7692): simple-websocket accepts it
    whenever a browser offers it, and each socket then keeps zlib's state, about
    100 KB more per socket (docs/scaling.md), to shrink events of a few hundred bytes.
    Not offered, it is not used; the agent's client never offers it anyway."""
    inner = app.wsgi_app

    def wsgi_app(environ, start_response):
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return inner(environ, start_response)

    app.wsgi_app = wsgi_app
    return app


def _freeze(arbiter, worker) -> None:
    """What the master imported stays shared with the worker: the collector
    never walks these objects, so it never writes to their pages (copy on write)."""
    gc.freeze()


def options(host: str, port: int, threads: int = THREADS, graceful_timeout: int = GRACEFUL_TIMEOUT) -> dict:
    return {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": 1,
        "threads": threads,
        "worker_class": f"{__name__}.Worker",
        "logger_class": f"{__name__}.Logs",
        "graceful_timeout": graceful_timeout,
        "preload_app": False,
        "pre_fork": _freeze,
        # ProxyFix (trusted_proxies) alone decides what forwarded headers mean; by default
        # gunicorn would believe X-Forwarded-Proto from any local process.
        "forwarded_allow_ips": "",
        "proc_name": "huddle",
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
    }


def serve(build: Callable[[], Flask], host: str, port: int, threads: int = THREADS,
          graceful_timeout: int = GRACEFUL_TIMEOUT) -> None:
    """Run until SIGTERM or Ctrl-C; ``build`` makes the app in the worker."""
    def app() -> Flask:
        return limit_sockets(without_compression(logs.init_app(build(), emit=False)), threads)

    Server(app, options(host, port, threads, graceful_timeout)).run()
