"""CSRF protection and response headers (docs/api.md, "CSRF").

Every state-changing request (POST, PUT, PATCH, DELETE):
- is refused if it has an ``Origin`` header other than the pinned origin;
- must carry ``X-Huddle-CSRF``. With a session cookie, its value must be that
  session's CSRF token (a synchronizer token, compared in constant time).
  Without one (sign-in, setup, invites), any value will do: a page on another
  site cannot add a custom header without a CORS preflight, which this server
  never grants. Bearer-token requests are exempt: a token is not ambient.
- must send its body as ``application/json``, which a cross-site form cannot.
The session cookie is HttpOnly, SameSite=Lax, and Secure behind TLS, where
responses also carry Strict-Transport-Security.
"""

from __future__ import annotations

from flask import Flask, current_app, request

from ..accounts import tokens
from ..errors import AccessDenied, InvalidInput
from .auth import COOKIE, bearer, caller

HEADER = "X-Huddle-CSRF"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
HSTS = "max-age=31536000"  # one year


def check_csrf() -> None:
    if request.method not in UNSAFE:
        return
    origin = request.headers.get("Origin")
    if origin is not None and origin != current_app.config["HUDDLE"].origin:
        raise AccessDenied("forbidden", "a request from another site", reason="csrf_origin")
    if bearer() is not None:
        return
    sent = request.headers.get(HEADER, "")
    if not sent:
        raise AccessDenied("forbidden", f"state-changing requests need the {HEADER} header", reason="csrf_missing")
    if request.cookies.get(COOKIE):
        found = caller()
        if found is not None and not tokens.same(sent, found.csrf_token):
            raise AccessDenied("forbidden", f"{HEADER} does not match this session", reason="csrf_mismatch")
    if request.content_length and not request.is_json:
        raise InvalidInput("bad_json", "send the request body as application/json")


def add_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config["HUDDLE"].secure_cookies:
        # Behind TLS only (RFC 6797: ignored over http). No includeSubDomains: the
        # operator's other hosts on the domain are not ours to pin to https.
        response.headers["Strict-Transport-Security"] = HSTS
    if request.path.startswith("/api/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.before_request(check_csrf)
    app.after_request(add_headers)
