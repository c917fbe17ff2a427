"""Checking a wallet's or a setup's audit chain against a member's pinned roster
(version 2) on their own machine: ``huddle audit verify --roster FILE``.

The chain is replayed with the roster in force at each point: the one the
wallet's first entry pins, then each roster change, which takes force only with
M confirmations signed by keyholders' agent keys of the roster before it. The
roster FILE must be one of the rosters the chain puts in force; from that entry
on (``anchored_at``) everything is checked against what the member pinned, and
entries before it only against the chain's own earlier rosters. Every passkey
approval, agent approval, roster-change confirmation and pinned-roster entry is
verified; the first that does not is named by its sequence number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from ..errors import InvalidInput
from . import agent_keys, quorum, roster_errors  # noqa: F401  (roster_errors registers codes)
from .audit import Entry
from .intent import Intent
from .roster import PinnedRoster


@dataclass
class _Replay:
    pinned: PinnedRoster  # the member's file
    wallet_id: int
    in_force: PinnedRoster | None = None
    anchored_at: int | None = None
    intents: dict[str, Intent] = field(default_factory=dict)
    pending: dict[int, tuple[str, str, PinnedRoster, set[int]]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: {"approvals": 0, "agent_approvals": 0,
                                                             "roster_changes": 0})

    def take_force(self, roster: PinnedRoster, seq: int) -> None:
        self.in_force = roster
        if self.anchored_at is None and roster.hash() == self.pinned.hash():
            self.anchored_at = seq


def _fail(code: str, why: str) -> InvalidInput:
    return InvalidInput(code, why)


def _roster_of(body: object) -> PinnedRoster:
    try:
        return PinnedRoster.from_dict(body)
    except InvalidInput:
        raise _fail("audit_roster_invalid", "the entry's roster is not a version 2 roster") from None


def _wallet_created(state: _Replay, entry: Entry) -> None:
    pinned = entry.body.get("roster")
    if not isinstance(pinned, dict):
        raise _fail("audit_roster_invalid", "this wallet's chain pins no roster (an imported wallet); "
                    "there is nothing to check a version 2 roster against")
    roster = _roster_of(pinned.get("body"))
    if pinned.get("hash") != roster.hash() or pinned.get("version") != 1:
        raise _fail("audit_roster_invalid", "the pinned roster's hash or version does not match its body")
    if roster.policy_id != entry.body.get("policy_id") or roster.policy_id != state.pinned.policy_id:
        raise _fail("audit_roster_invalid", "the pinned roster is of another wallet than the roster file's")
    state.take_force(roster, entry.seq)


def _proposal_created(state: _Replay, entry: Entry) -> None:
    intent = Intent.from_dict(entry.body.get("intent"))
    if intent.digest().hex() != entry.body.get("intent_digest") or intent.policy_id != state.in_force.policy_id:
        raise _fail("audit_approval_invalid", "the proposal's intent digest or policy does not match")
    state.intents[intent.family_id] = intent


def _approval(state: _Replay, entry: Entry) -> None:
    intent = state.intents.get(entry.body.get("family"))
    if intent is None:
        raise _fail("audit_approval_invalid", "an approval of a proposal that is not earlier in the chain")
    if entry.type == "approval_added":
        given = dict(entry.body["approval"])
        member = str(given.pop("member", ""))
        approval = {"kind": "passkey", "member": int(member[5:]) if member[5:].isdigit() else None, **given}
    else:
        approval = {"kind": "agent", "member": entry.body.get("member"), "signature": entry.body.get("signature")}
    if entry.actor != f"user:{approval['member']}":
        raise _fail("audit_approval_invalid", f"recorded by {entry.actor} for user:{approval['member']}")
    if not quorum.count(state.in_force, intent.digest(), [approval]):
        raise _fail("audit_approval_invalid", f"user:{approval['member']}'s {approval['kind']} approval does not "
                    "verify against the roster in force (their pinned key, their kind, the intent digest)")
    state.counts["agent_approvals" if approval["kind"] == "agent" else "approvals"] += 1


def _change_proposed(state: _Replay, entry: Entry) -> None:
    new = _roster_of(entry.body.get("roster"))
    if entry.body.get("to") != new.hash() or entry.body.get("from") != state.in_force.hash():
        raise _fail("audit_roster_invalid", "the proposed roster's hashes do not match the roster in force and "
                    "its body")
    state.pending[entry.body.get("change")] = (entry.body["from"], entry.body["to"], new, set())


def _change_confirmed(state: _Replay, entry: Entry) -> None:
    found = state.pending.get(entry.body.get("change"))
    member = state.in_force.member(entry.body.get("member")) if isinstance(entry.body.get("member"), int) else None
    if found is None or (entry.body.get("from"), entry.body.get("to")) != found[:2]:
        raise _fail("audit_roster_invalid", "a confirmation of a roster change that is not pending")
    if member is None or member not in state.in_force.keyholders() or member.agent_key is None \
            or member.agent_key != entry.body.get("agent_key") or entry.actor != f"user:{member.user}":
        raise _fail("audit_roster_invalid", "the confirmation is not by a keyholder's pinned agent key")
    body = agent_keys.roster_change_body(state.wallet_id, found[0], found[1])
    if not agent_keys.verify(member.agent_key, "roster-change", body, entry.body.get("signature")):
        raise _fail("audit_roster_invalid", f"user:{member.user}'s roster-change signature does not verify")
    found[3].add(member.user)


def _changed(state: _Replay, entry: Entry) -> None:
    found = state.pending.pop(entry.body.get("change"), None)
    if found is None or (entry.body.get("from"), entry.body.get("to")) != found[:2]:
        raise _fail("audit_roster_invalid", "an applied roster change that was not pending")
    if len(found[3]) < state.in_force.m:
        raise _fail("audit_roster_invalid", f"the roster change applied with {len(found[3])} keyholder "
                    f"confirmations; it needs {state.in_force.m}")
    state.take_force(found[2], entry.seq)
    state.counts["roster_changes"] += 1


_STEPS = {"proposal_created": _proposal_created, "approval_added": _approval, "agent_approval_added": _approval,
          "roster_change_proposed": _change_proposed, "roster_change_confirmed": _change_confirmed,
          "roster_changed": _changed}


def verify_wallet_chain(entries: Iterable[Entry], pinned: PinnedRoster) -> dict:
    """Replay a (hash-verified) wallet chain against a version 2 roster file."""
    entries = list(entries)
    chain = entries[0].chain if entries else ""
    state = _Replay(pinned, int(chain.split(":")[1]) if chain.startswith("wallet:") else 0)
    for entry in entries:
        try:
            if entry.type == "wallet_created":
                _wallet_created(state, entry)
            elif entry.type == "roster_change_superseded":
                state.pending.pop(entry.body.get("change"), None)
            elif entry.type in _STEPS:
                if state.in_force is None:
                    raise _fail("audit_roster_invalid", "the chain does not start with its pinned roster")
                _STEPS[entry.type](state, entry)
        except InvalidInput as err:
            code = "audit_approval_invalid" if err.code == "audit_approval_invalid" else "audit_roster_invalid"
            raise InvalidInput(code, f"audit entry {entry.seq} ({entry.type}): {err.message}", seq=entry.seq) from None
        except (KeyError, TypeError, ValueError, AttributeError):  # a body of the wrong shape
            raise InvalidInput("audit_roster_invalid", f"audit entry {entry.seq} ({entry.type}): its body is not "
                               "what this entry type holds", seq=entry.seq) from None
    if state.anchored_at is None:
        raise InvalidInput("audit_roster_invalid", "the roster file is none of the rosters this chain put in force "
                           "(another wallet, or a roster the keyholders never confirmed)")
    return {**state.counts, "anchored_at": state.anchored_at}


def verify_setup_chain(entries: Iterable[Entry], pinned: PinnedRoster) -> dict:
    """Check a setup chain's agent confirmations: each one that stands (not withdrawn) is
    the keyholder's pinned agent key signing {draft, the roster file's hash, first address}."""
    entries = list(entries)
    draft = int(entries[0].chain.split(":")[1]) if entries and entries[0].chain.startswith("setup:") else 0
    standing: dict[int, Entry] = {}
    for entry in entries:
        if entry.type in ("address_confirmed", "confirmation_withdrawn") and not isinstance(
                entry.body.get("position"), int):
            raise InvalidInput("audit_roster_invalid", f"audit entry {entry.seq} ({entry.type}): no slot position",
                               seq=entry.seq)
        if entry.type == "address_confirmed":
            standing[entry.body.get("position")] = entry
        elif entry.type == "confirmation_withdrawn":
            standing.pop(entry.body.get("position"), None)
    for position, entry in sorted(standing.items(), key=lambda item: item[1].seq):
        member = pinned.member(int(entry.actor[5:])) if entry.actor[5:].isdigit() else None
        body = agent_keys.roster_confirm_body(draft, pinned.hash(), str(entry.body.get("address")))
        key = None if member is None else member.agent_key
        signed = "signature" in entry.body
        if (key is not None or signed) and not (
                entry.body.get("roster") == pinned.hash() and entry.body.get("agent_key") == key
                and agent_keys.verify(key or "", "roster-confirm", body, entry.body.get("signature"))):
            raise InvalidInput("audit_roster_invalid", f"audit entry {entry.seq} (address_confirmed): slot "
                               f"{position}'s confirmation is not its owner's pinned agent key signing this roster",
                               seq=entry.seq)
    return {"agent_confirmations": sum(1 for e in standing.values() if "signature" in e.body),
            "roster_hash": pinned.hash(), "safety_code": pinned.safety_code()}

