"""Rate limits (flask-limiter), per app so that two apps never share counters.

Sign-in, setup, invite and agent-pairing routes: ``WebConfig.auth_limit`` per client address,
so guessing an invite, a recovery code or the setup token is slow. API-token
requests: ``WebConfig.token_limit`` per token. Limits are in memory: one server process (docs/server.md).
Behind a reverse proxy every client shares the proxy's address unless
``trusted_proxies`` is set (web/proxy.py), which makes the limits stricter, not looser.
"""

from __future__ import annotations

import hashlib

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from .auth import bearer

AUTH_ENDPOINTS = ("setup.options", "setup.complete", "session.options", "session.sign_in",
                  "session.sign_in_with_recovery_code", "invites.check", "invites.options", "invites.accept",
                  "agent.redeem")


def _token_key() -> str:
    return hashlib.sha256((bearer() or "").encode("utf-8")).hexdigest()


def init_app(app: Flask) -> None:
    """Call after the blueprints are registered: it wraps their views."""
    config = app.config["HUDDLE"]
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://", enabled=config.rate_limits,
                      headers_enabled=True)
    for endpoint in AUTH_ENDPOINTS:
        app.view_functions[endpoint] = limiter.limit(config.auth_limit)(app.view_functions[endpoint])
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = limiter.limit(config.token_limit, key_func=_token_key,
                                                         exempt_when=lambda: bearer() is None)(view)
    app.extensions["huddle_limiter"] = limiter
