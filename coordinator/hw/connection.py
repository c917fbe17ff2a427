"""The agent's live connection: Socket.IO over a WebSocket, always opened by the
agent (no inbound port), to the namespace ``/agent`` with its paired token.

The Socket.IO and Engine.IO packets are python-socketio's own codecs; the
WebSocket is simple-websocket's client, which the agent's install already
carries (python-socketio's ready-made client would need requests and
websocket-client as well). It reconnects with backoff and reports one status
line per change: connected as whom, the devices it sees, a lost connection and
when it retries. A token the server refuses ends it: retrying cannot help.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable

import simple_websocket
from engineio import packet as eio
from socketio import packet as sio

from ..errors import HuddleError, Unauthenticated
from .pairing import Link

NAMESPACE = "/agent"
BACKOFF = (1, 2, 5, 10, 30, 60)  # seconds; the last one repeats
POLL = 5.0  # seconds between looks at the devices
OPEN_TIMEOUT = 15.0


class Lost(Exception):
    """The connection failed or ended; worth trying again."""


def socket_url(link: Link) -> str:
    parts = urllib.parse.urlsplit(link.url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}{parts.path}/socket.io/?EIO=4&transport=websocket"


def run(link: Link, say: Callable[[str], None], stop: threading.Event,
        devices: Callable[[], list[str]] | None = None, backoff: tuple[float, ...] = BACKOFF) -> None:
    """Stay connected until ``stop`` is set; raises only when the token is refused."""
    failures = 0
    while not stop.is_set():
        state = {"connected": False, "devices": None}
        try:
            _session(link, say, stop, devices, state)
            return
        except Lost as err:
            failures = 0 if state["connected"] else failures  # a fresh outage starts the backoff again
            delay = backoff[min(failures, len(backoff) - 1)]
            failures += 1
            say(f"Disconnected from {link.url} ({err}); retrying in {delay:g}s")
            stop.wait(delay)


def _session(link: Link, say, stop: threading.Event, devices, state: dict) -> None:
    try:
        ws = simple_websocket.Client.connect(socket_url(link))
    except (OSError, simple_websocket.ConnectionError) as err:
        raise Lost(f"cannot connect: {err}") from None
    try:
        opened = _open(ws)
        ws.send(eio.Packet(eio.MESSAGE, sio.Packet(sio.CONNECT, {"token": link.token}, NAMESPACE).encode()).encode())
        _loop(ws, link, say, stop, devices, state, opened)
    except simple_websocket.ConnectionClosed as err:
        raise Lost(f"the connection closed ({err.reason})") from None
    except OSError as err:
        raise Lost(str(err)) from None
    finally:
        ws.close()


def _open(ws) -> float:
    """The Engine.IO handshake; the seconds within which the server pings."""
    text = ws.receive(timeout=OPEN_TIMEOUT)
    packet = eio.Packet(encoded_packet=text) if isinstance(text, str) else None
    if packet is None or packet.packet_type != eio.OPEN or not isinstance(packet.data, dict):
        raise Lost("the server did not open a Socket.IO session")
    return (packet.data.get("pingInterval", 25000) + packet.data.get("pingTimeout", 20000)) / 1000


def _loop(ws, link: Link, say, stop: threading.Event, devices, state: dict, quiet_limit: float) -> None:
    heard = time.monotonic()
    while not stop.is_set():
        text = ws.receive(timeout=POLL)
        now = time.monotonic()
        if text is None:
            if now - heard > quiet_limit:
                raise Lost("the server stopped answering")
        else:
            heard = now
            _handle(ws, eio.Packet(encoded_packet=text), link, say, state)
        if state["connected"] and devices is not None:
            _report_devices(devices, say, state)


def _handle(ws, packet: eio.Packet, link: Link, say, state: dict) -> None:
    if packet.packet_type == eio.PING:
        ws.send(eio.Packet(eio.PONG, packet.data).encode())
    elif packet.packet_type == eio.CLOSE:
        raise Lost("the server closed the session")
    elif packet.packet_type == eio.MESSAGE and isinstance(packet.data, str):
        message = sio.Packet(encoded_packet=packet.data)
        if message.namespace != NAMESPACE:
            return
        if message.packet_type == sio.CONNECT_ERROR:
            reason = message.data.get("message") if isinstance(message.data, dict) else message.data
            raise Unauthenticated("bad_token", f"{link.url} refused this agent ({reason}): its token was revoked "
                                               "or has expired; pair again (huddle agent unpair, then pair)")
        if message.packet_type == sio.DISCONNECT:
            raise Lost("the server disconnected this agent")
        if message.packet_type == sio.EVENT and message.data and message.data[0] == "welcome":
            state["connected"] = True
            _welcome(message.data[1] if len(message.data) > 1 else {}, link, say)


def _welcome(data: object, link: Link, say) -> None:
    user = data.get("user", {}) if isinstance(data, dict) else {}
    wallets = data.get("wallets", []) if isinstance(data, dict) else []
    listed = ", ".join(str(w) for w in wallets) if wallets else "none yet"
    say(f"Connected to {link.url} as {user.get('name', '?')}; wallets it may sign for: {listed}")


def _report_devices(devices: Callable[[], list[str]], say, state: dict) -> None:
    try:
        seen = sorted(devices())
    except HuddleError as err:
        seen = [f"cannot list devices: {err.message} [{err.code}]"]
    if seen != state["devices"]:
        state["devices"] = seen
        say(f"Devices: {', '.join(seen) if seen else 'none connected'}")
