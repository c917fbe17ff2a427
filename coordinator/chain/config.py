"""Choosing a chain backend from one setting: ``esplora:URL`` or ``core:URL``.

``from_url("esplora:https://mempool.space/api", "bitcoin")`` gives an
``EsploraClient``. ``proxy`` is a SOCKS5 URL (``socks5://127.0.0.1:9050`` for
Tor); host names are then resolved by the proxy, so ``.onion`` URLs work and
no DNS query leaves this machine. See docs/chain.md.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..errors import InvalidInput, Unsupported
from .backend import ChainBackend
from .esplora import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, EsploraClient

KINDS = ("esplora", "core")


def from_url(spec: str, network: str, *, proxy: str | None = None, timeout: float = DEFAULT_TIMEOUT,
             concurrency: int = DEFAULT_CONCURRENCY, core_wallet: str | None = None) -> ChainBackend:
    """A backend for ``kind:URL``; refuses anything it cannot use as given.

    ``core_wallet`` names the Core wallet that ``core:`` reads history from.
    """
    kind, sep, url = spec.strip().partition(":")
    if not sep or kind not in KINDS:
        raise InvalidInput("bad_config", f"chain backend {spec!r} must look like esplora:https://host/api"
                                         " or core:http://127.0.0.1:8332")
    if kind == "core":
        if proxy is not None:
            raise Unsupported("bad_config", "a SOCKS5 proxy is supported for esplora: backends only")
        from .core import CoreClient  # Core's client is only loaded when used

        return CoreClient.from_spec(spec.strip(), network, wallet=core_wallet, timeout=timeout)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("bad_config", f"esplora URL {url!r} must start with https:// (or http://)")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InvalidInput("bad_config", f"esplora URL {url!r} must not carry credentials, ?query or #fragment")
    if proxy is not None:
        check_proxy(proxy)
    if not 1 <= concurrency <= 16:
        raise InvalidInput("bad_config", "concurrency must be between 1 and 16")
    if not 0 < timeout <= 300:
        raise InvalidInput("bad_config", "timeout must be between 0 and 300 seconds")
    return EsploraClient(url, network, proxy=proxy, timeout=timeout, concurrency=concurrency)


def check_proxy(proxy: str) -> str:
    parts = urlsplit(proxy)
    if parts.scheme not in ("socks5", "socks5h") or not parts.hostname or not parts.port:
        raise InvalidInput("bad_config", f"proxy {proxy!r} must look like socks5://127.0.0.1:9050")
    return proxy
