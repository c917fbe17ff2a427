"""`agents_online` in GET .../ceremony counts the agents of every live `huddle serve`
process (issue 11 Build 3; docs/ceremony.md, "Whose agent is connected"): Bob's agent
on process B shows when Ada's page asks process A, is gone from A's answer once it
disconnects, and an agent of a process killed with kill -9 stops counting once that
process stops renewing (HUDDLE_AGENT_TTL)."""

from __future__ import annotations

import httpx

from ..sessions.live import wait_for
from ..web.conftest import admin, app, config, proposal, wallet_id  # noqa: F401  (fixtures)
from .test_agents_across_processes import Agent, _kill_9, _token, redis_url, two_servers  # noqa: F401


def _online(url: str, path: str, token: str) -> list[int]:
    got = httpx.get(f"{url}/api/v1{path}/ceremony", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert got.status_code == 200, got.text
    return got.json()["agents_online"]


def test_an_agent_on_one_process_is_online_in_the_ceremony_asked_on_the_other(two_servers, proposal):
    bob, path = proposal
    (_, a), (_, b) = two_servers
    _, secret = _token(bob)
    assert _online(a, path, secret) == []

    agent = Agent(b, secret)
    seen_on_a = _online(a, path, secret)
    agent.close()
    gone = wait_for(lambda: _online(a, path, secret) == [], what="the agent to leave A's answer")

    assert seen_on_a == [bob.user["id"]]
    assert gone


def test_the_agent_of_a_killed_process_stops_counting_after_the_ttl(two_servers, proposal):
    bob, path = proposal
    (_, a), (server_b, b) = two_servers
    _, secret = _token(bob)
    agent = Agent(b, secret)
    assert _online(a, path, secret) == [bob.user["id"]]

    _kill_9(server_b)
    gone = wait_for(lambda: _online(a, path, secret) == [], what="the dead process's agent to stop counting")
    agent.gone.wait(10)

    assert gone
