"""Coin control in the core, on the regtest sandbox: the wallet's coins listed with their
values, confirmations, addresses, derivations, BIP-329 labels and the proposal holding
them; a proposal made with chosen coins spends exactly those; and each bad choice is
refused with its own code (malformed, chosen twice, foreign, spent, locked)."""

from __future__ import annotations

import pytest
from embit.networks import NETWORKS
from embit.psbt import PSBT
from embit.script import Script

from coordinator.accounts import users
from coordinator.chain.sync import sync_wallet
from coordinator.errors import Conflict, InvalidInput
from coordinator.governance import coins, labels, proposals
from coordinator.psbt.finalize import finalize
from coordinator.psbt.model import Recipient as Payment
from coordinator.psbt.spend import plan_spend
from coordinator.store import chain as chain_store

from ..chain.walletenv import DESC, OUTSIDE, chain, client, pay, sandbox, wallet  # noqa: F401  (fixtures)
from ..psbt.chain import sign

T0 = 1_767_225_600
TO = Script(OUTSIDE).address(NETWORKS["regtest"])  # someone else's P2WPKH
RATE = 2_000  # sat/kvB


@pytest.fixture
def funded(chain, db, wallet, client):
    """Coins of 60,000 and 90,000 sat at receive 0 and 1, a block apart, synced; a proposer."""
    txids = [pay(chain, 0, index, amount, confirm=True) for index, amount in enumerate((60_000, 90_000))]
    sync_wallet(db, wallet, client)
    by_txid = {u.txid: u.outpoint for u in chain_store.utxos(db, wallet.id)}
    return wallet, users.create(db, "Bob"), [by_txid[t] for t in txids]


def _inputs(proposal) -> list[str]:
    return [f"{vin.txid.hex()}:{vin.vout}" for vin in PSBT.from_base64(proposal.psbt).tx.vin]


def test_the_listing_gives_each_coins_value_confirmations_address_and_derivation(db, funded):
    wallet, _, (first, second) = funded

    listed = coins.listing(db, wallet)

    assert [(c.outpoint, c.value, c.confirmations, c.branch, c.index) for c in listed.coins] == [
        (first, 60_000, 2, 0, 0), (second, 90_000, 1, 0, 1)]
    assert [c.address for c in listed.coins] == [DESC.address(0, i, "regtest") for i in (0, 1)]
    assert listed.to_dict()["total"] == listed.to_dict()["free"] == 150_000
    shown = listed.to_dict()["coins"][1]
    assert (shown["value"], shown["branch"], shown["height"], shown["locked"]) == (90_000, "receive",
                                                                                  listed.tip_height, False)


def test_each_coin_carries_its_most_specific_bip329_label(db, funded):
    wallet, bob, (first, second) = funded
    text = "\n".join([
        f'{{"type": "output", "ref": "{first}", "label": "float for the bar"}}',
        f'{{"type": "tx", "ref": "{first.split(":")[0]}", "label": "the funding tx"}}',
        f'{{"type": "addr", "ref": "{DESC.address(0, 1, "regtest")}", "label": "donations box"}}'])
    labels.import_labels(db, wallet.id, "regtest", text, bob.id)

    listed = coins.listing(db, wallet).coins

    assert [(c.label, c.label_from) for c in listed] == [("float for the bar", "output"), ("donations box", "addr")]


def test_a_wallet_never_synced_lists_no_coins(db, wallet):
    listed = coins.listing(db, wallet)

    assert (listed.tip_height, listed.coins, listed.to_dict()["total"]) == (None, (), 0)


def test_a_proposal_with_one_chosen_coin_spends_exactly_that_coin(db, funded):
    wallet, bob, (first, second) = funded

    made = proposals.create(db, wallet, bob.id, [Payment(TO, 20_000)], "ink", RATE, coins=[second], now=T0)

    assert _inputs(made) == [second]  # automatic selection could have taken either


def test_a_coin_held_by_a_pending_proposal_is_listed_as_locked_by_it_and_refused(db, funded):
    wallet, bob, (first, second) = funded
    holder = proposals.create(db, wallet, bob.id, [Payment(TO, 20_000)], "ink", RATE, coins=[first], now=T0)

    listed = {c.outpoint: c for c in coins.listing(db, wallet).coins}
    with pytest.raises(Conflict) as refused:
        proposals.create(db, wallet, bob.id, [Payment(TO, 10_000)], "paper", RATE, coins=[first], now=T0)

    assert (listed[first].locked, listed[first].locked_by) == (True, holder.id)
    assert (listed[second].locked, listed[second].locked_by) == (False, None)
    assert refused.value.code == "coin_locked" and refused.value.details["outpoint"] == first
    proposals.cancel(db, wallet.id, holder.id, actor=bob.id)
    assert not any(c.locked for c in coins.listing(db, wallet).coins)


@pytest.mark.parametrize("chosen, code", [
    (["not-an-outpoint"], "coin_malformed"),
    ([f"{'ab' * 32}:4294967296"], "coin_malformed"),
    ([7], "coin_malformed"),
    (["{first}", "{first}"], "coin_duplicate"),
    ([f"{'ab' * 32}:0"], "coin_foreign"),
])
def test_a_bad_choice_of_coins_is_refused_with_its_own_code(db, funded, chosen, code):
    wallet, bob, (first, _) = funded
    chosen = [c.format(first=first) if isinstance(c, str) else c for c in chosen]

    with pytest.raises(InvalidInput) as refused:
        proposals.create(db, wallet, bob.id, [Payment(TO, 10_000)], "paper", RATE, coins=chosen, now=T0)

    assert refused.value.code == code
    assert proposals.list_for(db, wallet.id) == []


def test_an_output_the_wallet_paid_to_someone_else_is_foreign(db, funded, chain, client):
    wallet, bob, (first, _) = funded
    txid = _spend_outside_huddle(db, wallet, chain, client, first)
    paid = next(f"{txid}:{n}" for n, out in enumerate(_tx(chain, txid).vout) if out.script_pubkey.data == OUTSIDE)

    with pytest.raises(InvalidInput) as refused:
        proposals.create(db, wallet, bob.id, [Payment(TO, 10_000)], "paper", RATE, coins=[paid], now=T0)

    assert refused.value.code == "coin_foreign"


def test_a_coin_the_wallet_already_spent_is_refused_naming_the_spending_transaction(db, funded, chain, client):
    wallet, bob, (first, _) = funded
    txid = _spend_outside_huddle(db, wallet, chain, client, first)

    with pytest.raises(Conflict) as refused:
        proposals.create(db, wallet, bob.id, [Payment(TO, 10_000)], "paper", RATE, coins=[first.upper()], now=T0)

    assert refused.value.code == "coin_spent" and refused.value.details == {"outpoint": first, "spent_by": txid}
    assert first not in [c.outpoint for c in coins.listing(db, wallet).coins]


def _spend_outside_huddle(db, wallet, chain, client, outpoint: str) -> str:
    """The coin spent to someone else by the cosigners, with no proposal; mined and synced."""
    tip = chain_store.sync_state(db, wallet.id).tip_height
    spend = plan_spend(DESC, "regtest", chain_store.coins(db, wallet.id), [Payment(TO, 30_000)], RATE, 0, tip,
                       coins=[outpoint])
    final = finalize(sign(spend.psbt, [0, 1]), DESC, coins=chain_store.coins(db, wallet.id))
    txid = chain.submit(final.tx)
    chain.mine(1)
    sync_wallet(db, wallet, client)
    return txid


def _tx(chain, txid: str):
    from embit.transaction import Transaction

    from ..chain.walletenv import raw_of

    return Transaction.parse(raw_of(chain, txid))
