"""Crash safety at the named fault points (DESIGN.md, "Tests that cannot be passed by a
toy"): `huddle serve` kills itself with SIGKILL at ``HUDDLE_FAULT``, several times at
each point; after a restart no acknowledged signature is lost, nothing is broadcast
twice, the database passes ``PRAGMA integrity_check``, and the ceremony completes."""

from __future__ import annotations

import signal

import httpx
import pytest

from coordinator.store import open_database

from ..cli.runner import huddle  # noqa: F401  (fixture)
from ..sessions.ceremony_env import signed_by, start_sandbox
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
