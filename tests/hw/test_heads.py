"""The agent remembers the audit head it saw and refuses to sign when history no longer extends it."""

from __future__ import annotations

import pytest

from coordinator.errors import HuddleError
from coordinator.governance.audit import EMPTY, Entry
from coordinator.hw.heads import HeadStore, parse_exported

from .. import keys

CHAIN = "wallet:1"


def build(pinned, events, start=None, chain=CHAIN):
    """A real hash chain: wallet_created for the pinned wallet, then ``events`` (type, body)."""
    entries = list(start or [])
    if not entries:
        events = [("wallet_created", {"policy_id": pinned.descriptor.policy_id, "network": "testnet",
                                      "name": pinned.name}), *events]
    for type_, body in events:
        seq, prev = (entries[-1].seq, entries[-1].hash) if entries else (EMPTY.seq, EMPTY.hash)
        entry = Entry(chain, seq + 1, prev, 1_700_000_000 + seq, "alice", type_, body, "")
        entries.append(Entry(**{**entry.__dict__, "hash": entry.computed_hash()}))
    return entries


def exported(entries):
    return [e.to_dict() for e in entries]


@pytest.fixture
def heads(store):
    return HeadStore(store)


def refused(heads, pinned, entries) -> str:
    before = heads.get(pinned)
    with pytest.raises(HuddleError) as err:
        heads.advance(pinned, exported(entries))
    assert heads.get(pinned) == before  # the old head is kept
    return err.value.code


def test_a_new_chain_for_the_pinned_wallet_sets_the_head(heads, pinned):
    chain = build(pinned, [("member_joined", {"user": 2})])
    assert heads.advance(pinned, exported(chain)).seq == 2
    chain_key, head = heads.get(pinned)
    assert chain_key == CHAIN and (head.seq, head.hash) == (2, chain[-1].hash)


def test_a_chain_that_does_not_begin_with_the_pinned_wallet_is_refused(heads, pinned, store):
    other, _ = store.pin("other", "testnet", keys.descriptor(2, 3, first=2))
    assert refused(heads, pinned, build(other, [])) == "history_rewritten"


def test_entries_after_the_head_move_it_on(heads, pinned):
    chain = build(pinned, [("member_joined", {"user": 2})])
    heads.advance(pinned, exported(chain))
    longer = build(pinned, [("approval_added", {"member": 2})], start=chain)

    assert heads.advance(pinned, exported(longer[2:])).seq == 3
    assert heads.advance(pinned, exported(longer)).seq == 3  # the whole chain again: still on it


def test_an_edited_past_is_refused_and_the_head_kept(heads, pinned):
    chain = build(pinned, [("member_joined", {"user": 2}), ("approval_added", {"member": 2})])
    heads.advance(pinned, exported(chain))
    rewritten = build(pinned, [("member_joined", {"user": 9}), ("approval_added", {"member": 2}),
                               ("approval_added", {"member": 3})])

    assert refused(heads, pinned, rewritten) == "history_rewritten"


def test_a_fork_after_the_head_is_refused(heads, pinned):
    chain = build(pinned, [("member_joined", {"user": 2})])
    heads.advance(pinned, exported(chain))
    fork = build(pinned, [("member_joined", {"user": 3}), ("approval_added", {"member": 3})], start=chain[:1])

    assert refused(heads, pinned, fork[2:]) == "history_rewritten"


def test_a_shorter_history_is_refused(heads, pinned):
    chain = build(pinned, [("member_joined", {"user": 2}), ("approval_added", {"member": 2})])
    heads.advance(pinned, exported(chain))
    assert refused(heads, pinned, chain[:2]) == "history_rewritten"


def test_another_chain_is_refused(heads, pinned):
    chain = build(pinned, [])
    heads.advance(pinned, exported(chain))
    elsewhere = build(pinned, [("member_joined", {"user": 2})], start=chain, chain="wallet:2")[1:]
    assert refused(heads, pinned, elsewhere) == "history_rewritten"


def test_an_exported_file_that_is_not_a_chain_is_malformed():
    with pytest.raises(HuddleError) as err:
        parse_exported("{not json")
    assert err.value.code == "audit_malformed"
