"""A group that sets up a wallet through the API with agents: each member signs
in with a passkey, pairs an agent (an agent-scoped API token) that registers
its BIP-340 key, and confirms the setup at that agent after comparing safety
codes; members given no agent confirm as a QR-only keyholder does."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from embit import ec

from coordinator.governance import agent_keys

from .. import keys
from .conftest import API, Browser, setup_token


def agent_key(i: int) -> ec.PrivateKey:
    """The i-th test agent's key (tests only)."""
    return ec.PrivateKey(hashlib.sha256(f"huddle test agent {i}".encode()).digest())


def key_text(i: int) -> str:
    """Test seed i's BIP-48 wsh key with its origin, as a device exports it."""
    return f"[{keys.fingerprint(i)}/48h/1h/0h/2h]{keys.xpub(i)}"


@dataclass
class Person:
    app: object
    browser: Browser
    agent: ec.PrivateKey | None = None
    token: str | None = None

    @property
    def id(self) -> int:
        return self.browser.user["id"]

    def as_agent(self, method: str, path: str, json: object = None):
        """A call by this member's agent: its own Bearer token, no cookies."""
        return self.app.test_client().open(API + path, method=method, json=json,
                                           headers={"Authorization": f"Bearer {self.token}"})

    def sign(self, purpose: str, body: object) -> str:
        return agent_keys.sign(self.agent, purpose, body)


def join(app, admin: Browser, name: str) -> Browser:
    made = admin.post("/invites", {})
    assert made.status_code == 201, made.get_json()
    return Browser(app.test_client()).register("/invites", token=made.get_json()["token"], name=name)


def pair(person: Person, agent: ec.PrivateKey) -> Person:
    """Give the member an agent token and register the agent's key with it."""
    made = person.browser.post("/tokens", {"scopes": ["agent"]})
    assert made.status_code == 201, made.get_json()
    person.token, person.agent = made.get_json()["secret"], agent
    registered = person.as_agent("POST", "/agent/keys", {"public_key": agent_keys.public_key(agent)})
    assert registered.status_code == 201, registered.get_json()
    return person


def group(app, config, agents=(0, 1, 2)) -> list[Person]:
    """Ada (the server admin), Bob and Carol; those listed in ``agents`` have one."""
    admin = Browser(app.test_client()).register("/setup", token=setup_token(config), name="Ada")
    people = [Person(app, admin), Person(app, join(app, admin, "Bob")), Person(app, join(app, admin, "Carol"))]
    return [pair(p, agent_key(i)) if i in agents else p for i, p in enumerate(people)]


def draft(people: list[Person], threshold: int = 2) -> str:
    """Draft a wallet with a slot each and fill them; the draft's path once its descriptor is built."""
    made = people[0].browser.post("/drafts", {"name": "Co-op", "script_type": "wsh", "threshold": threshold,
                                              "slots": [p.id for p in people]})
    assert made.status_code == 201, made.get_json()
    base = f"/drafts/{made.get_json()['draft']['id']}"
    for position, person in enumerate(people):
        filled = person.browser.post(f"{base}/slots/{position}", {"key": key_text(position)})
        assert filled.status_code == 200, filled.get_json()
    return base


def confirm(person: Person, base: str, position: int):
    """Confirm the slot: at the agent (signing the roster the agent fetched), or plainly."""
    shown = person.browser.get(f"{base}/roster").get_json()
    if person.agent is None:
        return person.browser.post(f"{base}/slots/{position}/confirm", {"address": shown["first_address"]})
    draft_id = int(base.rsplit("/", 1)[1])
    signature = person.sign("roster-confirm", agent_keys.roster_confirm_body(draft_id, shown["hash"],
                                                                             shown["first_address"]))
    return person.browser.post(f"{base}/slots/{position}/confirm/agent", {
        "address": shown["first_address"], "signature": signature, "roster_hash": shown["hash"]})


def ceremony(people: list[Person], threshold: int = 2) -> int:
    """The whole setup; the active wallet's id."""
    base = draft(people, threshold)
    for position, person in enumerate(people):
        answer = confirm(person, base, position)
        assert answer.status_code == 200, answer.get_json()
    state = answer.get_json()["draft"]
    assert state["state"] == "active", state
    return state["wallet_id"]
