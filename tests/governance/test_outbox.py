"""The outbox: events written with the change they announce, numbered per room,
carrying the audit head; catch-up after a seq, or resync past what is kept."""

from __future__ import annotations

import pytest

from coordinator.governance import audit, outbox
from coordinator.governance.events import EVENTS, InviteCreated, MemberJoined
from coordinator.store.db import write

from ..conftest import REPO_ROOT


def test_events_are_numbered_per_room_and_carry_the_chain_head(db):
    audit.append(db, "wallet:1", "member_joined", {"user": 2}, actor="user:2", at=10)
    first = outbox.record(db, MemberJoined(1, 2, "Bob", "viewer"), at=10)
    other = outbox.record(db, InviteCreated(2, 5, "viewer", 99), at=11)
    second = outbox.record(db, InviteCreated(1, 6, "keyholder", 99), at=12)

    assert (first.seq, other.seq, second.seq) == (1, 1, 2)
    assert first.audit_head == audit.head(db, "wallet:1").to_string()
    assert first.to_dict() == {"room": "wallet:1", "seq": 1, "type": "member_joined", "at": 10,
                               "audit_head": first.audit_head,
                               "data": {"wallet_id": 1, "user": 2, "name": "Bob", "role": "viewer"}}
    assert other.to_dict()["room"] == "wallet:2"


def test_an_event_rolls_back_with_its_change(db):
    with pytest.raises(RuntimeError), write(db):
        outbox.record(db, MemberJoined(1, 2, "Bob", "viewer"))
        raise RuntimeError("the change failed")

    assert outbox.since(db, "wallet:1", 0) == []


def test_catch_up_returns_what_was_missed_in_order(db):
    for invite in range(5):
        outbox.record(db, InviteCreated(1, invite, "viewer", 99))

    assert [e.seq for e in outbox.since(db, "wallet:1", 2)] == [3, 4, 5]
    assert outbox.since(db, "wallet:1", 5) == []


def test_a_gap_older_than_what_is_kept_asks_for_a_resync(db):
    with write(db):
        for invite in range(outbox.KEEP + 3):
            outbox.record(db, InviteCreated(1, invite, "viewer", 99))

    assert outbox.since(db, "wallet:1", 1) is None
    assert len(outbox.since(db, "wallet:1", 3)) == outbox.KEEP


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.__name__)
def test_every_event_is_documented(event):
    text = (REPO_ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    kind = event(**{f: 0 for f in event.__dataclass_fields__}).type
    assert f"### {kind}" in text


def test_catch_up_stops_at_the_row_a_publisher_stands_on(db):
    rows = [outbox.record(db, InviteCreated(1 + n % 2, n, "viewer", 99)) for n in range(6)]

    caught = outbox.since(db, "wallet:1", 0, upto=rows[3].id)

    assert [e.id for e in caught] == [rows[0].id, rows[2].id]  # wallet 1's rows up to the cursor, no later


def test_row_ids_follow_commit_order_across_rooms(db):
    """The relay's cursor depends on it: a reader that sees a row sees every row before it."""
    rows = [outbox.record(db, InviteCreated(1 + n % 3, n, "viewer", 99)) for n in range(9)]

    assert [e.id for e in outbox.after_id(db, rows[0].id)] == [r.id for r in rows[1:]]
    assert outbox.after_id(db, rows[-1].id) == []
