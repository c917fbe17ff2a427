"""`huddle serve` in production: gunicorn (one worker, threads) behind nginx
from Debian, configured by docs/deploy/nginx.conf itself, over TLS. The
Socket.IO WebSocket upgrade goes through the proxy, /healthz and the security
headers answer through it, only nginx's forwarded headers are believed, and
SIGTERM loses no acknowledged write."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time

import httpx
import pytest

from .stack import Member, Stack, socket_client


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("production")).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def admin(stack):
    return Member(stack).register("/setup", token=stack.setup_token(), name="Ada")


def test_healthz_answers_through_nginx_over_tls(stack):
    response = stack.get("/healthz")

    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response.http_version == "HTTP/1.1"


def test_plain_http_is_sent_to_https(stack):
    response = httpx.get(f"http://127.0.0.1:{stack.http_port}/healthz", headers={"Host": "localhost"}, timeout=10)

    assert response.status_code == 301
    assert response.headers["Location"] == "https://localhost/healthz"


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/setup"])
def test_security_headers_come_through_the_proxy(stack, path):
    headers = stack.get(path).headers

    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers.get_list("Strict-Transport-Security") == ["max-age=31536000"]  # once, not also from nginx


def test_only_the_address_and_scheme_nginx_forwards_are_believed(stack):
    spoofed = stack.get("/healthz", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "http"})
    direct = httpx.get(f"http://127.0.0.1:{stack.app_port}/healthz", timeout=10)

    through_nginx = stack.request_logged(spoofed.headers["X-Request-ID"])
    assert (through_nginx["remote"], through_nginx["scheme"]) == ("127.0.0.1", "https")
    plain = stack.request_logged(direct.headers["X-Request-ID"])
    assert (plain["remote"], plain["scheme"]) == ("127.0.0.1", "http")


def test_a_socketio_websocket_upgrade_works_through_nginx(stack, admin):
    client = socket_client(stack, admin.token(["agent"]))
    try:
        answer = client.call("join", {"wallet_id": 999}, namespace="/wallets", timeout=10)
        transport = client.transport()
    finally:
        client.disconnect()

    assert transport == "websocket"
    assert answer["error"]["code"] == "wallet_not_found"
    upgrades = _logged_upgrades(stack)
    assert upgrades and re.search(r'" 101 ', upgrades[-1]), upgrades


def _logged_upgrades(stack, wait: float = 15.0) -> list[str]:
    """nginx's access-log lines for WebSocket upgrades. nginx writes a WebSocket's line when
    the connection has closed on both sides, which may be a moment after our disconnect."""
    deadline = time.monotonic() + wait
    while True:
        upgrades = [line for line in (stack.folder / "nginx" / "access.log").read_text().splitlines()
                    if "transport=websocket" in line]
        if upgrades or time.monotonic() > deadline:
            return upgrades
        time.sleep(0.1)


def test_a_browser_style_socket_starts_with_long_polling_and_upgrades_through_nginx(stack, admin):
    client = socket_client(stack, admin.token(["agent"]), transports=("polling", "websocket"))
    try:
        deadline = time.monotonic() + 20
        while client.transport() != "websocket" and time.monotonic() < deadline:
            time.sleep(0.05)
        transport = client.transport()
        answer = client.call("join", {"wallet_id": 999}, namespace="/wallets", timeout=10)
    finally:
        client.disconnect()

    assert transport == "websocket"
    assert answer["error"]["code"] == "wallet_not_found"


def test_a_socket_from_another_origin_is_refused_through_nginx(stack, admin):
    import socketio

    client = socketio.Client(reconnection=False, websocket_extra_options={"suppress_origin": True},
                             ssl_verify=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(stack.origin, namespaces=["/wallets"], auth={"token": admin.token(["agent"])},
                       headers={"Origin": "https://evil.example"}, transports=["websocket"], wait_timeout=10)


class Writers:
    """Threads that each make server invites through nginx until the server
    stops answering; every invite acknowledged with a 201 is kept."""

    def __init__(self, admin: Member, count: int) -> None:
        self.admin, self.acknowledged, self.failures = admin, [], []
        self.lock, self.enough = threading.Lock(), threading.Event()
        self.threads = [threading.Thread(target=self._write, daemon=True) for _ in range(count)]

    def _write(self) -> None:
        client = httpx.Client(base_url=self.admin.http.base_url, verify=self.admin.stack.tls, timeout=60,
                              cookies=self.admin.http.cookies, headers={"Origin": self.admin.stack.origin,
                                                                        "X-Huddle-CSRF": self.admin.csrf})
        while True:
            try:
                response = client.post("/invites", json={})
            except httpx.TransportError as err:
                return self._failed(repr(err))
            if response.status_code != 201:
                return self._failed(response.status_code)
            with self.lock:
                self.acknowledged.append(response.json()["invite"]["id"])
                if len(self.acknowledged) >= 40:
                    self.enough.set()

    def _failed(self, why: object) -> None:
        with self.lock:
            self.failures.append(why)


def test_sigterm_finishes_the_writes_in_flight_closes_sockets_and_exits_0(tmp_path):
    stack = Stack(tmp_path, graceful_timeout=20).start()
    try:
        admin = Member(stack).register("/setup", token=stack.setup_token(), name="Ada")
        socket = socket_client(stack, admin.token(["agent"]))
        closed, reasons = threading.Event(), []
        socket.on("disconnect", lambda reason=None: (reasons.append(reason), closed.set()), namespace="/wallets")
        writers = Writers(admin, 8)
        for thread in writers.threads:
            thread.start()
        assert writers.enough.wait(60), writers.failures

        stack.huddle.terminate()  # SIGTERM, as systemd and Heroku-style platforms send
        code = stack.huddle.wait(timeout=stack.graceful_timeout + 10)
        for thread in writers.threads:
            thread.join(timeout=30)
        socket_closed = closed.wait(10)
    finally:
        stack.stop()

    assert code == 0
    assert socket_closed and reasons == [socket.reason.SERVER_DISCONNECT]  # told, not just cut off
    db = sqlite3.connect(stack.database)
    stored = {row[0] for row in db.execute("SELECT id FROM invites")}
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    db.close()
    assert set(writers.acknowledged) <= stored
    assert integrity == "ok"
    assert len(writers.failures) == len(writers.threads)  # each writer ran until the server was gone


def _leases(database) -> list[str]:
    db = sqlite3.connect(database)
    try:
        return [row[0] for row in db.execute("SELECT holder FROM watcher_leases")]
    finally:
        db.close()


def test_the_chain_watcher_runs_in_the_worker_and_gives_its_lease_up_on_sigterm(tmp_path):
    from coordinator.chain.sandbox.chain import Chain
    from coordinator.chain.sandbox.server import serve

    sandbox = serve(Chain())
    stack = Stack(tmp_path, env={"HUDDLE_CHAIN": f"esplora:{sandbox.url}", "HUDDLE_WATCH_INTERVAL": "1"})
    try:
        stack.start()
        deadline = time.monotonic() + 30
        while not _leases(stack.database) and time.monotonic() < deadline:
            time.sleep(0.1)
        holders, worker = _leases(stack.database), stack.worker_pid()
        stack.huddle.terminate()
        code = stack.huddle.wait(timeout=stack.graceful_timeout + 10)
    finally:
        stack.stop()
        sandbox.stop()

    assert len(holders) == 1 and holders[0].split(":")[1] == str(worker) != str(stack.huddle.pid)
    assert code == 0
    assert _leases(stack.database) == []  # the next server need not wait for it to lapse


def _secrets_in_a_day_of_use(stack: Stack, admin: Member) -> list[str]:
    """Sign in again, import a wallet, invite a member who joins, make and use an
    API token, pair an agent, sign in with a recovery code, and send a wrong
    token: every secret value that went over the wire in the process."""
    from .. import keys

    admin.login()
    text = keys.descriptor(2, 3).to_string()
    wallet = admin.post("/wallets/import", {"text": text, "name": "Co-op vault"})
    assert wallet.status_code == 201, wallet.text
    invite = admin.post(f"/wallets/{wallet.json()['wallet']['id']}/invites", {"role": "keyholder"}).json()["token"]
    bob = Member(stack).register("/invites", token=invite, name="Bob")
    api_token = admin.token(["read"])
    assert admin.http.get("/wallets", headers={"Authorization": f"Bearer {api_token}"}).status_code == 200
    wrong = api_token[:-6] + "AAAAAA"
    assert admin.http.get("/wallets", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
    code = admin.post("/agent/pairings").json()["code"]
    agent = admin.post("/agent/pairings/redeem", {"code": code, "label": "laptop"})
    assert agent.status_code == 201, agent.text
    again = Member(stack)
    again.signed_in(again.post("/session/recovery", {"code": admin.recovery_codes[0]}))
    found = [stack.setup_token(), invite, api_token, wrong, code, agent.json()["secret"], text,
             *admin.recovery_codes, *bob.recovery_codes, admin.csrf, bob.csrf, again.csrf,
             *re.findall(r"[tv]pub\w{100,}", text)]
    for member in (admin, bob, again):
        found += list(member.http.cookies.values())
    for member in (admin, bob):
        found += [member.credential["id"], *member.credential["response"].values()]
    found += [admin.assertion["id"], *admin.assertion["response"].values()]
    return [value for value in found if isinstance(value, str) and len(value) >= 8]


def test_the_logs_are_json_lines_and_hold_no_secret_used_in_a_real_run(stack, admin):
    secrets = _secrets_in_a_day_of_use(stack, admin)
    assert len(secrets) > 25
    stack.request_logged(stack.get("/healthz").headers["X-Request-ID"])  # the log has caught up

    log = stack.err.read_text()
    lines = [json.loads(line) for line in log.splitlines()]
    assert all({"time", "level", "event"} <= set(line) for line in lines)
    assert {"/api/v1/session/recovery", "/api/v1/agent/pairings/redeem", "/api/v1/invites/accept"} <= {
        line.get("path") for line in lines}
    assert {line["user_id"] for line in lines if line.get("path") == "/api/v1/tokens"} == {admin.body["user"]["id"]}
    assert [s for s in secrets if s in log] == []
    assert stack.out.read_text().count(stack.setup_token()) == 1  # the console's setup link, and nowhere else
