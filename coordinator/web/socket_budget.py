"""A reserve of the worker's threads for everything but Socket.IO (docs/deploy.md).

Under gunicorn's threaded worker each open WebSocket, and each Socket.IO long-poll
while it waits, holds a thread until it ends. Once every thread is held, new
requests wait in gunicorn's queue, the API and /healthz included, and the server
looks dead. So Socket.IO may hold at most ``threads - reserve`` threads; one more
is answered at once with 429 ``server_busy`` and a Retry-After, and the clients
(the PWA, the agent) reconnect with backoff.
"""

from __future__ import annotations

import json
import threading

from flask import Flask

from ..edge import http_status
from ..errors import RateLimited, register

register({"server_busy": "every thread the server keeps for live connections is taken; the client retries later"})
PREFIX = "/socket.io"
RETRY_AFTER_S = 10


def reserve_for(threads: int) -> int:
    """Threads kept for requests: an eighth, at least 4."""
    return max(4, threads // 8)


def threads_for(sockets: int) -> int:
    """The fewest threads that let ``sockets`` live connections open, the reserve kept."""
    threads = sockets + 4
    while threads - reserve_for(threads) < sockets:
        threads += 1
    return threads


class SocketBudget:
    """Counts Socket.IO requests in flight; ``most`` at once."""

    def __init__(self, threads: int) -> None:
        self.most = max(1, threads - reserve_for(threads))
        self.held = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.held >= self.most:
                return False
            self.held += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.held -= 1


def limit_sockets(app: Flask, threads: int) -> Flask:
    """Wrap ``app`` so Socket.IO never holds the last ``reserve_for(threads)`` threads."""
    inner, budget = app.wsgi_app, SocketBudget(threads)
    app.extensions["huddle_socket_budget"] = budget

    def wsgi_app(environ, start_response):
        if not environ.get("PATH_INFO", "").startswith(PREFIX):
            return inner(environ, start_response)
        if not budget.take():
            return _busy(start_response, budget.most)
        try:  # engine.io answers inside the call: a WebSocket returns when it closes
            return inner(environ, start_response)
        finally:
            budget.give_back()

    app.wsgi_app = wsgi_app
    return app


def _busy(start_response, most: int) -> list[bytes]:
    err = RateLimited("server_busy", f"the server already holds its {most} live connections; "
                                     f"try again in {RETRY_AFTER_S} s")
    body = json.dumps(err.to_dict()).encode()
    start_response(f"{http_status(err)} Too Many Requests", [
        ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
        ("Retry-After", str(RETRY_AFTER_S)), ("Cache-Control", "no-store")])
    return [body]
