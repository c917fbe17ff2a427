"""`huddle serve` as the real script: the first run prints a one-time setup
link that works; a later run prints none; an origin passkeys cannot use is refused."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import httpx
import pytest

from ..cli.runner import Huddle, fails, huddle  # noqa: F401  (fixture)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_until_ready(run: Huddle, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
    env.update(HUDDLE_DATA=str(run.data_dir), HUDDLE_NETWORK="testnet")
    proc = subprocess.Popen([str(run.exe), "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/setup", timeout=1)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None:
                pytest.fail(f"huddle serve exited: {proc.stderr.read()}")
            time.sleep(0.1)
    proc.kill()
    pytest.fail("huddle serve did not start")


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    out, _ = proc.communicate(timeout=10)
    return out


def test_the_first_run_prints_a_setup_link_that_works_and_the_next_run_none(huddle, tmp_path):
    run, port = Huddle(huddle, tmp_path / "data"), _free_port()
    proc = _serve_until_ready(run, port)
    try:
        status = httpx.get(f"http://127.0.0.1:{port}/api/v1/setup", timeout=5).json()
    finally:
        out = _stop(proc)
    link = next(line.strip() for line in out.splitlines() if "/setup#" in line)
    assert status == {"needs_setup": True}
    assert link.startswith(f"http://localhost:{port}/setup#")

    from coordinator.accounts import setup
    from coordinator.store import open_database

    db = open_database(run.database)
    setup.complete(db, link.split("#", 1)[1], "Ada")  # the printed token is the live one
    db.close()
    proc = _serve_until_ready(run, port)
    assert "/setup#" not in _stop(proc)


@pytest.mark.parametrize("origin", ["http://192.168.1.10:5000", "http://huddle.lan"])
def test_serve_refuses_an_origin_passkeys_cannot_use(huddle, tmp_path, origin):
    run = Huddle(huddle, tmp_path / "data")

    fails(run("serve", "--origin", origin), 3, "bad_config")
