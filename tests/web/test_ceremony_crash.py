"""Crash safety at the named fault points (DESIGN.md, "Tests that cannot be passed by a
toy"): `huddle serve` kills itself with SIGKILL at ``HUDDLE_FAULT``, several times at
each point (and, with --run-slow, a killer thread kills it at random moments during 100
ceremonies); after a restart no acknowledged signature is lost, nothing is broadcast
twice, the database passes ``PRAGMA integrity_check``, and the ceremony completes."""

from __future__ import annotations

import os
import random
import signal
import threading

import httpx
import pytest

from coordinator.store import open_database

from ..cli.runner import huddle  # noqa: F401  (fixture)
from ..sessions.ceremony_env import fund, signed_by, start_sandbox
from ..sessions.live import make_group, serve, wait_for
from .conftest import faucet_address


@pytest.fixture
def sandbox():
    chain = start_sandbox()
    yield chain
    chain.stop()


def _killed(server) -> None:
    assert server.proc.wait(timeout=20) == -signal.SIGKILL, "".join(server.output)


def _sane(data_dir) -> None:
    db = open_database(data_dir / "huddle.sqlite3")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


def _ceremony(browser, path: str) -> dict:
    return browser.get(f"{path}/ceremony").get_json()["ceremony"]


def _propose(bob, wallet_id: int) -> tuple[str, str]:
    made = bob.post(f"/wallets/{wallet_id}/proposals", {
        "payments": [{"address": faucet_address(), "amount": 20_000}], "memo": "paint", "fee_rate": 2_000}).get_json()
    return f"/wallets/{wallet_id}/proposals/{made['proposal']['id']}", made["psbt"]


def _restart(huddle, data_dir, sandbox, group):  # noqa: F811
    """The server again, without the fault; the members' sessions carry over."""
    server = serve(huddle, data_dir, sandbox.url)
    for browser in group:
        browser.client.http.base_url = server.base
        browser.client.http.headers["Origin"] = server.origin
    return server


def _confirmed(browser, path: str, sandbox) -> dict:
    sandbox.chain.mine(1)
    return wait_for(lambda: (c := _ceremony(browser, path))["state"] == "confirmed" and c, what="the confirmation")


@pytest.mark.parametrize("attempt", range(3))
def test_a_kill_after_a_signature_insert_loses_nothing_acknowledged(huddle, tmp_path, sandbox, attempt):  # noqa: F811
    data = tmp_path / "data"
    server = serve(huddle, data, sandbox.url, {"HUDDLE_FAULT": "after_sig_insert", "HUDDLE_WATCH_INTERVAL": "0"},
                   dev=True)
    ada, bob, carol, wallet_id = make_group(server, sandbox, data)
    path, psbt = _propose(bob, wallet_id)

    with pytest.raises(httpx.TransportError):  # killed before it could answer
        bob.post(f"{path}/signatures", {"psbt": signed_by(psbt, 1)})
    _killed(server)
    _sane(data)
    server = _restart(huddle, data, sandbox, (ada, bob, carol))
    try:
        again = bob.post(f"{path}/signatures", {"psbt": signed_by(psbt, 1)})  # the client retries
        assert (again.status_code, again.get_json()["added"]) == (200, 0)  # it was committed before the kill
        assert carol.post(f"{path}/signatures", {"psbt": signed_by(psbt, 2)}).get_json()["ceremony"]["state"] == "ready"
        assert ada.post(f"{path}/broadcast").status_code == 200
        assert _confirmed(ada, path, sandbox)["height"] == sandbox.chain.height
    finally:
        server.stop()
    _sane(data)


@pytest.mark.parametrize("point", ["mid_finalize", "after_broadcast"])
@pytest.mark.parametrize("attempt", range(3))
def test_a_kill_during_broadcast_is_finished_after_restart_and_sends_once(huddle, tmp_path, sandbox, point,  # noqa: F811
                                                                          attempt):
    data = tmp_path / "data"
    server = serve(huddle, data, sandbox.url, {"HUDDLE_FAULT": point, "HUDDLE_WATCH_INTERVAL": "0"}, dev=True)
    ada, bob, carol, wallet_id = make_group(server, sandbox, data)
    path, psbt = _propose(bob, wallet_id)
    assert bob.post(f"{path}/signatures", {"psbt": signed_by(psbt, 1, 2)}).get_json()["ceremony"]["state"] == "ready"
    sandbox.reset_counts()

    with pytest.raises(httpx.TransportError):
        ada.post(f"{path}/broadcast")
    _killed(server)
    _sane(data)
    sent_before = sandbox.counts["POST /tx"]
    assert sent_before == (1 if point == "after_broadcast" else 0)
    server = _restart(huddle, data, sandbox, (ada, bob, carol))
    try:
        wait_for(lambda: _ceremony(ada, path)["state"] == "broadcast", what="the watcher finishing the broadcast")
        done = _confirmed(ada, path, sandbox)
    finally:
        server.stop()
    assert sandbox.counts["POST /tx"] == 1  # sent once, whatever the point of the kill
    _sane(data)


ROUNDS = int(os.environ.get("HUDDLE_TEST_CRASH_ROUNDS", "100"))  # a shorter run while developing


class Flaky:
    """Drives ceremonies against a server that a killer thread SIGKILLs at random moments:
    every request that dies with the server is retried after a restart (the retries must be
    safe: that is what is tested)."""

    def __init__(self, huddle, data, sandbox, group, seed: int) -> None:  # noqa: F811
        self.huddle, self.data, self.sandbox, self.group = huddle, data, sandbox, group
        self.rng, self.kills, self.done = random.Random(seed), 0, threading.Event()
        self.server = _restart(huddle, data, sandbox, group)
        self.lock = threading.Lock()
        threading.Thread(target=self._killer, daemon=True).start()

    def _killer(self) -> None:
        while not self.done.wait(self.rng.uniform(3.0, 25.0)):  # the lease of a killed watcher lasts 10 s
            with self.lock:
                if self.server.proc.poll() is None:
                    os.kill(self.server.proc.pid, signal.SIGKILL)
                    self.kills += 1

    def call(self, request, retry: bool = True):
        """``request``'s answer; after a kill, the server again and the same request (or
        None, when the request is not one to repeat blindly)."""
        while True:
            try:
                return request()
            except httpx.TransportError:
                with self.lock:
                    self.server.proc.wait(timeout=20)
                    _sane(self.data)
                    self.server = _restart(self.huddle, self.data, self.sandbox, self.group)
                if not retry:
                    return None

    def stop(self) -> None:
        self.done.set()
        with self.lock:
            self.server.stop()


def _round(flaky: Flaky, wallet_id: int, n: int, acked: list) -> str:
    bob, memo = flaky.group[1], f"round {n}"

    def attempt():
        listed = flaky.call(lambda: bob.get(f"/wallets/{wallet_id}/proposals")).get_json()["proposals"]
        found = [p["id"] for p in listed if p["memo"] == memo]  # made before a kill, never acknowledged
        if found:
            return found[0]
        made = flaky.call(lambda: bob.post(f"/wallets/{wallet_id}/proposals", {
            "payments": [{"address": faucet_address(), "amount": 10_000}], "memo": memo, "fee_rate": 2_000}),
            retry=False)
        return made.get_json()["proposal"]["id"] if made is not None and made.status_code == 201 else None

    return _finish(flaky, wait_for(attempt, timeout=60, what="a proposal"), wallet_id, acked)


def _finish(flaky: Flaky, proposal_id: int, wallet_id: int, acked: list) -> str:
    ada, bob, carol = flaky.group
    path = f"/wallets/{wallet_id}/proposals/{proposal_id}"
    psbt = flaky.call(lambda: bob.get(path)).get_json()["psbt"]
    for who, seed in ((bob, 1), (carol, 2)):
        answer = flaky.call(lambda: who.post(f"{path}/signatures", {"psbt": signed_by(psbt, seed)}))
        if answer.status_code in (200, 201):
            acked.append((proposal_id, seed))
    flaky.call(lambda: ada.post(f"{path}/broadcast"))
    state = wait_for(lambda: flaky.call(lambda: _ceremony(ada, path))["state"] in ("broadcast", "confirmed"),
                     what="the broadcast")
    assert state
    flaky.sandbox.chain.mine(1)
    shown = wait_for(lambda: (c := flaky.call(lambda: _ceremony(ada, path)))["state"] == "confirmed" and c,
                     timeout=120, what="the confirmation")
    assert len(shown["inputs"][0]["signed_by"]) == 2
    return shown["txid"]


@pytest.mark.slow
def test_random_kills_during_100_ceremonies_lose_nothing_and_send_nothing_twice(huddle, tmp_path,  # noqa: F811
                                                                                 sandbox):
    data = tmp_path / "data"
    server = serve(huddle, data, sandbox.url, dev=True)
    group = make_group(server, sandbox, data)
    fund(sandbox, data / "huddle.sqlite3", group[3], amount=5_000_000, index=1)
    server.stop()
    sandbox.reset_counts()
    flaky, acked = Flaky(huddle, data, sandbox, group[:3], seed=7), []
    try:
        txids = [_round(flaky, group[3], n, acked) for n in range(ROUNDS)]
    finally:
        flaky.stop()
    assert flaky.kills > 0
    assert len(set(txids)) == ROUNDS
    assert sandbox.counts["POST /tx"] == ROUNDS  # not one transaction sent twice
    db = open_database(data / "huddle.sqlite3")
    stored = {(p, s) for p, s in db.execute(
        "SELECT s.proposal_id, CASE WHEN s.user_id = ? THEN 1 ELSE 2 END FROM signatures s",
        [group[1].user["id"]]).fetchall()}
    db.close()
    assert set(acked) <= stored  # every acknowledged signature is there
    _sane(data)
