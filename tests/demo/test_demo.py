"""``huddle demo`` as the README runs it: the installed console script in its own process.
The test is the newcomer: it reads the printed URL and recovery codes, signs in as Ada
over HTTP, joins the ceremony room with a real python-socketio client, asks Bob's and
Carol's demo agents to sign, broadcasts, and sees the spend confirm, then checks the
sandbox itself over its own HTTP API; Ctrl-C then stops every child and removes the
data directory."""

from __future__ import annotations

import re
import signal
from pathlib import Path
from types import SimpleNamespace

import httpx

from coordinator.demo import people

from ..cli.runner import HUDDLE
from ..sessions.live import Member, wait_for
from .running import Demo, alive, children_of


def _signed_in(origin: str, base: str, code: str) -> httpx.Client:
    http = httpx.Client(base_url=f"{base}/api/v1", headers={"Origin": origin, "X-Huddle-CSRF": "none-yet"},
                        timeout=30)
    answer = http.post("/session/recovery", json={"code": code})
    assert answer.status_code == 201, answer.text
    http.headers["X-Huddle-CSRF"] = answer.json()["csrf_token"]
    return http


def test_a_newcomer_signs_with_two_demo_agents_broadcasts_and_sees_it_confirm_then_ctrl_c_cleans_up():
    demo = Demo(None, "--agent", str(HUDDLE))  # the agents' own install, as ./dev demo gives them
    try:
        demo.until("Press Ctrl-C to stop everything.")
        data_dir = Path(demo.printed(r"throwaway data directory (\S+)").group(1))
        origin = demo.printed(r"Huddle demo is ready at (http://localhost:\d+) ").group(1)
        ada_code = demo.printed(r"Ada \(user 1\): (\S+)").group(1)
        bob, carol = (int(demo.printed(rf"{name} \(user (\d+)\)").group(1)) for name in ("Bob", "Carol"))
        wallet_id, proposal_id = map(int, demo.printed(r"/wallets/(\d+)/proposals/(\d+)").groups())
        sandbox = demo.printed(r"Sandbox chain: (http://127\.0\.0\.1:\d+)").group(1)
        assert origin == f"http://localhost:{demo.port}" and data_dir.is_dir()
        assert people.LABEL in demo.printed(r"ready at .*").group(0)
        children = children_of(demo.proc.pid)
        assert len(children) == 4  # the server and three agents

        base = f"http://127.0.0.1:{demo.port}"
        ada = _signed_in(origin, base, ada_code)
        path = f"/wallets/{wallet_id}/proposals/{proposal_id}"
        shown = ada.get(path).json()
        assert shown["proposal"]["memo"] == people.MEMO
        room = Member(SimpleNamespace(base=base, origin=origin), cookie=f"huddle_session={ada.cookies.get('huddle_session')}")
        try:
            room.join(wallet_id, proposal_id)
            for user in (bob, carol):
                asked = ada.post(f"{path}/sign-requests", json={"user": user})
                assert asked.status_code == 201 and asked.json()["agents"] == 1, asked.text
                wait_for(lambda: any(e["type"] == "signature_added" and e["data"].get("user") == user
                                     for e in room.seen()) or None, 60, f"user {user}'s signature")
            wait_for(lambda: "threshold_reached" in room.types(), 30, "the threshold")
            devices = {e["data"]["user"]: e["data"] for e in room.seen() if e["type"] == "device_connected"}
            assert {user: (d["device_type"], d["matches_slot"]) for user, d in devices.items()} == {
                bob: (people.LABEL, True), carol: (people.LABEL, True)}

            sent = ada.post(f"{path}/broadcast")
            assert sent.status_code == 200, sent.text
            txid = sent.json()["ceremony"]["txid"]
            confirmed = wait_for(lambda: next((e for e in room.seen() if e["type"] == "confirmed"), None), 60,
                                 "the confirmation")
        finally:
            room.sio.disconnect()
        assert confirmed["data"]["txid"] == txid
        status = httpx.get(f"{sandbox}/tx/{txid}/status", timeout=10).json()
        assert status["confirmed"] is True and status["block_height"] == confirmed["data"]["height"]
        paid = httpx.get(f"{sandbox}/tx/{txid}", timeout=10).json()
        assert people.PAYMENT in [out["value"] for out in paid["vout"]]
    finally:
        demo.proc.send_signal(signal.SIGINT)  # Ctrl-C
        code = demo.proc.wait(timeout=60)
    assert code == 0, "\n".join(demo.seen)
    assert [pid for pid in children if alive(pid)] == []
    assert not data_dir.exists()


def test_ctrl_c_while_the_demo_starts_stops_every_child_and_removes_the_data_dir():
    demo = Demo()
    demo.until("Pairing each member's agent")  # the server is up, the agents' commands are starting
    data_dir = Path(demo.printed(r"throwaway data directory (\S+)").group(1))
    children = children_of(demo.proc.pid)
    assert children  # at least the server
    demo.proc.send_signal(signal.SIGINT)
    assert demo.proc.wait(timeout=60) == 0
    assert [pid for pid in children if alive(pid)] == [] and children_of(demo.proc.pid) == []
    assert not data_dir.exists()


def test_a_taken_port_is_refused_before_anything_starts(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        demo = Demo(port=taken.getsockname()[1])
        code = demo.proc.wait(timeout=60)
    out = demo.rest()
    assert code == 7 and "is taken" in out and "[demo_failed]" in out
    assert not Path(re.search(r"throwaway data directory (\S+)", out).group(1)).exists()


def test_an_agent_command_that_is_not_one_is_refused_before_anything_starts(tmp_path):
    demo = Demo(None, "--agent", str(tmp_path / "nowhere" / "huddle"))
    out = demo.rest()
    assert demo.proc.returncode == 3 and "[bad_config]" in out and "--agent" in out
    assert "throwaway data directory" not in out  # nothing was made
