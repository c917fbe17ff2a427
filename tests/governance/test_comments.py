"""Comments on a proposal: stored with their text, which the audit chain keeps
only as a hash (like memos), announced in the outbox, bounded and checked."""

from __future__ import annotations

import pytest
from embit.networks import NETWORKS
from embit.script import Script

from coordinator.accounts import users
from coordinator.chain.sync import sync_wallet
from coordinator.errors import InvalidInput, NotFound
from coordinator.governance import audit, comments, outbox, proposals
from coordinator.governance.intent import memo_hash
from coordinator.psbt.model import Recipient as Payment
from coordinator.store import wallets

from .. import keys
from ..chain.walletenv import OUTSIDE, chain, client, pay, sandbox, wallet  # noqa: F401  (fixtures)

T0 = 1_767_225_600
TO = Script(OUTSIDE).address(NETWORKS["regtest"])


@pytest.fixture
def proposal(chain, db, wallet, client):
    pay(chain, 0, 0, 100_000, confirm=True)
    sync_wallet(db, wallet, client)
    bob = users.create(db, "Bob")
    return proposals.create(db, wallet, bob.id, [Payment(TO, 30_000)], "roof repair", 2_000, now=T0), bob


def test_a_comment_is_stored_and_the_chain_keeps_only_its_hash(db, proposal):
    made, bob = proposal
    text = "Is the second quote in?\nThe roofer said Friday."

    added = comments.add(db, made.wallet_id, made.id, bob.id, text, now=T0 + 5)

    assert comments.list_for(db, made.wallet_id, made.id) == [added]
    assert (added.text, added.text_hash, added.user_id) == (text, memo_hash(text), bob.id)
    entry = audit.entries(db, audit.wallet_chain(made.wallet_id))[-1]
    assert (entry.type, entry.actor, entry.body) == (
        "comment_added", f"user:{bob.id}", {"proposal": made.id, "comment": added.id, "text_hash": memo_hash(text)})
    assert "roofer" not in str(entry.to_dict())
    [event] = [e for e in outbox.since(db, audit.wallet_chain(made.wallet_id), 0) if e.type == "comment_added"]
    assert event.data == {"wallet_id": made.wallet_id, "proposal": made.id, "comment": added.id, "user": bob.id}


def test_comments_list_oldest_first_and_a_cancelled_proposal_takes_comments(db, proposal):
    made, bob = proposal
    first = comments.add(db, made.wallet_id, made.id, bob.id, "first", now=T0 + 1)
    proposals.cancel(db, made.wallet_id, made.id, actor=bob.id, now=T0 + 2)

    second = comments.add(db, made.wallet_id, made.id, bob.id, "cancelled: the roofer is booked", now=T0 + 3)

    assert [c.id for c in comments.list_for(db, made.wallet_id, made.id)] == [first.id, second.id]


@pytest.mark.parametrize("text", ["", "   \n ", "x" * (comments.MAX_TEXT + 1), "pay \u202eevil", "a\x00b", 42])
def test_an_empty_overlong_or_disguised_comment_is_refused_and_nothing_is_written(db, proposal, text):
    made, bob = proposal
    before = audit.head(db, audit.wallet_chain(made.wallet_id))

    with pytest.raises(InvalidInput) as err:
        comments.add(db, made.wallet_id, made.id, bob.id, text)

    assert err.value.code == "bad_comment"
    assert comments.list_for(db, made.wallet_id, made.id) == []
    assert audit.head(db, audit.wallet_chain(made.wallet_id)) == before


def test_a_comment_of_the_longest_length_is_kept_whole(db, proposal):
    made, bob = proposal
    text = "y" * comments.MAX_TEXT

    assert comments.add(db, made.wallet_id, made.id, bob.id, text).text == text


def test_a_proposal_of_another_wallet_takes_no_comment_and_shows_none(db, proposal):
    made, bob = proposal
    other = wallets.add(db, "Other", "regtest", keys.descriptor(2, 2, first=3))
    comments.add(db, made.wallet_id, made.id, bob.id, "only for this wallet")

    for call in (lambda: comments.add(db, other.id, made.id, bob.id, "crossing over"),
                 lambda: comments.list_for(db, other.id, made.id)):
        with pytest.raises(NotFound) as err:
            call()
        assert err.value.code == "proposal_not_found"
    assert db.execute("SELECT count(*) FROM proposal_comments").fetchone()[0] == 1
