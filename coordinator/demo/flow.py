"""What ``huddle demo`` does through the server's real API, as the three members would.

The members are made in the throwaway database by the setup token and invites, each
with recovery codes (the way to sign in without a passkey that every Huddle server
has: no demo-only door).
Then, over HTTP and through each member's real ``huddle agent``: pairing, the setup
ceremony (Ada drafts a 2-of-3, each agent exports its demo device's key, each agent
confirms the setup and pins the roster), funding from the sandbox faucet, a
proposal with a memo, two agent approvals, and ``huddle agent run`` for everyone.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ..accounts import invites, recovery, setup
from ..chain.esplora import EsploraClient
from ..chain.sandbox import faucet
from ..chain.sandbox.chain import script_for
from ..chain.sandbox.server import Sandbox
from ..chain.sync import sync_wallet
from ..errors import Unavailable
from ..store import open_database, wallets
from ..store.db import write
from . import people
from .stack import HUDDLE, Child, Say, clean_env, huddle

# hw/injection.py's DEMO_ENV (spelt out: nothing outside hw/ and the agent's CLI imports
# coordinator.hw; tests/demo/test_demo_device.py checks they agree)
DEMO_ENV = "HUDDLE_AGENT_DEMO_DEVICE"
CODES_SHOWN = 2  # recovery codes printed per member (the demo itself signs in with the first)


@dataclass
class Member:
    """One member: a signed-in HTTP session (the API), and their agent's directory."""

    name: str
    id: int
    codes: list[str]
    agent_env: dict[str, str] = field(default_factory=dict)
    agent_command: list[str] = field(default_factory=lambda: list(HUDDLE))
    http: httpx.Client | None = None

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        answer = self.http.request(method, f"/api/v1{path}", json=body)
        if answer.status_code >= 400:
            raise Unavailable("demo_failed", f"{self.name}: {method} {path} answered {answer.status_code}: "
                              f"{answer.text[:300]}")
        return answer.json()

    def agent(self, *args: object) -> str:
        return huddle(["agent", *map(str, args)], self.agent_env, command=self.agent_command)


def make_members(database: Path, data_dir: Path, agent_command: list[str]) -> list[Member]:
    """Ada (the server's admin, by the setup token) and Bob and Carol (by server invites),
    through the same core calls as the setup link and invites, so the server's audit chain
    records them; each with recovery codes instead of a passkey. Before the server starts."""
    db = open_database(database)
    try:
        ada = setup.complete(db, setup.issue_token(db), people.NAMES[0])
        made = [ada] + [invites.accept(db, invites.create(db, None, None, ada.id)[1], name)
                        for name in people.NAMES[1:]]
        with write(db):
            codes = [recovery.issue(db, user.id) for user in made]
    finally:
        db.close()
    return [Member(user.name, user.id, mine,
                   clean_env(HUDDLE_AGENT_DIR=str(data_dir / "agents" / user.name.lower()), **{DEMO_ENV: user.name}),
                   agent_command) for user, mine in zip(made, codes)]


def sign_in(members: list[Member], base: str, origin: str) -> None:
    for member in members:
        member.http = httpx.Client(base_url=base, headers={"Origin": origin, "X-Huddle-CSRF": "none-yet"}, timeout=60)
        session = member.call("POST", "/session/recovery", {"code": member.codes.pop(0)})
        member.http.headers["X-Huddle-CSRF"] = session["csrf_token"]


def set_up_wallet(members: list[Member], base: str, say: Say) -> int:
    """The real setup ceremony: pairing, the draft, each device's key, each agent's confirmation."""
    def pair_and_export(member: Member) -> str:
        code = member.call("POST", "/agent/pairings")["code"]
        member.agent("pair", base, "--code", code, "--label", f"{people.LABEL} ({member.name})")
        return member.agent("xpub", "--network", "regtest", "--yes").strip()

    say("Pairing each member's agent and exporting each demo device's key ...")
    with ThreadPoolExecutor(len(members)) as pool:
        keys = list(pool.map(pair_and_export, members))
    ada = members[0]
    draft = ada.call("POST", "/drafts", {"name": people.WALLET, "script_type": "wsh", "threshold": 2,
                                         "slots": [m.id for m in members]})["draft"]["id"]
    for position, (member, key) in enumerate(zip(members, keys)):
        member.call("POST", f"/drafts/{draft}/slots/{position}", {"key": key})
    say("Each agent confirms the setup (safety code, first address on the device) and pins the roster ...")
    for member in members:
        member.agent("confirm-setup", draft, "--yes")
    return next(w["id"] for w in ada.call("GET", "/wallets")["wallets"] if w["name"] == people.WALLET)


def fund(member: Member, wallet_id: int, sandbox: Sandbox, database: Path) -> str:
    """A labelled receive address from the API, a confirmed faucet coin to it, and a sync."""
    address = member.call("POST", f"/wallets/{wallet_id}/addresses", {"label": "DEMO: from the sandbox faucet"})
    txid = faucet.pay(sandbox.chain, script_for(address["address"]["address"]), people.FUNDING, confirm=True)
    db = open_database(database)
    try:
        with EsploraClient(sandbox.url, "regtest", retries=1) as backend:
            sync_wallet(db, wallets.get(db, people.WALLET), backend)
    finally:
        db.close()
    return txid


def propose(members: list[Member], wallet_id: int, say: Say) -> int:
    """Ada proposes paying the faucet back; Ada's and Bob's agents check it and approve it."""
    ada = members[0]
    made = ada.call("POST", f"/wallets/{wallet_id}/proposals", {
        "payments": [{"address": _faucet_address(), "amount": people.PAYMENT}], "memo": people.MEMO,
        "fee_rate": people.FEE_RATE})
    proposal = made["proposal"]["id"]
    for member in members[:2]:
        member.agent("approve", proposal, "--wallet", people.WALLET, "--yes")
    say(f"Ada proposed spend {proposal}; Ada's and Bob's agents checked it and approved it (2 of 2 needed).")
    return proposal


def _faucet_address() -> str:
    from embit.networks import NETWORKS
    from embit.script import Script

    return Script(faucet.FAUCET_SCRIPT).address(NETWORKS["regtest"])


def run_agents(members: list[Member], say: Say, started: list[Child]) -> None:
    """``huddle agent run`` for each member, added to ``started`` (to stop) as each starts."""
    agents = []
    for m in members:
        agents.append(Child(f"{m.name}'s agent", ["agent", "run", "--network", "regtest"], m.agent_env, say,
                            m.agent_command))
        started.append(agents[-1])
    for agent in agents:
        agent.wait_for("Connected to")
