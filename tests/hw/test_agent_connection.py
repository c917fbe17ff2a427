"""``huddle agent run``'s connection against the real app on a loopback HTTP server:
it connects out with its paired token and says as whom, reports the devices it sees,
retries with backoff when the server goes away and reconnects when it is back, and
stops for good when its token is revoked."""

from __future__ import annotations

import queue
import threading

import pytest
from werkzeug.serving import make_server

from coordinator.errors import Unauthenticated
from coordinator.hw import connection, pairing
from coordinator.web import WebConfig, create_app

from ..web.conftest import ORIGIN, Browser, setup_token


class Served:
    """The app behind werkzeug on one loopback port, which can stop and start again."""

    def __init__(self, app, port: int = 0) -> None:
        self.app = app
        self.httpd = make_server("127.0.0.1", port, app, threaded=True)
        self.port = self.httpd.server_port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def world(tmp_path):
    config = WebConfig(tmp_path / "server.sqlite3", "s" * 32, ORIGIN, network="regtest")
    app = create_app(config)
    ada = Browser(app.test_client()).register("/setup", token=setup_token(config), name="Ada")
    served = Served(app)
    yield {"app": app, "ada": ada, "served": served, "dir": tmp_path / "agent"}
    served.stop()


class Agent:
    """connection.run in a thread, its status lines in a queue."""

    def __init__(self, link, devices=None) -> None:
        self.lines: queue.Queue = queue.Queue()
        self.stop, self.error = threading.Event(), None
        self.thread = threading.Thread(target=self._run, args=(link, devices), daemon=True)
        self.thread.start()

    def _run(self, link, devices):
        try:
            connection.run(link, self.lines.put, self.stop, devices, backoff=(0.2, 0.4))
        except Exception as err:  # noqa: BLE001  (the test inspects it)
            self.error = err

    def next_line(self, starting: str) -> str:
        while True:
            line = self.lines.get(timeout=20)
            if line.startswith(starting):
                return line

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=15)


def _pair(world) -> pairing.Link:
    code = world["ada"].post("/agent/pairings").get_json()["code"]
    return pairing.pair(world["dir"], f"http://127.0.0.1:{world['served'].port}", code, "test")


def test_the_agent_connects_out_and_says_as_whom_and_which_devices(world):
    agent = Agent(_pair(world), devices=lambda: ["software 0f056943"])
    try:
        assert agent.next_line("Connected") == (
            f"Connected to http://127.0.0.1:{world['served'].port} as Ada; wallets it may sign for: none yet")
        assert agent.next_line("Devices") == "Devices: software 0f056943"
    finally:
        agent.close()
    assert agent.error is None and not agent.thread.is_alive()


def test_the_agent_retries_while_the_server_is_away_and_reconnects(world):
    link = _pair(world)
    port = world["served"].port
    world["served"].stop()
    agent = Agent(link)
    try:
        assert "reconnecting in 0.2s" in agent.next_line("Disconnected")
        assert "reconnecting in 0.4s" in agent.next_line("Disconnected")  # the backoff grows
        world["served"] = Served(world["app"], port)
        assert agent.next_line("Connected").endswith("as Ada; wallets it may sign for: none yet")
    finally:
        agent.close()


def test_a_revoked_token_cuts_the_agent_and_ends_it_with_bad_token(world):
    agent = Agent(_pair(world))
    agent.next_line("Connected")

    revoked = world["ada"].get("/tokens").get_json()["tokens"][0]["id"]
    assert world["ada"].send("DELETE", f"/tokens/{revoked}").status_code == 200

    assert "the server disconnected this agent" in agent.next_line("Disconnected")
    agent.thread.join(timeout=20)
    assert isinstance(agent.error, Unauthenticated) and agent.error.code == "bad_token"


def test_the_agent_answers_the_servers_pings_and_stays_connected(world):
    from coordinator.web.realtime import socketio

    engine = socketio.server.eio
    saved = engine.ping_interval, engine.ping_timeout
    engine.ping_interval, engine.ping_timeout = 0.3, 0.5  # the server drops a socket that misses a pong
    try:
        agent = Agent(_pair(world))
        agent.next_line("Connected")
        with pytest.raises(queue.Empty):  # several ping rounds go by without a disconnection
            agent.lines.get(timeout=3)
        agent.close()
    finally:
        engine.ping_interval, engine.ping_timeout = saved
    assert agent.error is None
