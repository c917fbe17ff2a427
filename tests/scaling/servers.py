"""Real processes for the scaling tests: a loopback redis-server, `huddle serve`
on a shared SQLite file, and python-socketio clients that keep what they get."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import socketio

HUDDLE = Path(sys.executable).parent / "huddle"
ORIGIN = "http://localhost:5000"
SECRET = "s" * 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(tmp: Path) -> tuple[subprocess.Popen, str]:
    exe = shutil.which("redis-server") or ("/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)
    if exe is None:
        pytest.fail("redis-server is not installed: `./dev test` installs it (Debian's redis-server package)")
    port = free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    _wait(lambda: socket.create_connection(("127.0.0.1", port), timeout=0.5).close(), proc, "redis-server")
    return proc, f"redis://127.0.0.1:{port}/0"


def serve(database: Path, data_dir: Path, message_queue: str = "", **extra_env: str) -> tuple[subprocess.Popen, str]:
    """One `huddle serve` process on ``database``; returns it and its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
    env.update(HUDDLE_DATA=str(data_dir), HUDDLE_DATABASE=str(database), HUDDLE_SECRET_KEY=SECRET,
               HUDDLE_NETWORK="regtest", HUDDLE_MESSAGE_QUEUE=message_queue, **extra_env)
    proc = subprocess.Popen([str(HUDDLE), "serve", "--port", str(port), "--origin", ORIGIN], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    _wait(lambda: httpx.get(f"{url}/healthz", timeout=1).raise_for_status(), proc, "huddle serve")
    return proc, url


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _wait(probe, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            probe()
            return
        except (OSError, httpx.HTTPError):
            if proc.poll() is not None:
                err = proc.stderr.read() if proc.stderr else ""
                pytest.fail(f"{what} exited with {proc.returncode}: {err}")
            time.sleep(0.1)
    proc.kill()
    pytest.fail(f"{what} did not start within 30 s")


class Member:
    """A member's socket on one server: joins a wallet's room and keeps every
    event it receives, in arrival order."""

    def __init__(self, url: str, token: str) -> None:
        self.events: list[dict] = []
        self.changed = threading.Condition()
        self.sio = socketio.Client(reconnection=False, websocket_extra_options={"suppress_origin": True})
        self.gone = threading.Event()
        self.sio.on("event", self._got, namespace="/wallets")
        self.sio.on("disconnect", lambda *_: self.gone.set(), namespace="/wallets")
        self.sio.connect(url, namespaces=["/wallets"], auth={"token": token}, headers={"Origin": ORIGIN},
                         transports=["websocket"], wait_timeout=10)

    def _got(self, envelope: dict) -> None:
        with self.changed:
            self.events.append(envelope)
            self.changed.notify_all()

    def join(self, wallet_id: int, since: int = 0, **more) -> dict:
        """``join`` a wallet's room, or ``join_ceremony`` when given a proposal_id."""
        event = "join_ceremony" if "proposal_id" in more else "join"
        answer = self.sio.call(event, {"wallet_id": wallet_id, "since": since, **more}, namespace="/wallets",
                               timeout=10)
        with self.changed:
            self.events[:0] = answer.get("events", [])
        return answer

    def wait_until(self, done, timeout: float = 20) -> list[dict]:
        """The events once ``done(events)`` holds (or what came before the timeout)."""
        with self.changed:
            self.changed.wait_for(lambda: done(self.events), timeout=timeout)
            return list(self.events)

    def close(self) -> None:
        self.sio.disconnect()
