"""Wallet sync against the sandbox: discovery, coins, balance, history, events,
reorgs, dropped transactions and conflicting spends of locked coins."""

from __future__ import annotations

from coordinator.chain import events as ev
from coordinator.chain.sandbox import faucet
from coordinator.chain.sync import sync_wallet
from coordinator.psbt.build import Output
from coordinator.store import chain as stored
from coordinator.wallet import addresses

from .spend import send_back, spend
from .walletenv import DESC, OUTSIDE, chain, client, coin, pay, raw_of, sandbox, wallet  # noqa: F401


def _types(result) -> list[str]:
    return [e.type for e in result.events]


def test_first_sync_finds_coins_on_both_branches_with_confirmations(chain, db, wallet, client):
    pay(chain, 0, 0, 100_000, confirm=True)
    chain.mine(2)
    pay(chain, 1, 3, 5_000, confirm=True)
    pay(chain, 0, 7, 20_000)
    result = sync_wallet(db, wallet, client)
    assert result.balance.confirmed == 105_000 and result.balance.unconfirmed == 20_000
    assert result.used == {0: 7, 1: 3}
    confirmations = {(u.branch, u.index): u.confirmations(result.tip_height) for u in result.utxos}
    assert confirmations == {(0, 0): 4, (1, 3): 1, (0, 7): 0}
    assert _types(result).count("tx_seen") == 3 and _types(result)[-1] == "balance_changed"


def test_used_addresses_are_marked_and_the_view_is_stored(chain, db, wallet, client):
    pay(chain, 0, 2, 10_000, confirm=True)
    pay(chain, 1, 0, 10_000, confirm=True)
    sync_wallet(db, wallet, client)
    used = {(a.branch, a.index) for b in (0, 1) for a in addresses.listing(db, wallet, b, 0, 5) if a.used}
    assert used == {(0, 2), (1, 0)}
    assert addresses.issue(db, wallet).index == 3  # never hands out an address that was paid
    assert stored.sync_state(db, wallet.id).balance.confirmed == 20_000
    assert len(stored.utxos(db, wallet.id)) == 2 and len(stored.history(db, wallet.id)) == 2


def test_discovery_stops_after_the_gap_limit_of_unused_addresses(chain, db, wallet, client):
    pay(chain, 0, 19, 1_000)  # 19 unused before it: found
    pay(chain, 0, 39, 1_000)  # 19 unused after index 19: found
    pay(chain, 0, 60, 1_000)  # 20 unused after index 39: beyond the gap, as in BDK and Core
    result = sync_wallet(db, wallet, client)
    assert result.used == {0: 39}
    assert result.balance.unconfirmed == 2_000
    assert client.requests == 2 + 60 + 20  # tip, receive 0..59, change 0..19


def test_history_has_net_amount_and_fee_for_a_spend_with_change(chain, db, wallet, client):
    funding = pay(chain, 0, 0, 100_000, confirm=True)
    raw = send_back(DESC, coin(chain, funding, 0, 0), raw_of(chain, funding), OUTSIDE, fee=700,
                    change_index=0)
    spent = client.broadcast(raw)
    result = sync_wallet(db, wallet, client)
    by_txid = {h.txid: h for h in result.history}
    assert by_txid[funding].net == 100_000
    assert by_txid[spent].net == -(50_000 + 700) and by_txid[spent].fee == 700
    assert by_txid[spent].raw == raw and by_txid[spent].height is None
    assert result.history[0].txid == spent  # mempool first
    assert result.balance.unconfirmed == 100_000 - 50_000 - 700 and result.balance.confirmed == 0


def test_a_confirmation_becomes_an_event_and_balances_move(chain, db, wallet, client):
    txid = pay(chain, 0, 0, 40_000)
    sync_wallet(db, wallet, client)
    chain.mine(1)
    seen = []
    result = sync_wallet(db, wallet, client, on_event=seen.append)
    assert seen == result.events
    assert result.events[0] == ev.TxConfirmed(wallet.id, txid, chain.height)
    assert result.events[1] == ev.BalanceChanged(wallet.id, 40_000, 0, 0, 0, 40_000, 0)


def test_a_second_sync_with_nothing_new_has_no_events(chain, db, wallet, client):
    pay(chain, 0, 0, 40_000, confirm=True)
    sync_wallet(db, wallet, client)
    assert sync_wallet(db, wallet, client).events == []


def test_a_reorg_sends_the_transaction_back_to_the_mempool_then_into_another_block(chain, db, wallet, client):
    txid = pay(chain, 0, 0, 40_000, confirm=True)
    height, old_hash = chain.height, chain.tip.hash
    sync_wallet(db, wallet, client)
    chain.invalidate(height)
    result = sync_wallet(db, wallet, client)
    assert ev.ChainReorged(wallet.id, height, old_hash, None) in result.events
    assert ev.TxReorged(wallet.id, txid, height, None) in result.events
    assert result.balance.unconfirmed == 40_000 and result.balance.confirmed == 0
    chain.mine(1)
    assert ev.TxConfirmed(wallet.id, txid, height) in sync_wallet(db, wallet, client).events
    chain.invalidate(height)
    faucet.pay(chain, OUTSIDE, 7_000)  # so the new block at that height differs
    chain.mine(1)
    result = sync_wallet(db, wallet, client)
    assert ev.TxReorged(wallet.id, txid, height, height) in result.events
    assert any(e.type == "chain_reorged" for e in result.events)


def test_a_replaced_transaction_is_reported_dropped(chain, db, wallet, client):
    funding = pay(chain, 0, 0, 100_000, confirm=True)
    mine = coin(chain, funding, 0, 0)
    first = client.broadcast(send_back(DESC, mine, raw_of(chain, funding), OUTSIDE, fee=500, change_index=0))
    sync_wallet(db, wallet, client)
    second = client.broadcast(send_back(DESC, mine, raw_of(chain, funding), OUTSIDE, fee=5_000, change_index=0))
    result = sync_wallet(db, wallet, client)
    assert ev.TxDropped(wallet.id, first, None) in result.events
    assert ev.TxSeen(wallet.id, second, -(50_000 + 5_000), 5_000, None) in result.events


def test_a_locked_coin_spent_by_an_unknown_transaction_is_a_conflict(chain, db, wallet, client):
    funding = pay(chain, 0, 0, 100_000, confirm=True)
    mine = coin(chain, funding, 0, 0)
    expected = spend(DESC, [(mine, raw_of(chain, funding))], [Output(OUTSIDE, 90_000)])
    intruder = client.broadcast(spend(DESC, [(mine, raw_of(chain, funding))], [Output(OUTSIDE, 99_000)]))
    from coordinator.chain.broadcast import txid_of

    locked = {mine.outpoint: txid_of(expected)}
    result = sync_wallet(db, wallet, client, locked=locked)
    assert result.conflicts == [ev.ConflictDetected(wallet.id, mine.outpoint, intruder, txid_of(expected), None)]
    assert result.conflicts[0] in result.events
    assert sync_wallet(db, wallet, client, locked={mine.outpoint: intruder}).conflicts == []


def test_a_locked_coin_spent_by_its_own_proposal_is_no_conflict(chain, db, wallet, client):
    funding = pay(chain, 0, 0, 100_000, confirm=True)
    mine = coin(chain, funding, 0, 0)
    ours = client.broadcast(spend(DESC, [(mine, raw_of(chain, funding))], [Output(OUTSIDE, 90_000)]))
    chain.mine(1)
    assert sync_wallet(db, wallet, client, locked={mine.outpoint: ours}).conflicts == []
    # a lock whose proposal is not final yet: any spend is a conflict
    assert len(sync_wallet(db, wallet, client, locked={mine.outpoint: None}).conflicts) == 1


def test_events_serialise_to_the_socket_shape(chain, db, wallet, client):
    txid = pay(chain, 0, 0, 1_000)
    event = sync_wallet(db, wallet, client).events[0]
    assert event.to_dict() == {"type": "tx_seen", "wallet_id": wallet.id, "txid": txid, "net": 1_000,
                               "fee": chain.mempool[txid].fee, "height": None}
