"""``show_address`` at the agent (issue 12 Build 4, issue 13 Build 2), over loopback: the
test plays the server (agent_server.ServerSide, a real Socket.IO server) and the agent is
`huddle agent run`'s own client (connection.run with show_requests.ShowResponder) with a
software device that records exactly what it displayed. A good request is shown for the
right path and answered with the device's address; every request the agent should not
serve (a wallet it did not pin, an index past its gap limit, a device that is not a
cosigner) is refused before the device is asked anything; a device that declines or shows
another address is reported as such."""

from __future__ import annotations

import threading

import pytest
from hwilib.errors import ActionCanceledError

from coordinator.hw import connection
from coordinator.hw.pinned import PinStore
from coordinator.hw.show_requests import ShowResponder

from .. import keys
from .agent_server import NAMESPACE, Group, ServerSide
from .software_device import SoftwareDevice, SoftwareFactory

ME = 2  # the agent's user; its device holds seed 1 (cosigner slot 1)


class Declining(SoftwareDevice):
    def display_multisig_address(self, addr_type, multisig):
        self._called("display_multisig_address")
        raise ActionCanceledError("Cancelled by the user")


class Lying(SoftwareDevice):
    def display_multisig_address(self, addr_type, multisig):
        super().display_multisig_address(addr_type, multisig)
        return keys.descriptor(2, 3, first=3).address(0, 0, "testnet")


class Agent:
    """The agent's client, connected to the test's server, with one software device."""

    def __init__(self, tmp_path, group: Group, server: ServerSide, device: SoftwareDevice,
                 pinned=None, wallet_id: int | None = None) -> None:
        self.store = PinStore(tmp_path / "agent")
        pinned_wallet, _ = self.store.pin("family", group.network, pinned or group.descriptor)
        if wallet_id is not None:
            self.store.remember_wallet_id(pinned_wallet, wallet_id)
        self.device, self.lines = device, []
        responder = ShowResponder(self.store, lambda network: SoftwareFactory(device), self.lines.append, timeout=30)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=connection.run, daemon=True, args=(
            server.link(), self.lines.append, self.stop), kwargs={
            "handlers": {"show_address": responder}, "backoff": (0.2,)})
        self.thread.start()
        self.sid = server.sids.get(timeout=20)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=15)


@pytest.fixture
def server():
    side = ServerSide(user=ME)
    side.sio.on("address_shown", lambda sid, data=None: side.received.put(("address_shown", data)) or {
        "ok": True, "outcome": "verified", "reason": None}, namespace=NAMESPACE)
    yield side
    side.stop()


def _request(group: Group, branch: str = "receive", index: int = 0, fingerprint: str | None = None, **kw) -> dict:
    return {"request_id": "chk-1", "wallet_id": group.wallet_id, "policy_id": group.descriptor.policy_id,
            "branch": branch, "index": index, "fingerprint": fingerprint, **kw}


def _show(tmp_path, server, group, request, device=None, **kw) -> tuple[Agent, dict]:
    agent = Agent(tmp_path, group, server, device or SoftwareDevice(1), **kw)
    try:
        server.sio.emit("show_address", request, to=agent.sid, namespace=NAMESPACE)
        answer = server.next("address_shown")
    finally:
        agent.close()
    return agent, answer


@pytest.mark.parametrize("branch,number", [("receive", 0), ("change", 1)])
def test_the_device_shows_exactly_the_asked_path_and_the_agent_answers_its_address(tmp_path, server, branch, number):
    group = Group()
    expected = group.descriptor.address(number, 7, group.network)

    agent, answer = _show(tmp_path, server, group, _request(group, branch, 7, keys.fingerprint(1)))

    assert answer == {"request_id": "chk-1", "wallet_id": group.wallet_id, "branch": branch, "index": 7,
                      "address": expected, "fingerprint": keys.fingerprint(1), "device": "software"}
    assert agent.device.displayed == [(f"{keys.path(True, 'wsh')}/{number}/7", expected)]
    assert any(line.startswith(f"Shown on software {keys.fingerprint(1)}: {branch} address 7 of 'family' is "
                               f"{expected}") for line in agent.lines)


def test_without_a_fingerprint_the_one_connected_cosigner_shows_it(tmp_path, server):
    group = Group()

    agent, answer = _show(tmp_path, server, group, _request(group))

    assert answer["address"] == group.descriptor.address(0, 0, group.network)
    assert agent.device.displayed == [(f"{keys.path(True, 'wsh')}/0/0", answer["address"])]


def _refused(tmp_path, server, group, request, device=None, **kw) -> str:
    agent, answer = _show(tmp_path, server, group, request, device, **kw)
    assert "address" not in answer
    assert agent.device.calls == []  # refused before the device was opened, let alone asked
    assert any(line.startswith("Refused to show") and answer["refused"]["code"] in line for line in agent.lines)
    return answer["refused"]["code"]


def test_a_server_sent_index_beyond_the_agents_gap_limit_is_refused_before_the_device(tmp_path, server):
    group = Group()

    for index in (20, 500):
        assert _refused(tmp_path / str(index), server, group, _request(group, index=index)) == "gap_limit_reached"
    assert _show(tmp_path / "ok", server, group, _request(group, index=19))[1]["address"]


def test_a_wallet_the_agent_did_not_pin_is_refused_before_the_device(tmp_path, server):
    group = Group()
    other = keys.descriptor(2, 3, first=1)  # the server's wallet differs from what this agent pinned

    code = _refused(tmp_path, server, group, _request(group), pinned=other)

    assert code == "not_pinned"


def test_the_same_policy_under_another_server_wallet_id_is_refused(tmp_path, server):
    group = Group()

    assert _refused(tmp_path, server, group, _request(group), wallet_id=group.wallet_id + 1) == "not_pinned"


def test_a_device_of_a_foreign_fingerprint_is_never_asked(tmp_path, server):
    group = Group()
    foreign = SoftwareDevice(5)

    assert _refused(tmp_path / "a", server, group, _request(group), device=foreign) == "device_not_found"
    assert foreign.calls == []
    assert _refused(tmp_path / "b", server, group, _request(group, fingerprint=keys.fingerprint(5)),
                    device=SoftwareDevice(5)) == "device_not_cosigner"
    assert _refused(tmp_path / "c", server, group, _request(group, fingerprint=keys.fingerprint(0))) \
        == "device_not_found"  # the slot's device is not the one plugged in


def test_a_malformed_request_is_refused(tmp_path, server):
    group = Group()

    assert _refused(tmp_path, server, group, _request(group, branch="sideways")) == "bad_show_request"


def test_declined_on_the_device_and_a_device_showing_another_address_are_reported(tmp_path, server):
    group = Group()

    _, declined = _show(tmp_path / "a", server, group, _request(group), Declining(1))
    _, lying = _show(tmp_path / "b", server, group, _request(group), Lying(1))

    assert declined["refused"]["code"] == "device_declined"
    assert lying["refused"]["code"] == "device_address_mismatch" and "address" not in lying
