"""What the web edge is pinned to: the database, the secret, and the one origin
(scheme, host, port) members use. The passkey RP ID is that origin's host;
neither ever comes from a request's ``Host`` or ``X-Forwarded-Host``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..accounts.passkeys import RelyingParty
from ..errors import InvalidInput

MAX_BODY = 1024 * 1024  # 1 MiB: wallet files and passkey answers are far smaller


@dataclass(frozen=True)
class WebConfig:
    database: Path
    secret_key: str
    origin: str  # e.g. https://huddle.example.org or http://localhost:5000
    network: str = "bitcoin"
    max_body: int = MAX_BODY
    rate_limits: bool = True
    auth_limit: str = "10 per minute"  # per address, on sign-in, setup and invite routes
    token_limit: str = "600 per minute"  # per API token
    trusted_proxies: int = 0  # reverse proxies whose X-Forwarded-For/-Proto we believe
    message_queue: str = ""  # redis://... when several processes serve (docs/scaling.md)
    async_mode: str = "threading"  # or "gevent", under a gevent server (bench/realtime.py)
    # The chain backend: None means "not given here", and then the environment decides
    # (HUDDLE_CHAIN...), so an app built without `huddle serve` behaves as before.
    chain: str | None = None  # esplora:URL or core:URL (docs/chain.md); "" for none
    tor_proxy: str | None = None
    watch_interval: int | None = None  # seconds between chain watcher rounds; 0 = off

    def chain_settings(self) -> tuple[str, str | None, int]:
        """(backend spec, proxy, watcher interval): this config's, else the environment's."""
        import os

        from ..config import check_watch_interval

        spec = self.chain if self.chain is not None else os.environ.get("HUDDLE_CHAIN", "")
        proxy = self.tor_proxy if self.tor_proxy is not None else os.environ.get("HUDDLE_TOR_PROXY", "")
        interval = self.watch_interval if self.watch_interval is not None else \
            check_watch_interval(os.environ.get("HUDDLE_WATCH_INTERVAL") or "30")
        return spec, proxy or None, interval

    @property
    def secure_cookies(self) -> bool:
        """Secure cookies behind TLS; plain http is only for localhost."""
        return self.origin.startswith("https://")

    @property
    def relying_party(self) -> RelyingParty:
        return RelyingParty(urlsplit(self.origin).hostname or "", self.origin)


def check_origin(origin: str) -> str:
    """An origin passkeys work on: https on a domain, or http://localhost."""
    parts = urlsplit(origin or "")
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host or parts.path not in ("", "/") or parts.query \
            or parts.username or parts.fragment:
        raise InvalidInput("bad_config", f"--origin {origin!r} must be like https://huddle.example.org")
    if host.replace(".", "").isdigit() or ":" in host:
        raise InvalidInput("bad_config", "passkeys need a domain name, not an IP address: "
                           "use http://localhost locally, or a domain with TLS (docs/server.md)")
    if parts.scheme == "http" and host != "localhost":
        raise InvalidInput("bad_config", "plain http works only on localhost; put TLS in front (docs/server.md)")
    return f"{parts.scheme}://{parts.netloc}"
