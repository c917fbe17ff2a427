"""Which reverse proxies to believe (``trusted_proxies``, docs/configuration.md).

Behind Caddy or nginx every request comes from the proxy's address, so the rate
limits would count all clients as one. With ``trusted_proxies = N``, Werkzeug's
ProxyFix takes the client address and scheme from the last N entries of
X-Forwarded-For and X-Forwarded-Proto, the ones our own proxies appended; what a
client wrote further left is ignored. Never the host: the origin is pinned
(web/config.py). With 0, the default, no forwarded header is believed.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    hops = app.config["HUDDLE"].trusted_proxies
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)
