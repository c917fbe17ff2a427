"""The processes of ``huddle demo``: the sandbox (in this process, mining on a timer),
``huddle serve --dev`` and three ``huddle agent`` processes, each the real command.

Children start in their own session, so a terminal's Ctrl-C reaches only
``huddle demo``, which then stops each of them in order (agents, then the server)
and removes the throwaway data directory.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import httpx

from ..chain.sandbox.chain import Chain
from ..chain.sandbox.server import Sandbox, serve
from ..errors import InvalidInput, Unavailable
from . import errors  # noqa: F401  (registers demo_failed)

# The same code as the ``huddle`` console script, whichever way this one was started.
HUDDLE = [sys.executable, "-c", "import sys; from coordinator.cli import main; sys.exit(main(prog_name='huddle'))"]
STOP_WAIT = 15  # seconds a child gets to stop after SIGINT, before SIGKILL
Say = Callable[[str], None]


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any HUDDLE_ setting (the demo never reads the user's own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


class Child:
    """One child process; its output lines kept, and shown with a prefix when ``say`` is given."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], say: Say | None = None,
                 command: list[str] = HUDDLE) -> None:
        self.name, self.lines, self.say = name, [], say
        self.proc = subprocess.Popen(command + args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()
            if self.say is not None:
                self.say(f"[{self.name}] {line.rstrip()}")
        with self.changed:
            self.changed.notify_all()

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                found = next((line for line in self.lines if text in line), None)
                if found is not None:
                    return found
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise Unavailable("demo_failed", f"{self.name} did not say {text!r}: "
                                      + " | ".join(self.lines[-8:]))
                self.changed.wait(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # as Ctrl-C: each command stops cleanly
            try:
                self.proc.wait(timeout=STOP_WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def agent_command(exe: Path | None) -> list[str]:
    """How to run the signer agent: ``--agent EXE`` (its own install from requirements/agent.lock,
    as on a keyholder's machine), or this install if it carries the agent's libraries."""
    if exe is not None:
        if not (exe.is_file() and os.access(exe, os.X_OK)):
            raise InvalidInput("bad_config", f"--agent {exe}: not an executable huddle command")
        return [str(exe)]
    missing = [name for name in ("hwilib", "websocket") if importlib.util.find_spec(name) is None]
    if missing:
        raise Unavailable("demo_failed", "the demo's signer agents need the agent's libraries "
                          f"({', '.join(missing)} are missing here): install them in a separate environment, "
                          "python3 -m venv .venv-agent && .venv-agent/bin/pip install --require-hashes -r "
                          "requirements/agent.lock && .venv-agent/bin/pip install --no-deps -e ., then run "
                          "huddle demo --agent .venv-agent/bin/huddle")
    return HUDDLE


def huddle(args: list[str], env: dict[str, str], timeout: float = 120, command: list[str] = HUDDLE) -> str:
    """A ``huddle`` command run to its end; its output, or demo_failed quoting it."""
    done = subprocess.run(command + args, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, start_new_session=True)  # on Ctrl-C, run() kills it
    if done.returncode != 0:
        raise Unavailable("demo_failed", f"huddle {' '.join(args[:2])} failed: {(done.stderr or done.stdout).strip()}")
    return done.stdout


class Miner:
    """Mines one sandbox block every ``interval`` seconds, so confirmations come by themselves."""

    def __init__(self, chain: Chain, interval: float) -> None:
        self.chain, self.interval, self.stopping = chain, interval, threading.Event()
        self.thread = threading.Thread(target=self._run, name="huddle-demo-miner", daemon=True)
        if interval > 0:
            self.thread.start()

    def _run(self) -> None:
        while not self.stopping.wait(self.interval):
            self.chain.mine(1)

    def stop(self) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)


def start_sandbox(port: int, interval: float) -> tuple[Sandbox, Miner]:
    chain = Chain()
    try:
        sandbox = serve(chain, port=port)
    except OSError as err:
        raise Unavailable("demo_failed", f"the sandbox cannot listen on 127.0.0.1:{port}: {err.strerror}") from None
    return sandbox, Miner(chain, interval)


def _check_free(port: int) -> None:
    """Before starting: else /healthz could be answered by another server on that port."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as err:
            raise Unavailable("demo_failed", f"port {port} on 127.0.0.1 is taken ({err.strerror}; another huddle "
                              "demo or huddle serve?): choose another with --port") from None


def start_server(data_dir: Path, port: int, chain_url: str, say: Say | None) -> Child:
    _check_free(port)
    env = clean_env(HUDDLE_DATA=str(data_dir), HUDDLE_NETWORK="regtest", HUDDLE_CHAIN=f"esplora:{chain_url}",
                    HUDDLE_WATCH_INTERVAL="1")
    server = Child("server", ["serve", "--dev", "--port", str(port)], env, say)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.proc.poll() is None:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                return server
            except httpx.TransportError:
                time.sleep(0.1)
        raise Unavailable("demo_failed", "huddle serve did not start: " + " | ".join(server.lines[-8:]))
    except BaseException:  # Ctrl-C while waiting too: never leave it running
        server.stop()
        raise
