"""A tiny misbehaving HTTP server on loopback, for the client's retry rules.

``script`` is a list of (status, body, delay) answered in order, one per
request, the last repeated; every request's method and path is recorded.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FlakyServer:
    def __init__(self, script: list[tuple[int, str, float]]) -> None:
        self.script = list(script)
        self.seen: list[tuple[str, str]] = []
        self.headers: dict[str, str] = {}
        self.in_flight = self.most_in_flight = 0
        self.request_headers: list[str] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

            def do_GET(self) -> None:
                owner._answer(self)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner._answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.seen.append((handler.command, handler.path))
            self.request_headers.append(str(handler.headers))
            status, body, delay = self.script[min(len(self.seen), len(self.script)) - 1]
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(delay)
        with self._lock:
            self.in_flight -= 1
        data = body.encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Length", str(len(data)))
            for name, value in self.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass  # the client gave up waiting

    def __enter__(self) -> "FlakyServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
