"""The one JSON error shape for every HTTP error: ``HuddleError.to_dict`` with
the status from ``edge.http_status``. Werkzeug's own errors (no such route,
wrong method, body too large, unreadable JSON) and bugs get the same shape."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from ..edge import INTERNAL_STATUS, http_status
from ..errors import HuddleError, InvalidInput, NotFound, RateLimited, register

register({
    "route_not_found": "no API route at this path",
    "method_not_allowed": "the route exists but not with this HTTP method",
    "body_too_large": "the request body is larger than the server accepts",
    "bad_json": "the request body is not a JSON object of the expected fields and types",
    "bad_request": "a request the server could not read (a malformed header or query)",
    "internal_error": "a bug in Huddle; the server log has the details",
    "rate_limited": "too many attempts in a short time; wait and try again",
})
log = logging.getLogger(__name__)
# Werkzeug statuses outside edge.py's table keep their own status, in our shape.
_HTTP_CODES = {404: ("route_not_found", NotFound), 405: ("method_not_allowed", InvalidInput),
               413: ("body_too_large", InvalidInput), 429: ("rate_limited", RateLimited)}


def error_response(err: HuddleError, status: int | None = None):
    response = jsonify(err.to_dict())
    response.status_code = status or http_status(err)
    return response


def _http(exc: HTTPException):
    code, kind = _HTTP_CODES.get(exc.code or 400, ("bad_request", InvalidInput))
    response = error_response(kind(code, _one_line(exc.description) or code), exc.code)
    for name in ("Allow", "Retry-After"):
        if exc.get_response().headers.get(name):
            response.headers[name] = exc.get_response().headers[name]
    return response


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _bug(exc: Exception):
    log.exception("internal error")
    return error_response(HuddleError("internal_error", "internal error; the server log has the details"),
                          INTERNAL_STATUS)


def init_app(app: Flask) -> None:
    app.register_error_handler(HuddleError, error_response)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(Exception, _bug)
