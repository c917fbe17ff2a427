"""Who is calling: a session cookie (browsers) or a Bearer API token (the signer
agent). ``caller()`` resolves it once per request; routes ask ``signed_in()``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, jsonify, request

from ..accounts import api_tokens, passkeys, recovery, sessions, users
from ..errors import AccessDenied, Unauthenticated
from ..store.db import write
from .db import get_db

COOKIE = "huddle_session"


@dataclass(frozen=True)
class Caller:
    user: users.User
    via: str  # "session" or "token"
    csrf_token: str = ""
    scopes: tuple[str, ...] = ()


def bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def caller() -> Caller | None:
    if "caller" not in g:
        g.caller = _resolve()
    return g.caller


def _resolve() -> Caller | None:
    token = bearer()
    if token is not None:  # a token request ignores cookies: it carries its own credential
        user, found = api_tokens.authenticate(get_db(), token, "read" if request.method == "GET" else "agent")
        return Caller(user, "token", scopes=found.scopes)
    session = sessions.resolve(get_db(), request.cookies.get(COOKIE))
    return Caller(session.user, "session", session.csrf_token) if session else None


def signed_in() -> Caller:
    found = caller()
    if found is None:
        raise Unauthenticated("not_signed_in", "sign in first")
    return found


def server_admin() -> Caller:
    found = signed_in()
    if not found.user.is_admin:
        raise AccessDenied("forbidden", "only the server's admin may do this")
    return found


def welcome(db, create_user, passkey):
    """A new member's first answer (setup or an invite), all in one transaction:
    ``create_user()``, their passkey, recovery codes and a session; then 201."""
    with write(db):
        user = create_user()
        passkeys.add(db, user.id, passkey)
        codes = recovery.issue(db, user.id)
        token, session = sessions.start(db, user.id)
    response = jsonify({"user": user.to_dict(), "csrf_token": session.csrf_token, "recovery_codes": codes})
    set_session_cookie(response, token)
    return response, 201


def set_session_cookie(response, token: str) -> None:
    response.set_cookie(COOKIE, token, max_age=sessions.TTL, httponly=True, samesite="Lax", path="/",
                        secure=current_app.config["HUDDLE"].secure_cookies)


def clear_session_cookie(response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax",
                           secure=current_app.config["HUDDLE"].secure_cookies)
