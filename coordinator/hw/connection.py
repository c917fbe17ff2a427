"""The agent's live connection: a python-socketio client, always opened by the agent
(no inbound port), over a WebSocket to the namespace ``/agent`` with its paired token.

It reconnects with its own backoff (python-socketio's is turned off, so the status
line can say exactly when it retries), and reports one line per change: connected as
whom, the devices it sees, a lost connection and when it reconnects. A token the
server refuses ends it: retrying cannot help.

Sign requests (docs/agent.md, "Sign requests") are handed to ``on_request`` in a
thread of their own, one at a time, so the socket keeps answering pings while a
device waits for a button press. Other requests (``handlers``: ``show_address``)
take the same queue, so the device sees one operation at a time.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable

import socketio

from ..errors import HuddleError, Unauthenticated
from .pairing import Link

NAMESPACE = "/agent"
BACKOFF = (1, 2, 5, 10, 30, 60)  # seconds; the last one repeats
POLL = 5.0  # seconds between looks at the devices
OPEN_TIMEOUT = 15.0
ACK_TIMEOUT = 30.0  # seconds the server has to acknowledge a result
CLOSE_WAIT = 1.0


class Lost(Exception):
    """The connection failed or ended; worth trying again."""


def endpoint(link: Link) -> tuple[str, str]:
    """(base URL, Socket.IO path): a server under a path prefix keeps it."""
    parts = urllib.parse.urlsplit(link.url)
    return f"{parts.scheme}://{parts.netloc}", f"{parts.path.strip('/')}/socket.io".lstrip("/")


class Channel:
    """What a sign request's handler may send back: events, and results that want an ack."""

    def __init__(self, client: socketio.Client) -> None:
        self.client = client

    def emit(self, event: str, data: dict) -> None:
        try:
            self.client.emit(event, data, namespace=NAMESPACE)
        except socketio.exceptions.SocketIOError:
            pass  # the connection went; the server re-sends what it still wants

    def call(self, event: str, data: dict, timeout: float = ACK_TIMEOUT) -> object:
        try:
            return self.client.call(event, data, namespace=NAMESPACE, timeout=timeout)
        except socketio.exceptions.SocketIOError as err:
            return {"error": {"code": "server_unreachable", "message": f"no acknowledgement ({err!r})"}}


Handler = Callable[[dict, Channel], None]


class Session:
    """One connection, from connect to disconnect."""

    def __init__(self, link: Link, say: Callable[[str], None], on_request: Handler | None = None,
                 on_connect: Callable[[Channel], None] | None = None,
                 handlers: dict[str, Handler] | None = None) -> None:
        self.link, self.say, self.on_request, self.on_connect = link, say, on_request, on_connect
        # no Origin header: the agent is no browser page (the server refuses foreign origins)
        self.client = socketio.Client(reconnection=False, handle_sigint=False,
                                      websocket_extra_options={"suppress_origin": True})
        self.channel = Channel(self.client)
        self.refused: str | None = None
        self.gone = threading.Event()
        self.reason = "the connection closed"
        self.welcomed = False
        self._one_at_a_time = threading.Lock()
        for event, handler in (("connect_error", self._refused), ("disconnect", self._disconnected),
                               ("welcome", self._welcome), ("sign_request", self._sign_request)):
            self.client.on(event, handler, namespace=NAMESPACE)
        for event, handler in (handlers or {}).items():
            self.client.on(event, self._queued(handler), namespace=NAMESPACE)

    def open(self) -> None:
        base, path = endpoint(self.link)
        try:
            self.client.connect(base, auth={"token": self.link.token}, namespaces=[NAMESPACE],
                                transports=["websocket"], socketio_path=path, wait_timeout=OPEN_TIMEOUT)
        except (socketio.exceptions.ConnectionError, ValueError, OSError) as err:
            if self.refused is not None:
                raise Unauthenticated("bad_token", f"{self.link.url} refused this agent ({self.refused}): its "
                                      "token was revoked or has expired; pair again (huddle agent unpair, "
                                      "then pair)") from None
            raise Lost(f"cannot connect: {_why(err)}") from None

    def hold(self, stop: threading.Event, devices: Callable[[], list[str]] | None, seen: dict) -> str | None:
        """Until the connection ends (its reason) or ``stop`` is set (None)."""
        next_look = 0.0
        while not stop.is_set():
            if self.gone.wait(0.2):
                return self.reason
            if self.client.eio.state != "connected":
                # python-socketio drops a disconnect that lands before connect() has marked the
                # client connected (a server stopped or a token revoked just after the welcome),
                # so the transport's own state is watched too
                return self.reason
            if self.welcomed and devices is not None and time.monotonic() >= next_look:
                _report_devices(devices, self.say, seen)
                next_look = time.monotonic() + POLL
        return None

    def close(self) -> None:
        """Disconnect, waiting at most a second: websocket-client waits up to 3 s for the
        server's close frame, and Ctrl-C should not."""
        def disconnect() -> None:
            try:
                self.client.disconnect()
            except (socketio.exceptions.SocketIOError, OSError):
                pass  # closing is best effort

        closing = threading.Thread(target=disconnect, name="huddle-agent-close", daemon=True)
        closing.start()
        closing.join(CLOSE_WAIT)

    # -- events from the server ---------------------------------------------------

    def _refused(self, data=None) -> None:
        message = data.get("message") if isinstance(data, dict) else None
        if message:  # a namespace refusal; a transport failure comes as plain text
            self.refused = str(message)
            self.say(f"Refused by {self.link.url}: {message}")

    def _disconnected(self, reason=None) -> None:
        server = reason == socketio.Client.reason.SERVER_DISCONNECT
        self.reason = "the server disconnected this agent" if server else f"the connection closed ({reason})"
        self.gone.set()

    def _welcome(self, data=None) -> None:
        user = data.get("user", {}) if isinstance(data, dict) else {}
        wallets = data.get("wallets", []) if isinstance(data, dict) else []
        listed = ", ".join(str(w) for w in wallets) if wallets else "none yet"
        self.welcomed = True
        self.say(f"Connected to {self.link.url} as {user.get('name', '?')}; wallets it may sign for: {listed}")
        if self.on_connect is not None:
            self.client.start_background_task(self.on_connect, self.channel)

    def _sign_request(self, data=None) -> None:
        if self.on_request is not None:
            self._queued(self.on_request)(data)

    def _queued(self, handler: Handler) -> Callable[..., None]:
        def receive(data=None) -> None:
            def handle() -> None:
                with self._one_at_a_time:  # one request (and so one device operation) at a time
                    handler(data if isinstance(data, dict) else {}, self.channel)

            self.client.start_background_task(handle)
        return receive


def run(link: Link, say: Callable[[str], None], stop: threading.Event,
        devices: Callable[[], list[str]] | None = None, backoff: tuple[float, ...] = BACKOFF,
        on_request: Handler | None = None, on_connect: Callable[[Channel], None] | None = None,
        handlers: dict[str, Handler] | None = None) -> None:
    """Stay connected until ``stop`` is set; raises only when the token is refused."""
    failures, seen = 0, {"devices": None}
    while not stop.is_set():
        session = Session(link, say, on_request, on_connect, handlers)
        try:
            session.open()
            reason = session.hold(stop, devices, seen)
            if reason is None:
                return
            failures = 0  # a connection that worked starts the backoff again
        except Lost as err:
            reason = str(err)
        finally:
            session.close()
        delay = backoff[min(failures, len(backoff) - 1)]
        failures += 1
        say(f"Disconnected from {link.url} ({reason}); reconnecting in {delay:g}s")
        stop.wait(delay)


def _why(err: Exception) -> str:
    text = str(err.args[0]) if err.args else repr(err)
    return text or type(err).__name__


def _report_devices(devices: Callable[[], list[str]], say, seen: dict) -> None:
    try:
        listed = sorted(devices())
    except HuddleError as err:
        listed = [f"cannot list devices: {err.message} [{err.code}]"]
    if listed != seen["devices"]:
        seen["devices"] = listed
        say(f"Devices: {', '.join(listed) if listed else 'none connected'}")
