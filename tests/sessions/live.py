"""A real `huddle serve` process on loopback, members' browsers over HTTP (a software
passkey each), and python-socketio clients: what the live ceremony tests drive."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest
import socketio

from coordinator.web.auth import COOKIE

from ..authenticator import SoftAuthenticator
from ..web.conftest import Browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Answer:
    """An httpx response as the web tests read a Flask one."""

    def __init__(self, response: httpx.Response) -> None:
        self.response, self.status_code = response, response.status_code

    def get_json(self):
        return self.response.json()


class HttpClient:
    """The Flask test client's ``open``/``get``, over real HTTP to the server."""

    def __init__(self, base: str, origin: str) -> None:
        self.http = httpx.Client(base_url=base, headers={"Origin": origin}, timeout=30)

    def open(self, path: str, method: str, json=None, headers=None, **kw) -> Answer:
        return Answer(self.http.request(method, path, json=json, headers=headers, **kw))

    def get(self, path: str, **kw) -> Answer:
        return Answer(self.http.get(path, **kw))

    def cookie(self) -> str:
        return f"{COOKIE}={self.http.cookies.get(COOKIE)}"


@dataclass
class Server:
    proc: subprocess.Popen
    base: str
    origin: str
    setup_token: str
    output: list = field(default_factory=list)

    def browser(self) -> Browser:
        return Browser(HttpClient(self.base, self.origin), SoftAuthenticator(self.origin, "localhost"))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


IN_USE = ("Address already in use", "Connection in use")


def serve(exe, data_dir, chain_url: str, extra_env: dict | None = None, dev: bool = False,
          args: tuple[str, ...] = ()) -> Server:
    """Start `huddle serve` (regtest, the sandbox as its chain, a watcher every second)
    and wait until it answers; returns the setup token it printed. ``dev``: Werkzeug in
    one process (a SIGKILL at a fault point then ends the whole server, not one worker
    that gunicorn would replace). A port taken between picking and binding (by a parallel
    test's connection) is picked again."""
    fresh = not (data_dir / "huddle.sqlite3").exists()
    for attempt in range(3):
        try:
            return _serve(exe, data_dir, chain_url, extra_env, dev, args)
        except RuntimeError as err:
            if attempt == 2 or not any(words in str(err) for words in IN_USE):
                raise
            if fresh:  # the setup link is printed on a first run only: start this one afresh
                for made in data_dir.glob("huddle.sqlite3*"):
                    made.unlink()
    raise AssertionError("unreachable")


def _serve(exe, data_dir, chain_url: str, extra_env: dict | None, dev: bool, args: tuple[str, ...]) -> Server:
    port = free_port()
    first_run = not (data_dir / "huddle.sqlite3").exists()  # only then is a setup link printed
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
    env.update({"HUDDLE_DATA": str(data_dir), "HUDDLE_NETWORK": "regtest", "HUDDLE_CHAIN": f"esplora:{chain_url}",
                "HUDDLE_WATCH_INTERVAL": "1", "PYTHONUNBUFFERED": "1", **(extra_env or {})})
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port), *(["--dev"] if dev else []), *args], env=env,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()
    server = Server(proc, f"http://127.0.0.1:{port}", f"http://localhost:{port}", "", lines)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        link = next((line for line in list(lines) if "/setup#" in line), None)
        try:
            httpx.get(f"{server.base}/api/v1/setup", timeout=1)
            if link is not None or (not first_run and any("serving" in line for line in list(lines))):
                server.setup_token = link.strip().split("#", 1)[1] if link else ""
                return server
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"huddle serve exited: {''.join(lines)}")
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"huddle serve did not start: {''.join(lines)}")


class Member:
    """One python-socketio client: every ``event`` of the /wallets namespace, in arrival order."""

    def __init__(self, server: Server, *, cookie: str | None = None, token: str | None = None,
                 agent: bool = False) -> None:
        self.events: list[dict] = []
        self.errors: list[dict] = []
        self.lock = threading.Lock()
        self.sio = socketio.Client(reconnection=False, websocket_extra_options={"origin": server.origin})
        self.sio.on("event", self._event, namespace="/wallets")
        self.sio.on("error", self.errors.append, namespace="/wallets")
        namespaces = ["/wallets", "/agent"] if agent else ["/wallets"]
        self.sio.connect(server.base, headers={"Cookie": cookie} if cookie else {},
                         auth={"token": token} if token else None, transports=["websocket"],
                         namespaces=namespaces, wait_timeout=10)

    def _event(self, envelope: dict) -> None:
        with self.lock:
            self.events.append(envelope)

    def join(self, wallet_id: int, proposal_id: int) -> dict:
        answer = self.sio.call("join_ceremony", {"wallet_id": wallet_id, "proposal_id": proposal_id, "id": "j1"},
                               namespace="/wallets", timeout=10)
        with self.lock:
            self.events[:0] = answer.get("events", [])
        return answer

    def seen(self) -> list[dict]:
        """What this client has, each seq once, in the order it arrived (the join's answer first)."""
        with self.lock:
            out, have = [], set()
            for envelope in self.events:
                if envelope["seq"] not in have:
                    have.add(envelope["seq"])
                    out.append(envelope)
            return out

    def types(self) -> list[str]:
        return [e["type"] for e in self.seen()]


def wait_for(check, timeout: float = 30.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def make_group(server: Server, sandbox, data_dir) -> tuple[Browser, Browser, Browser, int]:
    """Ada (admin) imports the 2-of-3 test wallet and invites Bob and Carol as keyholders;
    one confirmed sandbox coin funds it. Returns (ada, bob, carol, wallet id)."""
    from ..web.conftest import WALLET_TEXT
    from .ceremony_env import fund

    ada = server.browser().register("/setup", token=server.setup_token, name="Ada")
    wallet_id = ada.post("/wallets/import", {"text": WALLET_TEXT, "name": "Co-op vault"}).get_json()["wallet"]["id"]
    members = []
    for name in ("Bob", "Carol"):
        invite = ada.post(f"/wallets/{wallet_id}/invites", {"role": "keyholder"}).get_json()["token"]
        members.append(server.browser().register("/invites", token=invite, name=name))
    fund(sandbox, data_dir / "huddle.sqlite3", wallet_id)
    return ada, members[0], members[1], wallet_id


@pytest.fixture
def sandbox():
    """The regtest sandbox chain on loopback, for one test (import it with ``server``)."""
    from .ceremony_env import start_sandbox

    chain = start_sandbox()
    yield chain
    chain.stop()


@pytest.fixture
def server(huddle, tmp_path, sandbox):
    """`huddle serve` in its own process with the sandbox as its chain; the test module
    imports the ``huddle`` fixture (tests/cli/runner.py) beside this one."""
    running = serve(huddle, tmp_path / "data", sandbox.url)
    yield running
    running.stop()
