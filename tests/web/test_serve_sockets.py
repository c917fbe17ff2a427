"""What a WebSocket costs `huddle serve` (docs/scaling.md): a browser offers
permessage-deflate, and the server declines it, since zlib's state would add about
100 KB to every open socket to shrink events of a few hundred bytes. And each open
socket holds one of the worker's threads, so Socket.IO never gets the last few:
the API keeps answering when live connections fill the rest (docs/deploy.md)."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage
from wsproto.extensions import PerMessageDeflate

import httpx
import simple_websocket

from coordinator.web.socket_budget import reserve_for

from ..cli.runner import huddle  # noqa: F401  (fixture)
from ..sessions.live import serve


def _open_as_a_browser(base: str, origin: str) -> tuple[AcceptConnection, str]:
    """The Engine.IO WebSocket handshake, offering permessage-deflate as browsers do;
    the server's acceptance and its first message (Engine.IO's open packet)."""
    where = urlsplit(base)
    ws = WSConnection(ConnectionType.CLIENT)
    with socket.create_connection((where.hostname, where.port), timeout=10) as conn:
        conn.sendall(ws.send(Request(host=f"{where.hostname}:{where.port}",
                                     target="/socket.io/?EIO=4&transport=websocket",
                                     extensions=[PerMessageDeflate()], extra_headers=[(b"Origin", origin.encode())])))
        accepted, first = None, None
        while first is None:
            ws.receive_data(conn.recv(65536) or None)
            for event in ws.events():
                if isinstance(event, AcceptConnection):
                    accepted = event
                elif isinstance(event, TextMessage):
                    first = event.data
    return accepted, first


def test_the_server_declines_a_browser_s_offer_of_websocket_compression(huddle, tmp_path):  # noqa: F811
    server = serve(huddle, tmp_path / "data", "http://127.0.0.1:9", {"HUDDLE_WATCH_INTERVAL": "0"})
    try:
        accepted, first = _open_as_a_browser(server.base, server.origin)
    finally:
        server.stop()
    assert accepted is not None and accepted.extensions == []
    assert first.startswith('0{"sid":')  # the socket works, uncompressed


def _websocket(server) -> simple_websocket.Client:
    return simple_websocket.Client.connect(f"{server.base.replace('http', 'ws', 1)}/socket.io/?EIO=4&transport=websocket",
                                           headers={"Origin": server.origin})


def test_live_connections_never_take_the_threads_the_api_needs(huddle, tmp_path):  # noqa: F811
    threads = 8
    server = serve(huddle, tmp_path / "data", "http://127.0.0.1:9", {"HUDDLE_WATCH_INTERVAL": "0"},
                   args=("--threads", str(threads)))
    held = []
    try:
        held = [_websocket(server) for _ in range(threads - reserve_for(threads))]
        refused = httpx.get(f"{server.base}/socket.io/?EIO=4&transport=polling", timeout=10)
        health = httpx.get(f"{server.base}/healthz", timeout=10)
        api = httpx.get(f"{server.base}/api/v1/setup", timeout=10)
        held.pop().close()
        for _ in range(50):  # the server notices the close, then gives the thread back
            again = httpx.get(f"{server.base}/socket.io/?EIO=4&transport=polling", timeout=10)
            if again.status_code != 429:
                break
            time.sleep(0.1)
    finally:
        for ws in held:
            ws.close()
        server.stop()
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "10"
    assert refused.json()["error"]["code"] == "server_busy"
    assert health.status_code == 200 and api.status_code == 200
    assert again.status_code == 200 and again.text.startswith('0{"sid":')
