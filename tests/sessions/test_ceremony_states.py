"""The ceremony state machine: the moves it allows, the ones it refuses, and how the
proposal's own state ends it."""

from __future__ import annotations

import itertools

import pytest

from coordinator.errors import Conflict
from coordinator.governance import outbox, proposals
from coordinator.sessions import ceremony
from coordinator.sessions.ceremony import STATES, TRANSITIONS
from coordinator.sessions.events import room

LEGAL = [
    ("collecting", "ready"), ("ready", "broadcasting"), ("broadcasting", "broadcast"), ("broadcast", "confirmed"),
    ("confirmed", "broadcast"), ("broadcasting", "failed"), ("broadcasting", "replaced"), ("broadcast", "replaced"),
    ("collecting", "cancelled"),
]


def _at(setting, state: str):
    """The proposal's ceremony, put in ``state`` directly (the row is ours to set up)."""
    current = ceremony.of(setting.db, setting.proposal)
    setting.db.execute("UPDATE ceremonies SET state = ? WHERE proposal_id = ?", [state, current.proposal_id])
    return ceremony.load(setting.db, current.proposal_id)


def test_a_new_ceremony_is_collecting(setting):
    assert ceremony.of(setting.db, setting.proposal).state == "collecting"


@pytest.mark.parametrize("start, to", LEGAL)
def test_the_ceremony_moves_along_its_diagram(setting, start, to):
    moved = ceremony.move(setting.db, _at(setting, start), to)

    assert moved.state == to == ceremony.load(setting.db, setting.proposal.id).state


ILLEGAL = [(a, b) for a, b in itertools.product(STATES, STATES) if b not in TRANSITIONS[a]]


@pytest.mark.parametrize("start, to", ILLEGAL)
def test_every_other_move_is_refused_and_changes_nothing(setting, start, to):
    current = _at(setting, start)

    with pytest.raises(Conflict) as refused:
        ceremony.move(setting.db, current, to)

    assert refused.value.code == "ceremony_state"
    assert ceremony.load(setting.db, setting.proposal.id).state == start


def test_the_terminal_states_lead_nowhere():
    assert all(not TRANSITIONS[s] for s in ("cancelled", "expired", "failed", "replaced"))
    assert "collecting" not in set().union(*TRANSITIONS.values())  # signatures are never taken back


def test_a_move_from_a_state_the_row_has_left_loses(setting):
    stale = ceremony.of(setting.db, setting.proposal)
    ceremony.move(setting.db, stale, "ready")

    with pytest.raises(Conflict) as lost:
        ceremony.move(setting.db, stale, "ready")  # another process moved it first

    assert lost.value.code == "ceremony_state"


@pytest.mark.parametrize("close", ["cancel", "expire"])
def test_a_closed_proposal_ends_its_ceremony_with_an_event(setting, close):
    ceremony.of(setting.db, setting.proposal)
    if close == "cancel":
        proposals.cancel(setting.db, setting.wallet.id, setting.proposal.id, setting.bob)
    else:
        proposals.expire_due(setting.db, now=setting.proposal.expires_at)

    ended = ceremony.of(setting.db, proposals.get(setting.db, setting.wallet.id, setting.proposal.id))

    state = {"cancel": "cancelled", "expire": "expired"}[close]
    assert ended.state == state
    events = outbox.since(setting.db, room(setting.proposal.id), 0)
    assert [(e.type, e.data["state"]) for e in events] == [("ceremony_closed", state)]
