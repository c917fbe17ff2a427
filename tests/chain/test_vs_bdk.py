"""The sandbox is faithful enough for BDK's own Esplora client, and Huddle's sync
agrees with BDK on balance, coins and history of the same 2-of-3 wallet.

bdkpython 3.1.1: ``EsploraClient(url).full_scan(request, stop_gap, parallel)``
and ``.sync(request, parallel)``, an in-memory ``Persister``.
"""

from __future__ import annotations

import bdkpython as bdk

from coordinator.chain.sync import sync_wallet
from coordinator.psbt.build import Output

from .spend import send_back, spend
from .walletenv import DESC, OUTSIDE, chain, client, coin, pay, raw_of, sandbox, wallet  # noqa: F401

GAP = 20
PARALLEL = 4


def _bdk_wallet() -> bdk.Wallet:
    kind = bdk.NetworkKind.TEST
    return bdk.Wallet(bdk.Descriptor(DESC.to_string(branch=0), kind), bdk.Descriptor(DESC.to_string(branch=1), kind),
                      bdk.Network.REGTEST, bdk.Persister.new_in_memory())


def _bdk_view(w: bdk.Wallet):
    b = w.balance()
    balance = (b.confirmed.to_sat(), b.trusted_pending.to_sat() + b.untrusted_pending.to_sat(), b.immature.to_sat())
    utxos = {(str(u.outpoint.txid), u.outpoint.vout, u.txout.value.to_sat(),
              0 if u.keychain == bdk.KeychainKind.EXTERNAL else 1, u.derivation_index, _height(u.chain_position))
             for u in w.list_unspent()}
    history = set()
    for ctx in w.transactions():
        tx = ctx.transaction
        sr = w.sent_and_received(tx)
        fee = 0 if tx.is_coinbase() else w.calculate_fee(tx).to_sat()
        history.add((str(tx.compute_txid()), sr.received.to_sat() - sr.sent.to_sat(), fee,
                     _height(ctx.chain_position)))
    return balance, utxos, history


def _height(position) -> int | None:
    return position.confirmation_block_time.block_id.height if position.is_confirmed() else None


def _huddle_view(result):
    b = result.balance
    utxos = {(u.txid, u.vout, u.value, u.branch, u.index, u.height) for u in result.utxos}
    history = {(h.txid, h.net, h.fee, h.height) for h in result.history}
    return (b.confirmed, b.unconfirmed, b.immature), utxos, history


def _busy_wallet(chain, client) -> None:
    """Receives on both branches, gaps, a paged address, spends with change, mempool."""
    for i in (0, 4, 19, 30):
        pay(chain, 0, i, 100_000 + i)
    pay(chain, 1, 2, 60_000, confirm=True)
    for n in range(30):  # more than one page of history on one address
        pay(chain, 0, 4, 1_000 + n)
    chain.mine(1)
    first = next(t for t in chain.confirmed if chain.confirmed[t][0].vout[0].value == 100_000)
    client.broadcast(send_back(DESC, coin(chain, first, 0, 0), raw_of(chain, first), OUTSIDE, fee=800,
                               change_index=5))
    chain.mine(2)
    change = next(t for t in chain.confirmed if chain.confirmed[t][0].vout[0].value == 60_000)
    client.broadcast(spend(DESC, [(coin(chain, change, 1, 2), raw_of(chain, change))],
                           [Output(OUTSIDE, 20_000), Output(DESC.script_pubkey(1, 6).data, 39_000, 6)]))
    pay(chain, 0, 31, 7_777)  # unconfirmed incoming


def test_bdk_full_scan_of_the_sandbox_agrees_with_huddle(chain, sandbox, db, wallet, client):
    _busy_wallet(chain, client)
    bdk_wallet = _bdk_wallet()
    esplora = bdk.EsploraClient(sandbox.url)
    bdk_wallet.apply_update(esplora.full_scan(bdk_wallet.start_full_scan().build(), GAP, PARALLEL))
    ours = sync_wallet(db, wallet, client, gap=GAP)
    theirs = _bdk_view(bdk_wallet)
    assert _huddle_view(ours) == theirs
    assert len(theirs[2]) == 38 and theirs[0][1] > 0  # the scenario really has history and mempool

    # then new activity, seen by BDK's sync of revealed scripts and by ours
    mine = next(u for u in ours.utxos if u.branch == 0 and u.index == 19)
    client.broadcast(send_back(DESC, mine, raw_of(chain, mine.txid), OUTSIDE, fee=1_000, change_index=7))
    chain.mine(1)
    bdk_wallet.apply_update(esplora.sync(bdk_wallet.start_sync_with_revealed_spks().build(), PARALLEL))
    assert _huddle_view(sync_wallet(db, wallet, client, gap=GAP)) == _bdk_view(bdk_wallet)
