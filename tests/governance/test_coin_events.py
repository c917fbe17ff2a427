"""Freezing, unfreezing and label imports announce themselves in the wallet's room
(coin_frozen, coin_unfrozen, labels_changed; docs/events.md): each event is in the
outbox with its change, in the same transaction, carrying the audit head that includes
the change's entry; a refused or empty change writes no event."""

from __future__ import annotations

import pytest

from coordinator.errors import Conflict, InvalidInput
from coordinator.governance import audit, coin_freeze, labels, outbox, proposals
from coordinator.psbt.model import Recipient as Payment
from coordinator.store.db import write

from ..chain.walletenv import chain, client, sandbox, wallet  # noqa: F401  (fixtures)
from .test_coins import RATE, T0, TO, _pair, _spendable, funded  # noqa: F401  (funded is a fixture)


def _room(db, wallet) -> list[outbox.Envelope]:
    return outbox.since(db, audit.wallet_chain(wallet.id), 0)


def test_freezing_and_unfreezing_a_coin_each_write_their_event_with_the_audit_head_of_the_change(db, funded):
    wallet, bob, (first, _) = funded

    coin_freeze.set_frozen(db, wallet.id, _pair(first), True, bob.id, now=T0)
    frozen_head = audit.head(db, audit.wallet_chain(wallet.id)).to_string()
    coin_freeze.set_frozen(db, wallet.id, _pair(first), False, bob.id, now=T0 + 5)

    events = _room(db, wallet)
    assert [(e.type, e.at, e.data) for e in events] == [
        ("coin_frozen", T0, {"wallet_id": wallet.id, "outpoint": first, "by": bob.id, "via": "member"}),
        ("coin_unfrozen", T0 + 5, {"wallet_id": wallet.id, "outpoint": first, "by": bob.id, "via": "member"})]
    assert events[0].audit_head == frozen_head  # the head that holds the coin_frozen entry
    assert events[1].audit_head == audit.head(db, audit.wallet_chain(wallet.id)).to_string()
    assert events[1].seq == events[0].seq + 1


def test_freezing_a_frozen_coin_again_changes_nothing_and_sends_nothing(db, funded):
    wallet, bob, (first, _) = funded
    coin_freeze.set_frozen(db, wallet.id, _pair(first), True, bob.id, now=T0)

    assert coin_freeze.set_frozen(db, wallet.id, _pair(first), True, bob.id, now=T0 + 1) is False

    assert [e.type for e in _room(db, wallet)] == ["coin_frozen"]


def test_a_refused_freeze_writes_no_event(db, funded):
    """A coin a pending proposal holds is refused (coin_locked): the room has only the
    proposal's own event, no coin_frozen."""
    wallet, bob, (first, _) = funded
    proposals.create(db, wallet, bob.id, [Payment(TO, 20_000)], "ink", RATE, coins=[first], now=T0)

    with pytest.raises(Conflict):
        coin_freeze.set_frozen(db, wallet.id, _pair(first), True, bob.id, now=T0)

    assert [e.type for e in _room(db, wallet)] == ["proposal_created"]


def test_the_event_rolls_back_with_its_freeze(db, funded):
    """Written in the freeze's transaction: if the caller's transaction fails after the
    freeze, neither the frozen coin nor its event remains."""
    wallet, bob, (first, _) = funded

    with pytest.raises(RuntimeError), write(db):
        coin_freeze.set_frozen(db, wallet.id, _pair(first), True, bob.id, now=T0)
        raise RuntimeError("the caller's next step failed")

    assert _room(db, wallet) == [] and coin_freeze.frozen(db, wallet.id) == {}


def test_a_label_import_sends_labels_changed_with_how_many_it_changed(db, funded):
    wallet, bob, (first, second) = funded
    text = "\n".join([_spendable(second, False), f'{{"type": "output", "ref": "{first}", "label": "rent"}}',
                      f'{{"type": "tx", "ref": "{_pair(first)[0]}", "label": "from the fair"}}'])

    labels.import_labels(db, wallet.id, "regtest", text, bob.id, now=T0)
    again = labels.import_labels(db, wallet.id, "regtest", text, bob.id, now=T0 + 1)

    events = _room(db, wallet)
    assert [(e.type, e.at, e.data) for e in events] == [
        ("labels_changed", T0, {"wallet_id": wallet.id, "count": 3, "by": bob.id})]
    assert again.applied == 0  # the same file again changes nothing: no second event
    assert events[0].audit_head == audit.head(db, audit.wallet_chain(wallet.id)).to_string()


def test_a_refused_label_import_writes_no_event(db, funded):
    wallet, bob, (first, _) = funded
    text = _spendable(first, False) + '\n{"type": "output", "ref": "not an outpoint", "label": "x"}'

    with pytest.raises(InvalidInput):
        labels.import_labels(db, wallet.id, "regtest", text, bob.id, now=T0)

    assert _room(db, wallet) == [] and coin_freeze.frozen(db, wallet.id) == {}
