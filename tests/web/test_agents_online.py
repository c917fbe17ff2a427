"""The ceremony says whose signer agent is connected now (issue 11 Build 3: "each
keyholder's agent"): `agents_online` in GET .../ceremony, the wallet's keyholders and
admins only, so a member opening the ceremony sees Bob's agent without waiting for it
to come again. With a message queue it counts agents on every live process in one
query (sessions/agent_presence.py, `online`)."""

from __future__ import annotations

from coordinator.sessions import agent_presence
from coordinator.sessions.agent_presence import Connection
from coordinator.store import open_database
from coordinator.web.agent_socket import NAMESPACE as AGENT

from .conftest import member
from .test_agent_socket import _agent, _paired


def test_the_ceremony_lists_the_keyholders_whose_agent_is_connected_now(app, admin, wallet_id, proposal):
    bob, path = proposal
    carol = member(app, admin, wallet_id, "viewer", "Carol")
    assert bob.get(f"{path}/ceremony").get_json()["agents_online"] == []

    agent = _agent(app, _paired(app, bob))
    _agent(app, _paired(app, carol))  # a viewer's agent signs for no wallet
    assert carol.get(f"{path}/ceremony").get_json()["agents_online"] == [bob.user["id"]]

    admins = _agent(app, _paired(app, admin))
    assert bob.get(f"{path}/ceremony").get_json()["agents_online"] == [admin.user["id"], bob.user["id"]]

    agent.disconnect(namespace=AGENT)
    admins.disconnect(namespace=AGENT)
    assert bob.get(f"{path}/ceremony").get_json()["agents_online"] == []


def test_agents_on_other_live_processes_count_and_a_dead_process_stops_counting(config, app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    db = open_database(config.database)
    try:
        agent_presence.connected(db, "b:2:0", "sid-b", Connection(bob.user["id"], "Bob", [wallet_id], "t1"),
                                 now=1_000)
        agent_presence.connected(db, "c:3:0", "sid-c", Connection(admin.user["id"], "Ada", [wallet_id], "t2"),
                                 now=900)
        users = [admin.user["id"], bob.user["id"], 99]

        assert agent_presence.online(db, users, "a:1:0", ttl=30, now=1_020) == [bob.user["id"]]
        assert agent_presence.online(db, users, "c:3:0", ttl=30, now=1_020) == [admin.user["id"], bob.user["id"]]
        assert agent_presence.online(db, users, "a:1:0", ttl=30, now=1_040) == []
        assert agent_presence.online(db, [], "a:1:0", ttl=30) == []
    finally:
        db.close()
