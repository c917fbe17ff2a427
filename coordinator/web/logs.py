"""Structured logs: one JSON object per line on stderr (docs/deploy.md, "Logs").

A request's line is built from a fixed list of fields (time, level, event,
request id, method, path, status, duration, user id, the client address and
scheme ProxyFix settled on), never from its headers, cookies, query string or
body. Secrets only travel in those: session cookies, bearer tokens, setup,
invite and pairing codes, recovery codes, passkey answers, PSBTs and xpubs.
The server's links carry their codes after ``#``, which browsers never send.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from datetime import datetime, timezone

from flask import Flask, g, request
from werkzeug.wsgi import ClosingIterator

# WSGI environ key of a dict the app fills in: Flask-SocketIO's middleware passes
# the app a copy of the environ, but a shallow one, so the dict is shared.
NOTES = "huddle.log"
HEADER = "X-Request-ID"
FIELDS = ("request_id", "method", "path", "status", "duration_ms", "user_id", "remote", "scheme",
          "origin", "listen", "network", "server")
MAX_PATH = 200  # a path is ids and names; anything longer is noise someone sent
log = logging.getLogger("huddle")


class JsonLines(logging.Formatter):
    """``{"time", "level", "event", ...}``: the message is the event."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "event": record.getMessage(), "logger": record.name}
        line.update({name: getattr(record, name) for name in FIELDS if hasattr(record, name)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: int = logging.INFO) -> None:
    """Every logger (ours, Flask's, Socket.IO's) writes JSON lines to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # its request lines repeat the query string
    for name in ("engineio.server", "socketio.server"):
        # Their default level, set before they start: with a level set they add no
        # plain-text handler of their own, and their records come here as JSON.
        logging.getLogger(name).setLevel(logging.ERROR)


def event(name: str, **fields: object) -> None:
    log.info(name, extra=fields)


def request_line(environ: dict, status: int | None, seconds: float) -> None:
    """The one line per request, from what the WSGI environ holds once it is answered."""
    path = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))[:MAX_PATH]
    notes = environ.get(NOTES, {})
    event("request", request_id=notes.get("request_id"), method=environ.get("REQUEST_METHOD"), path=path,
          status=status, duration_ms=round(seconds * 1000, 1), user_id=notes.get("user_id"),
          remote=environ.get("REMOTE_ADDR"), scheme=environ.get("wsgi.url_scheme"))


class RequestIds:
    """The outermost WSGI layer: an id per request (``X-Request-ID`` on the
    answer, ``request_id`` in the log). With ``emit`` it also writes the
    request's line (Werkzeug); under gunicorn its access log does."""

    def __init__(self, app, emit: bool) -> None:
        self.app, self.emit = app, emit

    def __call__(self, environ, start_response):
        request_id = uuid.uuid4().hex[:16]
        environ[NOTES] = {"request_id": request_id}
        started, seen = time.perf_counter(), {}

        def start(status, headers, exc_info=None):
            seen["status"] = int(status.split(" ", 1)[0])
            return start_response(status, [*headers, (HEADER, request_id)], exc_info)

        body = self.app(environ, start)
        if not self.emit:
            return body
        return ClosingIterator(body, lambda: request_line(environ, seen.get("status"), time.perf_counter() - started))


def _note_user(response):
    found = g.get("caller")
    if found is not None and NOTES in request.environ:
        request.environ[NOTES]["user_id"] = found.user.id
    return response


def init_app(app: Flask, emit: bool) -> Flask:
    """Call after ``create_app``: the ids wrap everything, ProxyFix included."""
    app.after_request(_note_user)
    app.wsgi_app = RequestIds(app.wsgi_app, emit)
    return app
