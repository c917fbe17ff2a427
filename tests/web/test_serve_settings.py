"""`huddle serve` takes the chain settings from huddle.toml too, not only from the
environment: the web edge used to read HUDDLE_CHAIN itself and missed the file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time

from coordinator.web.config import WebConfig

from ..cli.runner import huddle  # noqa: F401  (fixture)
from ..sessions.ceremony_env import start_sandbox
from ..sessions.live import free_port


def test_the_config_chain_settings_win_over_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("HUDDLE_CHAIN", "esplora:http://localhost:1")
    monkeypatch.setenv("HUDDLE_WATCH_INTERVAL", "7")
    given = WebConfig(tmp_path / "h.sqlite3", "s" * 32, "http://localhost:5000", chain="esplora:http://localhost:2",
                      tor_proxy="", watch_interval=0)
    unset = WebConfig(tmp_path / "h.sqlite3", "s" * 32, "http://localhost:5000")

    assert given.chain_settings() == ("esplora:http://localhost:2", None, 0)
    assert unset.chain_settings() == ("esplora:http://localhost:1", None, 7)


def test_huddle_serve_runs_the_chain_watcher_from_huddle_toml(huddle, tmp_path):  # noqa: F811
    sandbox = start_sandbox()
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "huddle.toml").write_text(f'network = "regtest"\nchain = "esplora:{sandbox.url}"\nwatch_interval = "1"\n',
                                      encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
    proc = subprocess.Popen([str(huddle), "serve", "--dev", "--port", str(free_port())],
                            env={**env, "HUDDLE_DATA": str(data)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        holders = []
        for _ in range(300):  # the watcher takes its lease on its first round
            if (data / "huddle.sqlite3").exists():
                with sqlite3.connect(data / "huddle.sqlite3") as conn:
                    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'watcher_leases'").fetchone():
                        holders = conn.execute("SELECT holder FROM watcher_leases").fetchall()
            if holders or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert proc.poll() is None, "huddle serve exited"
        assert holders, "no chain watcher ran: the chain setting in huddle.toml was ignored"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        sandbox.stop()
