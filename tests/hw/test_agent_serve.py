"""``huddle agent run`` against a real ``huddle serve`` process: it connects, says it lost
the server when that process stops, reconnects by itself when it is back on the same
port, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import subprocess
import threading
import time

import httpx

from ..cli.runner import huddle, ok  # noqa: F401  (huddle is a fixture)
from ..sessions.live import Server, free_port
from .test_agent_ceremony import AgentCli


def _serve(exe, data_dir, port: int) -> Server:
    """`huddle serve` on ``port`` (regtest), once it answers; its setup token if it printed one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
    env.update({"HUDDLE_DATA": str(data_dir), "HUDDLE_NETWORK": "regtest", "PYTHONUNBUFFERED": "1"})
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()
    server = Server(proc, f"http://127.0.0.1:{port}", f"http://localhost:{port}", "", lines)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            httpx.get(f"{server.base}/api/v1/setup", timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        link = next((line for line in list(lines) if "/setup#" in line), None)
        server.setup_token = link.strip().split("#", 1)[1] if link else ""
        return server
    server.stop()
    raise RuntimeError(f"huddle serve did not start: {''.join(lines)}")


def test_the_agent_rides_out_a_server_restart_and_stops_on_ctrl_c(huddle, tmp_path):  # noqa: F811
    port = free_port()
    server = _serve(huddle, tmp_path / "data", port)
    agent = AgentCli(tmp_path, 0, server.base)
    try:
        ada = server.browser().register("/setup", token=server.setup_token, name="Ada")
        code = ada.post("/agent/pairings").get_json()["code"]
        ok(agent("pair", server.base, "--code", code))
        running = agent.run()
        assert running.wait_for("Connected to").endswith(f"Connected to {server.base} as Ada; "
                                                          "wallets it may sign for: none yet")
        server.stop()
        lost = running.wait_for("Disconnected from")
        assert lost.endswith("reconnecting in 1s"), lost
        server = _serve(huddle, tmp_path / "data", port)
        assert "as Ada" in running.wait_for("Connected to")
        code, line = running.interrupt()
        assert code == 0 and line == "Stopped."
    finally:
        server.stop()
