"""Coin control in the core, on the regtest sandbox: the wallet's coins listed with their
values, confirmations, addresses, derivations, BIP-329 labels and the proposal holding
them; a proposal made with chosen coins spends exactly those; and each bad choice is
refused with its own code (malformed, chosen twice, foreign, spent, locked).

Frozen coins (BIP-329 ``spendable: false``, from a label import or a member) and
coinbase outputs short of 100 confirmations are listed with why, never taken by
automatic selection, a fee bump or a sweep, and refused when chosen (coin_frozen,
coin_immature); freezing and unfreezing are audited and the export carries them."""

from __future__ import annotations

import pytest
from embit.networks import NETWORKS
from embit.psbt import PSBT
from embit.script import Script

from coordinator.accounts import users
from coordinator.chain.sandbox import faucet
from coordinator.chain.sync import sync_wallet
from coordinator.errors import Conflict, InvalidInput
from coordinator.governance import audit, coin_freeze, coins, labels, proposals, replacements
from coordinator.psbt.finalize import finalize
from coordinator.psbt.model import Recipient as Payment
from coordinator.psbt.spend import plan_spend
from coordinator.store import chain as chain_store

from ..chain.walletenv import DESC, OUTSIDE, chain, client, pay, sandbox, wallet  # noqa: F401  (fixtures)
from .test_wallet_setup import people  # noqa: F401  (a fixture)
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


# -- frozen coins (BIP-329 spendable) --------------------------------------------------

def _import(db, wallet, who, *records: str) -> None:
    labels.import_labels(db, wallet.id, "regtest", "\n".join(records), who.id, now=T0)


def _spendable(outpoint: str, value: bool) -> str:
    return f'{{"type": "output", "ref": "{outpoint}", "spendable": {str(value).lower()}}}'


def test_a_coin_a_label_import_froze_is_listed_frozen_by_the_import(db, funded):
    wallet, bob, (first, second) = funded
    _import(db, wallet, bob, _spendable(second, False))

    listed = {c.outpoint: c.to_dict() for c in coins.listing(db, wallet).coins}

    frozen = listed[second]
    assert (frozen["frozen"], frozen["frozen_via"], frozen["frozen_by"], frozen["frozen_at"]) == (
        True, "import", bob.id, T0)
    assert frozen["frozen_reason"] == "frozen by label import (Bob)"
    assert (listed[first]["frozen"], listed[first]["frozen_reason"]) == (False, None)
    totals = coins.listing(db, wallet).to_dict()
    assert (totals["free"], totals["spendable"]) == (150_000, 60_000)


def test_automatic_selection_never_takes_a_frozen_coin(db, funded):
    """80,000 sat needs the 90,000 sat coin: frozen, the spend cannot be paid; unfrozen
    by a later import (spendable true, as Sparrow exports it), the spend takes it."""
    wallet, bob, (first, second) = funded
    _import(db, wallet, bob, _spendable(second, False))

    with pytest.raises(InvalidInput) as refused:
        proposals.create(db, wallet, bob.id, [Payment(TO, 80_000)], "van", RATE, now=T0)
    assert refused.value.code == "insufficient_funds" and refused.value.details["available"] == 60_000

    _import(db, wallet, bob, _spendable(second, True))
    made = proposals.create(db, wallet, bob.id, [Payment(TO, 80_000)], "van", RATE, now=T0)
    assert second in _inputs(made)


def test_choosing_a_frozen_coin_is_refused_until_a_member_unfreezes_it(db, funded):
    wallet, bob, (first, second) = funded
    ada = users.create(db, "Ada")
    assert coin_freeze.set_frozen(db, wallet.id, _pair(first), True, ada.id, now=T0) is True

    with pytest.raises(Conflict) as refused:
        proposals.create(db, wallet, bob.id, [Payment(TO, 10_000)], "paper", RATE, coins=[second, first], now=T0)
    assert refused.value.code == "coin_frozen"
    assert refused.value.details == {"outpoint": first, "frozen_via": "member", "frozen_by": ada.id}
    assert "frozen by Ada" in refused.value.message
    assert proposals.list_for(db, wallet.id) == []

    coin_freeze.set_frozen(db, wallet.id, _pair(first), False, ada.id, now=T0 + 1)
    made = proposals.create(db, wallet, bob.id, [Payment(TO, 10_000)], "paper", RATE, coins=[first], now=T0)
    assert _inputs(made) == [first]


def test_each_freeze_and_unfreeze_is_an_audit_entry_and_the_export_carries_it(db, funded):
    wallet, bob, (first, _) = funded
    txid, vout = _pair(first)

    changes = [coin_freeze.set_frozen(db, wallet.id, (txid, vout), state, bob.id, now=T0 + i)
               for i, state in enumerate((True, True, False, False))]
    unfrozen_export = labels.export(db, wallet.id)

    assert changes == [True, False, True, False]  # the same state again changes nothing
    entries = [(e.type, e.body, e.actor) for e in audit.entries(db, audit.wallet_chain(wallet.id))
               if e.type.startswith("coin_")]
    assert entries == [("coin_frozen", {"outpoint": first}, f"user:{bob.id}"),
                       ("coin_unfrozen", {"outpoint": first}, f"user:{bob.id}")]
    assert _spendable(first, True) in unfrozen_export  # Sparrow unfreezes on reading it
    coin_freeze.set_frozen(db, wallet.id, (txid, vout), True, bob.id, now=T0 + 9)
    assert _spendable(first, False) in labels.export(db, wallet.id)


def test_a_label_only_import_keeps_who_froze_the_coin_and_the_export_round_trips(db, funded):
    wallet, bob, (first, _) = funded
    ada = users.create(db, "Ada")
    coin_freeze.set_frozen(db, wallet.id, _pair(first), True, ada.id, now=T0)
    _import(db, wallet, bob, f'{{"type": "output", "ref": "{first}", "label": "dust attack?"}}')

    coin = _listed(db, wallet, first)
    exported = labels.export(db, wallet.id)
    again = labels.import_labels(db, wallet.id, "regtest", exported, bob.id)

    assert (coin.label, coin.frozen.via, coin.frozen.by_name) == ("dust attack?", "member", "Ada")
    assert f'{{"type": "output", "ref": "{first}", "label": "dust attack?", "spendable": false}}' in exported
    assert again.applied == 0 and _listed(db, wallet, first).frozen.by_name == "Ada"


def test_a_coin_a_pending_proposal_holds_cannot_be_frozen(db, funded):
    wallet, bob, (first, _) = funded
    holder = proposals.create(db, wallet, bob.id, [Payment(TO, 20_000)], "ink", RATE, coins=[first], now=T0)

    with pytest.raises(Conflict) as refused:
        coin_freeze.set_frozen(db, wallet.id, _pair(first), True, bob.id, now=T0)

    assert refused.value.code == "coin_locked" and refused.value.details == {"outpoint": first,
                                                                             "proposal": holder.id}
    assert _listed(db, wallet, first).frozen is None


def test_a_fee_bump_never_adds_a_frozen_coin(db, funded):
    """The original spends all of one coin, with no change to take the bump's fee from:
    the bump must add a coin, and the only other one is frozen."""
    wallet, bob, (first, second) = funded
    original = proposals.create(db, wallet, bob.id, [Payment(TO, 59_500)], "all of one coin", RATE,
                                coins=[first], fee_ceiling=20_000, now=T0)
    coin_freeze.set_frozen(db, wallet.id, _pair(second), True, bob.id, now=T0)

    with pytest.raises(InvalidInput) as refused:
        replacements.bump(db, wallet, original.id, bob.id, 10_000, now=T0 + 1)

    assert refused.value.code == "insufficient_funds"
    coin_freeze.set_frozen(db, wallet.id, _pair(second), False, bob.id, now=T0 + 2)
    assert set(_inputs(replacements.bump(db, wallet, original.id, bob.id, 10_000, now=T0 + 3))) == {first, second}


def _pair(outpoint: str) -> tuple[str, int]:
    txid, vout = outpoint.split(":")
    return txid, int(vout)


def _listed(db, wallet, outpoint: str) -> coins.Coin:
    return next(c for c in coins.listing(db, wallet).coins if c.outpoint == outpoint)


# -- immature coinbase outputs (COINBASE_MATURITY) ---------------------------------------

@pytest.fixture
def with_coinbase(db, funded, chain, client):
    """Besides the two coins, a block's coinbase paid to receive 2, one block deep, synced."""
    wallet, bob, outpoints = funded
    chain.mine(1, script_pubkey=DESC.script_pubkey(0, 2).data)
    sync_wallet(db, wallet, client)
    reward = next(u for u in chain_store.utxos(db, wallet.id) if u.coinbase)
    return wallet, bob, outpoints, reward.outpoint


def test_an_immature_coinbase_is_listed_with_the_confirmations_it_still_needs(db, with_coinbase):
    wallet, _, _, reward = with_coinbase

    coin = _listed(db, wallet, reward).to_dict()

    assert (coin["coinbase"], coin["mature"], coin["confirmations"], coin["confirmations_needed"]) == (
        True, False, 1, 99)
    assert coins.listing(db, wallet).to_dict()["spendable"] == 150_000


def test_automatic_selection_leaves_an_immature_coinbase_which_the_node_would_refuse(db, with_coinbase, chain):
    """A billion sat is more than the two coins hold, but less than the coinbase: without
    it the spend cannot be paid. Built by hand with it, the sandbox node refuses it."""
    wallet, bob, _, reward = with_coinbase

    with pytest.raises(InvalidInput) as refused:
        proposals.create(db, wallet, bob.id, [Payment(TO, 1_000_000_000)], "a boat", RATE, now=T0)

    assert refused.value.code == "insufficient_funds" and refused.value.details["available"] == 150_000
    tip = chain_store.sync_state(db, wallet.id).tip_height
    forced = plan_spend(DESC, "regtest", chain_store.coins(db, wallet.id), [Payment(TO, 1_000_000_000)], RATE, 0,
                        tip, coins=[reward])
    final = finalize(sign(forced.psbt, [0, 1]), DESC, coins=chain_store.coins(db, wallet.id))
    assert "premature-spend-of-coinbase" in chain.test_accept(final.tx)


def test_choosing_an_immature_coinbase_is_refused_until_it_has_100_confirmations(db, with_coinbase, chain,
                                                                                  client):
    wallet, bob, (first, _), reward = with_coinbase

    with pytest.raises(Conflict) as refused:
        proposals.create(db, wallet, bob.id, [Payment(TO, 10_000)], "ink", RATE, coins=[first, reward], now=T0)

    assert refused.value.code == "coin_immature"
    assert refused.value.details == {"outpoint": reward, "confirmations": 1, "needed": 99}
    chain.mine(99)
    sync_wallet(db, wallet, client)
    made = proposals.create(db, wallet, bob.id, [Payment(TO, 10_000)], "ink", RATE, coins=[reward], now=T0)
    final = finalize(sign(PSBT.from_base64(made.psbt), [0, 1]), DESC, coins=chain_store.coins(db, wallet.id))
    assert chain.test_accept(final.tx) is None  # 100 confirmations: the node takes it


def test_a_coin_an_import_froze_before_the_upgrade_is_listed_frozen_by_that_import(db_path):
    """m060 adds who set spendable; rows an import wrote before are the import's."""
    import sqlite3

    from sqlite_utils import Database

    from coordinator.store import open_database, wallets
    from coordinator.store.migrations import MIGRATIONS

    before = Database(sqlite3.connect(str(db_path), isolation_level=None))
    MIGRATIONS.apply(before, stop_before="m060_frozen_by")
    wallet_id = wallets.add(before, "co-op", "regtest", DESC).id
    before["users"].insert({"id": 7, "name": "Bob", "created_at": T0})
    ref = f"{'ab' * 32}:1"
    before["wallet_labels"].insert({"wallet_id": wallet_id, "type": "output", "ref": ref, "spendable": 0,
                                    "updated_by": 7, "updated_at": T0})
    before.conn.close()

    db = open_database(db_path)
    try:
        found = coin_freeze.frozen(db, wallet_id)
    finally:
        db.close()

    assert found == {("ab" * 32, 1): coin_freeze.Freeze("import", 7, "Bob", T0)}


def test_a_sweep_leaves_a_frozen_coin_and_an_immature_coinbase_behind(db, people, chain, client):
    """A retired wallet's sweep moves the coins automatic selection may take; the frozen
    one and the young coinbase stay, listed as unswept."""
    from coordinator.governance import successor, sweep, wallet_setup
    from coordinator.store import wallets

    from .test_successor import _activate, _active
    from .test_wallet_setup import key_text

    admin, members = people
    old_id = _active(db, people)
    old = wallets.get(db, "Family vault")
    spk = [old.descriptor.script_pubkey(0, i).data for i in range(3)]
    kept, frozen_txid = (faucet.pay(chain, spk[i], value, confirm=True) for i, value in enumerate((60_000, 90_000)))
    chain.mine(1, script_pubkey=spk[2])
    sync_wallet(db, old, client)
    by_txid = {u.txid: u for u in chain_store.utxos(db, old_id)}
    reward = next(u.outpoint for u in by_txid.values() if u.coinbase)
    coin_freeze.set_frozen(db, old_id, (frozen_txid, by_txid[frozen_txid].vout), True, members[0].id)
    draft = successor.start(db, old_id, admin.id, [{"keep": 0}, {"keep": 1}, {"owner": members[3].id}], 2)
    _activate(db, wallet_setup.fill(db, draft.id, 2, members[3].id, key_text(3)), [members[0], members[1], members[3]])

    made = sweep.propose(db, old_id, members[0].id, 2_000)

    [swept] = made["proposals"]
    assert _inputs(proposals.get(db, old_id, swept["id"])) == [by_txid[kept].outpoint]
    assert sorted(sweep.status(db, old_id)["unswept"]) == sorted([by_txid[frozen_txid].outpoint, reward])
