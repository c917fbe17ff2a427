"""An Esplora-compatible HTTP server for the sandbox chain, on loopback only.

``serve(chain)`` starts it on a free port and returns a ``Sandbox`` handle
(``url``, ``stop()``, request counts; also a context manager). It answers
the Esplora endpoints a wallet and BDK's ``EsploraClient`` use, with
Esplora's shapes and status codes, plus a few ``/sandbox/...`` endpoints
that are **not** Esplora (mining, faucet, reorgs). Every response carries
``X-Huddle-Sandbox: regtest``.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from http.server import ThreadingHTTPServer

from ...errors import InvalidInput
from .chain import NETWORK, Chain
from .handler import Handler

log = logging.getLogger(__name__)
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class Sandbox:
    """A running sandbox server: ``url``, ``stop()``, ``requests`` (total) and ``counts`` (per route)."""

    def __init__(self, chain: Chain, host: str, port: int, error_style: str) -> None:
        if host not in LOOPBACK:
            raise InvalidInput("bad_config", f"the regtest sandbox listens on loopback only, not {host!r}")
        if error_style not in ("electrs", "legacy"):
            raise InvalidInput("bad_config", f"unknown error style {error_style!r}")
        self.chain = chain
        self.error_style = error_style
        self.counts: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        handler = type("BoundHandler", (Handler,), {"sandbox": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), name="huddle-sandbox",
                                        daemon=True)
        self._thread.start()
        log.warning("REGTEST SANDBOX (not a real bitcoin network) serving Esplora API at %s", self.url)

    @property
    def requests(self) -> int:
        return sum(self.counts.values())

    def count(self, route: str) -> None:
        with self._count_lock:
            self.counts[route] += 1

    def reset_counts(self) -> None:
        with self._count_lock:
            self.counts.clear()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(chain: Chain, port: int = 0, host: str = "127.0.0.1", network: str = NETWORK,
          error_style: str = "electrs") -> Sandbox:
    """Start the server for ``chain``. Any network but regtest is refused."""
    if network != NETWORK:
        raise InvalidInput("wrong_network", f"the sandbox is regtest only; refusing {network!r}")
    return Sandbox(chain, host, port, error_style)
