"""What a WebSocket costs `huddle serve` (docs/scaling.md): a browser offers
permessage-deflate, and the server declines it, since zlib's state would add about
100 KB to every open socket to shrink events of a few hundred bytes."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage
from wsproto.extensions import PerMessageDeflate

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
