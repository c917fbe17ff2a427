"""A member's signer agent connected to one `huddle serve` process, the member asking
through another (one SQLite file, one Redis; docs/scaling.md, "Several processes on
one host"): the agent counts and is reached on every process, revoking its token on
one process cuts it on the other, and the agents of a process killed with kill -9
stop counting once the process stops renewing (HUDDLE_AGENT_TTL)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading

import httpx
import pytest
import socketio

from coordinator.accounts import api_tokens
from coordinator.errors import InvalidInput
from coordinator.sessions import agent_presence
from coordinator.store import open_database

from .. import keys
from ..web.conftest import admin, app, config, proposal, wallet_id  # noqa: F401  (fixtures)
from .servers import HUDDLE, ORIGIN, Member, free_port, serve, start_redis, stop

TTL = "3"  # seconds: a process renews every second; one killed stops counting 3 s later
WALLET = keys.descriptor(2, 3)


class Agent:
    """An agent's socket in `/agent` with its token: answers ``show_address`` with the
    address its (key 1) device would show, and keeps the sign requests it gets."""

    def __init__(self, url: str, token: str, answers: bool = True) -> None:
        self.answers_asked = answers
        self.asked: list[dict] = []
        self.answers: list[dict] = []
        self.changed = threading.Condition()
        self.gone = threading.Event()
        self.sio = socketio.Client(reconnection=False, websocket_extra_options={"suppress_origin": True})
        self.sio.on("show_address", self._show, namespace="/agent")
        self.sio.on("sign_request", self._keep, namespace="/agent")
        self.sio.on("disconnect", lambda *_: self.gone.set(), namespace="/agent")
        self.sio.connect(url, namespaces=["/agent"], auth={"token": token}, headers={"Origin": ORIGIN},
                         transports=["websocket"], wait_timeout=10)

    def _keep(self, payload: dict) -> None:
        with self.changed:
            self.asked.append(payload)
            self.changed.notify_all()

    def _show(self, payload: dict) -> None:
        branch = 0 if payload["branch"] == "receive" else 1
        shown = {**payload, "address": WALLET.address(branch, payload["index"], "regtest"),
                 "fingerprint": keys.fingerprint(1), "device": "trezor"}
        self._keep(payload)
        if not self.answers_asked:
            return
        # answered from another thread: an acknowledgement cannot arrive on the thread waiting for it
        threading.Thread(target=self._answer, args=(shown,), daemon=True).start()

    def _answer(self, shown: dict) -> None:
        ack = self.sio.call("address_shown", shown, namespace="/agent", timeout=10)
        with self.changed:
            self.answers.append(ack)
            self.changed.notify_all()

    def wait_until(self, done, timeout: float = 20) -> None:
        with self.changed:
            self.changed.wait_for(done, timeout=timeout)

    def close(self) -> None:
        self.sio.disconnect()


@pytest.fixture
def redis_url(tmp_path):
    proc, url = start_redis(tmp_path)
    yield url
    stop(proc)


@pytest.fixture
def two_servers(request, config, proposal, redis_url, tmp_path):  # noqa: F811
    """Processes A and B on the proposal's database and one Redis; HUDDLE_AGENT_TTL is
    TTL unless the test parametrizes the fixture with another."""
    ttl = getattr(request, "param", TTL)
    started = [serve(config.database, tmp_path / name, redis_url, HUDDLE_AGENT_TTL=ttl) for name in ("a", "b")]
    yield started
    for proc, _ in started:
        stop(proc)


def _token(browser) -> tuple[str, str]:
    made = browser.post("/tokens", {"scopes": ["agent"]})
    assert made.status_code == 201, made.get_json()
    return made.get_json()["token"]["id"], made.get_json()["secret"]


def _ask_address(url: str, token: str, wallet_id: int, index: int = 0) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/wallets/{wallet_id}/address-checks", json={"branch": "receive", "index": index},
                      headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _kill_9(server) -> None:
    """kill -9 the worker that holds the sockets, then its gunicorn master (so none respawns)."""
    with open(f"/proc/{server.pid}/task/{server.pid}/children", encoding="ascii") as children:
        workers = [int(pid) for pid in children.read().split()]
    assert workers, "huddle serve has no worker process"
    for pid in [*workers, server.pid]:
        os.kill(pid, signal.SIGKILL)
    server.wait()


def _presence_seen(member: Member) -> list[dict]:
    seen: list[dict] = []

    def got(data: dict) -> None:
        with member.changed:
            seen.append(data)
            member.changed.notify_all()

    member.sio.on("agent_presence", got, namespace="/wallets")
    return seen


def test_an_address_check_asked_on_one_process_reaches_the_agent_on_the_other_and_is_verified(
        two_servers, proposal, wallet_id):  # noqa: F811
    bob, _ = proposal
    (_, a), (_, b) = two_servers
    _, secret = _token(bob)
    watcher = Member(a, secret)
    watcher.join(wallet_id)
    agent = Agent(b, secret)

    asked = _ask_address(a, secret, wallet_id, 4)

    assert asked.status_code == 201, asked.text
    assert asked.json()["agents"] == 1
    agent.wait_until(lambda: agent.answers)
    assert agent.answers == [{"ok": True, "outcome": "verified", "reason": None}]
    events = watcher.wait_until(lambda got: any(e["type"] == "address_verified" for e in got))
    [verified] = [e["data"] for e in events if e["type"] == "address_verified"]
    assert (verified["request"], verified["address"], verified["index"]) == (
        asked.json()["request_id"], WALLET.address(0, 4, "regtest"), 4)
    agent.close(), watcher.close()


def test_a_sign_request_made_on_one_process_counts_and_reaches_the_agent_on_the_other(
        two_servers, proposal):  # noqa: F811
    bob, path = proposal
    (_, a), (_, b) = two_servers
    _, secret = _token(bob)
    agent = Agent(b, secret)

    asked = httpx.post(f"{a}/api/v1{path}/sign-requests", json={"user": bob.user["id"]},
                       headers={"Authorization": f"Bearer {secret}"}, timeout=10)

    assert asked.status_code == 201, asked.text
    assert asked.json()["agents"] == 1
    agent.wait_until(lambda: agent.asked)
    assert [r["request_id"] for r in agent.asked] == [asked.json()["request_id"]]
    assert agent.asked[0]["proposal_id"] == int(path.rsplit("/", 1)[1])
    agent.close()


@pytest.mark.parametrize("two_servers", ["3600"], indirect=True)  # no renewal in the test: Redis cuts it
def test_revoking_an_agent_token_on_one_process_cuts_that_agent_on_the_other_and_no_other(
        two_servers, proposal, wallet_id):  # noqa: F811
    bob, _ = proposal
    (_, a), (_, b) = two_servers
    (_, revoked), (_, kept) = _token(bob), _token(bob)
    doomed, other = Agent(b, revoked, answers=False), Agent(b, kept, answers=False)
    assert _ask_address(a, kept, wallet_id).json()["agents"] == 2

    answer = httpx.delete(f"{a}/api/v1/agent/token", headers={"Authorization": f"Bearer {revoked}"}, timeout=10)

    assert answer.status_code == 200, answer.text
    doomed.gone.wait(timeout=20)
    assert not doomed.sio.connected
    assert other.sio.connected
    assert _ask_address(a, kept, wallet_id).json()["agents"] == 1
    other.close()


def test_a_token_revoked_by_a_writer_that_told_no_process_is_cut_at_the_next_renewal(
        two_servers, config, proposal):  # noqa: F811
    """The CLI, or a revocation whose Redis message was lost: the process holding the
    agent finds the revoked token when it renews its presence."""
    bob, _ = proposal
    (_, b) = two_servers[1]
    token_id, secret = _token(bob)
    agent = Agent(b, secret)

    db = open_database(config.database)
    api_tokens.revoke(db, bob.user["id"], token_id)
    db.close()

    agent.gone.wait(timeout=20)
    assert not agent.sio.connected


def test_the_agents_of_a_process_killed_with_kill_9_stop_counting_and_are_announced_offline(
        two_servers, config, proposal, admin, wallet_id):  # noqa: F811
    bob, _ = proposal
    (_, a), (dying, b) = two_servers
    _, secret = _token(bob)
    watcher = Member(a, secret)
    watcher.join(wallet_id)
    presence = _presence_seen(watcher)
    adas = Agent(a, _token(admin)[1])  # A holds an agent too, so A renews, and cleans up after B
    Agent(b, secret, answers=False)
    assert _ask_address(a, secret, wallet_id).json()["agents"] == 1

    _kill_9(dying)

    watcher.wait_until(lambda _: any(p["user"]["id"] == bob.user["id"] and not p["online"] for p in presence))
    assert [p["online"] for p in presence if p["user"]["id"] == bob.user["id"]][-1] is False
    refused = _ask_address(a, secret, wallet_id)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "agent_offline"
    db = open_database(config.database)
    rows = db.execute("SELECT user_id FROM agent_connections").fetchall()
    db.close()
    assert [r[0] for r in rows] == [admin.user["id"]]  # only Ada's agent, on A, remains
    adas.close(), watcher.close()


@pytest.mark.parametrize("ttl", ["1", "2", "3601", "thirty", "-5", "3.5"])
def test_an_agent_ttl_outside_3_to_3600_whole_seconds_is_bad_config(ttl):
    with pytest.raises(InvalidInput) as refused:
        agent_presence.ttl_setting(ttl)
    assert refused.value.code == "bad_config" and "HUDDLE_AGENT_TTL" in str(refused.value)


def test_huddle_serve_with_a_bad_agent_ttl_stops_at_start_with_bad_config(config, tmp_path):  # noqa: F811
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
    env.update(HUDDLE_DATA=str(tmp_path / "a"), HUDDLE_DATABASE=str(config.database), HUDDLE_SECRET_KEY="s" * 32,
               HUDDLE_NETWORK="regtest", HUDDLE_MESSAGE_QUEUE="redis://127.0.0.1:1/0", HUDDLE_AGENT_TTL="1")
    done = subprocess.run([str(HUDDLE), "serve", "--port", str(free_port()), "--origin", ORIGIN], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "HUDDLE_AGENT_TTL" in done.stderr and "[bad_config]" in done.stderr
