"""`huddle serve` as the real script: the first run prints a one-time setup
link that works; a later run prints none; an origin passkeys cannot use is refused;
gunicorn by default and Werkzeug with --dev, both logging JSON lines.
(Behind nginx, SIGTERM and secrets in logs: tests/deploy/test_production.py.)"""

from __future__ import annotations

import json
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
    out, _ = proc.communicate(timeout=40)
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


def _logged(err_file, request_id: str) -> list[dict]:
    """The log's lines once the request's own is there (it is written just after the answer)."""
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(line) for line in err_file.read_text().splitlines()]
        if any(line.get("request_id") == request_id for line in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


@pytest.mark.parametrize("options, server", [((), "gunicorn"), (("--dev",), "werkzeug")])
def test_both_servers_answer_log_one_json_line_per_request_believe_no_forwarded_header_and_stop_on_sigterm(huddle, tmp_path, options, server):
    port, err_file = _free_port(), tmp_path / "stderr"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
    env.update(HUDDLE_DATA=str(tmp_path / "data"), HUDDLE_NETWORK="testnet")
    with err_file.open("w") as err:
        proc = subprocess.Popen([str(huddle), "serve", "--port", str(port), *options], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        _first_answer(proc, f"http://127.0.0.1:{port}/healthz")
        answer = httpx.get(f"http://127.0.0.1:{port}/healthz?probe=1", timeout=5,
                           headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
        lines = _logged(err_file, answer.headers["X-Request-ID"])
    finally:
        proc.terminate()
        code = proc.wait(timeout=40)

    assert answer.status_code == 200 and code == 0
    assert lines[0]["event"] == "serving" and lines[0]["server"] == server
    logged = [line for line in lines if line.get("request_id") == answer.headers["X-Request-ID"]]
    assert [(line["method"], line["path"], line["status"]) for line in logged] == [("GET", "/healthz", 200)]
    # With trusted_proxies 0 (the default) no forwarded header is believed, by gunicorn either.
    assert (logged[0]["scheme"], logged[0]["remote"]) == ("http", "127.0.0.1")
    assert all(isinstance(line["time"], str) and line["level"] in ("info", "warning", "error") for line in lines)


def _first_answer(proc: subprocess.Popen, url: str) -> httpx.Response:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            return httpx.get(url, timeout=1)
        except httpx.TransportError:
            if proc.poll() is not None:
                pytest.fail(f"huddle serve exited with {proc.returncode}")
            time.sleep(0.1)
    pytest.fail("huddle serve did not start")


def test_a_second_server_on_a_taken_port_says_so_and_leaves_the_first_ones_setup_link_working(huddle, tmp_path):
    run, port = Huddle(huddle, tmp_path / "data"), _free_port()
    first = _serve_until_ready(run, port)
    try:
        line = fails(run("serve", "--port", str(port)), 3, "cannot_listen")
        status = httpx.get(f"http://127.0.0.1:{port}/api/v1/setup", timeout=5).json()
    finally:
        out = _stop(first)
    token = next(line.strip() for line in out.splitlines() if "/setup#" in line).split("#", 1)[1]

    assert f"127.0.0.1:{port}" in line and status == {"needs_setup": True}
    from coordinator.accounts import setup
    from coordinator.store import open_database

    db = open_database(run.database)
    setup.complete(db, token, "Ada")  # the first server's link still works
    db.close()


def test_a_setting_only_the_app_reads_stops_the_server_with_one_line_and_status_3(huddle, tmp_path):
    run = Huddle(huddle, tmp_path / "data")

    result = run("serve", "--port", str(_free_port()), env={"HUDDLE_PWA_DIR": str(tmp_path / "no-such-folder")})

    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    errors = [json.loads(line) for line in result.stderr.splitlines() if '"cannot start' in line]
    assert len(errors) == 1 and errors[0]["level"] == "error" and errors[0]["event"].endswith("[bad_config]")
