"""``huddle agent pair``, ``unpair`` and ``run`` through the real ``huddle`` script against
the real app on a loopback HTTP server (werkzeug, in a thread): the code becomes
a private token file, works once, and unpairing revokes it on the server."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import threading

import httpx
import pytest
from werkzeug.serving import make_server

from coordinator.web import WebConfig, create_app

from ..cli.runner import Huddle, fails, huddle, ok  # noqa: F401  (huddle is a fixture)
from ..web.conftest import ORIGIN, Browser, setup_token


@pytest.fixture
def server(tmp_path):
    """The app on loopback, and Ada (its admin) signed in to it as a browser."""
    config = WebConfig(tmp_path / "server.sqlite3", "s" * 32, ORIGIN, network="regtest")
    app = create_app(config)
    ada = Browser(app.test_client()).register("/setup", token=setup_token(config), name="Ada")
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", ada
    httpd.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def agent(huddle, tmp_path):  # noqa: F811
    run = Huddle(huddle, tmp_path / "data")
    directory = tmp_path / "agent"

    def call(*args, input="", where=directory):
        return run(*args, input=input, env={"HUDDLE_AGENT_DIR": str(where)})
    call.dir = directory
    return call


def _code(ada: Browser) -> str:
    made = ada.post("/agent/pairings")
    assert made.status_code == 201, made.get_json()
    return made.get_json()["code"]


def _reads(url: str, token: str) -> int:
    return httpx.get(f"{url}/api/v1/wallets", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code


def test_pairing_keeps_a_private_token_that_works_and_says_who(server, agent):
    url, ada = server

    out = ok(agent("agent", "pair", url, "--code", _code(ada), "--label", "test laptop"))

    kept = agent.dir / "server.json"
    assert f"Paired with {url} as Ada" in out and "mode 0600" in out
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and stat.S_IMODE(agent.dir.stat().st_mode) == 0o700
    link = json.loads(kept.read_text())
    assert link["url"] == url and link["user"]["name"] == "Ada"
    assert _reads(url, link["token"]) == 200
    assert [t["label"] for t in ada.get("/tokens").get_json()["tokens"]] == ["agent: test laptop"]
    assert link["token"] not in out


def test_the_code_is_read_from_stdin_when_not_given(server, agent):
    url, ada = server

    out = ok(agent("agent", "pair", url, input=_code(ada) + "\n"))

    assert "as Ada" in out


def test_a_code_works_once_and_a_second_agent_gets_410_and_no_file(server, agent, tmp_path):
    url, ada = server
    code = _code(ada)
    ok(agent("agent", "pair", url, "--code", code))

    fails(agent("agent", "pair", url, "--code", code, where=tmp_path / "other"), 5, "pairing_used")

    assert not (tmp_path / "other" / "server.json").exists()


def test_plain_http_to_another_host_is_refused_before_any_code_is_asked(agent):
    line = fails(agent("agent", "pair", "http://huddle.example"), 3, "insecure_server_url")

    assert "https://" in line and not agent.dir.exists()


def test_a_user_name_before_the_host_is_refused_for_the_host_is_what_follows_the_at(agent):
    line = fails(agent("agent", "pair", "https://huddle.example@evil.example"), 3, "bad_server_url")

    assert "the server is evil.example" in line and not agent.dir.exists()


def test_pairing_again_needs_unpair_first(server, agent):
    url, ada = server
    ok(agent("agent", "pair", url, "--code", _code(ada)))

    fails(agent("agent", "pair", url, "--code", _code(ada)), 5, "already_paired")


def test_unpair_revokes_the_token_on_the_server_and_forgets_it(server, agent):
    url, ada = server
    ok(agent("agent", "pair", url, "--code", _code(ada)))
    token = json.loads((agent.dir / "server.json").read_text())["token"]

    out = ok(agent("agent", "unpair"))

    assert "the server revoked token" in out and not (agent.dir / "server.json").exists()
    assert _reads(url, token) == 401
    fails(agent("agent", "unpair"), 4, "not_paired")


def test_unpair_with_the_server_gone_forgets_locally_and_says_to_revoke(agent):
    agent.dir.mkdir(mode=0o700)
    (agent.dir / "server.json").write_text(json.dumps({
        "version": 1, "url": "http://127.0.0.1:9", "token": "hdl_" + "0" * 16 + "_" + "a" * 43,
        "token_id": "0" * 16, "user": {"id": 1, "name": "Ada"}, "paired_at": "2026-01-01T00:00:00+00:00"}))

    result = agent("agent", "unpair")

    assert result.returncode == 0 and "server_unreachable" in result.stderr and "revoke it" in result.stderr
    assert not (agent.dir / "server.json").exists()


def test_a_missing_code_on_stdin_is_a_usage_error(server, agent):
    fails(agent("agent", "pair", server[0]), 3, "usage")


def test_run_connects_out_says_as_whom_and_lists_the_devices_then_stops_on_ctrl_c(server, agent, huddle, tmp_path):  # noqa: F811
    url, ada = server
    ok(agent("agent", "pair", url, "--code", _code(ada)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
    env.update(HUDDLE_AGENT_DIR=str(agent.dir), HUDDLE_AGENT_TEST_DEVICES="tests.hw.software_device:from_env",
               HUDDLE_AGENT_TEST_SEEDS="0", HUDDLE_DATA=str(tmp_path / "data"))
    process = subprocess.Popen([str(huddle), "agent", "run"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        lines = [process.stdout.readline() for _ in range(3)]
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)

    assert lines[0] == f"Connecting to {url} as Ada\n"
    assert lines[1].endswith(f"Connected to {url} as Ada; wallets it may sign for: none yet\n")
    assert re.search(r"Devices: [0-9a-f]{8}  .+  ready\n$", lines[2]), (lines[2], err)
    assert out.endswith("Stopped.\n") and process.returncode == 0 and "Traceback" not in err


def test_run_without_pairing_says_how_to_pair(agent):
    line = fails(agent("agent", "run"), 4, "not_paired")

    assert "huddle agent pair URL" in line
