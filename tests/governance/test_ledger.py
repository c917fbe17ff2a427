"""The group ledger on the regtest sandbox: two coins come in, a proposal pays
someone, two cosigners sign it with the test seeds, it is broadcast and mined.
The ledger names each transaction's amounts, fee, height, memo, proposer,
approver and signers, keeps a running confirmed balance, and agrees with chain
sync and with bdkpython about the money."""

from __future__ import annotations

import csv
import io

import bdkpython as bdk
import pytest
from embit.networks import NETWORKS
from embit.psbt import PSBT
from embit.script import Script

from coordinator.accounts import users
from coordinator.chain.sync import sync_wallet
from coordinator.governance import approvals, audit, ledger, ledger_csv, proposals, replacements
from coordinator.governance.approvals import PasskeyApproval
from coordinator.psbt.model import Recipient as Payment
from coordinator.store import chain as chain_store

from .. import keys
from ..authenticator import SoftAuthenticator, b64url
from ..chain.spend import send_back
from ..chain.walletenv import DESC, OUTSIDE, chain, client, coin, pay, raw_of, sandbox, wallet  # noqa: F401
from ..psbt.chain import sign

TO = Script(OUTSIDE).address(NETWORKS["regtest"])
RP_ID, ORIGIN = "localhost", "http://localhost:5000"
MEMO = "=roof repair, invoice 12"


@pytest.fixture
def funded(chain, db, wallet, client):
    """100,000 then 50,000 sat in, each in its own block; Bob proposes paying 30,000."""
    pay(chain, 0, 0, 100_000, confirm=True)
    pay(chain, 0, 1, 50_000, confirm=True)
    sync_wallet(db, wallet, client)
    bob, carol = users.create(db, "Bob"), users.create(db, "Carol")
    proposal = proposals.create(db, wallet, bob.id, [Payment(TO, 30_000)], MEMO, 2_000)
    return wallet, bob, carol, proposal


def _approve(db, proposal, member) -> None:
    device = SoftAuthenticator(ORIGIN, RP_ID)
    approval = PasskeyApproval.from_credential(f"user:{member.id}",
                                               device.get({"challenge": b64url(proposal.intent.digest())}))
    approvals.record(db, proposal, member.id, approval, device.cose_public_key(), RP_ID, ORIGIN)


def _sign_and_record(db, wallet, proposal, signer_users: dict[int, int | None]) -> str:
    """Seeds ``signer_users`` (seed index -> member, or None for a QR device) sign;
    each signature is recorded as the ceremony does (contracts.md section 4)."""
    signed = sign(PSBT.from_base64(proposal.psbt), list(signer_users))
    fingerprints = {keys.fingerprint(i): user for i, user in signer_users.items()}
    for index, scope in enumerate(signed.inputs):
        for pub in scope.partial_sigs:
            user = fingerprints[scope.bip32_derivations[pub].fingerprint.hex()]
            audit.append_to_wallet(db, wallet.id, "signature_added",
                                   {"proposal": proposal.id, "input": index, "pubkey": pub.sec().hex(),
                                    "user": user, "channel": "upload" if user else "qr"}, actor="system")
    return signed.to_base64()


def _broadcast(client, signed_b64: str) -> tuple[bytes, bdk.Psbt]:
    finalized = bdk.Psbt(signed_b64).finalize()
    assert finalized.could_finalize, finalized.errors
    raw = bytes(finalized.psbt.extract_tx().serialize())
    client.broadcast(raw)
    return raw, bdk.Psbt(signed_b64)


def test_incoming_coins_appear_with_a_running_confirmed_balance(db, funded):
    wallet = funded[0]

    book = ledger.build(db, wallet.id)

    assert [(e.direction, e.net, e.fee, e.balance_after) for e in book.entries] == [
        ("incoming", 100_000, None, 100_000), ("incoming", 50_000, None, 150_000)]
    assert [e.height for e in book.entries] == sorted(e.height for e in book.entries)
    assert all(e.memo is None and e.proposer is None and e.confirmations >= 1 for e in book.entries)
    assert book.confirmed == 150_000 and book.pending == 0


def test_a_proposal_signed_broadcast_and_mined_shows_why_and_who(db, funded, chain, client):
    wallet, bob, carol, proposal = funded
    _approve(db, proposal, carol)
    signed = _sign_and_record(db, wallet, proposal, {0: bob.id, 1: None})
    raw, theirs = _broadcast(client, signed)
    sync_wallet(db, wallet, client)

    pending = ledger.build(db, wallet.id).entries[-1]
    chain.mine(1)
    sync_wallet(db, wallet, client)
    book = ledger.build(db, wallet.id)
    spent = book.entries[-1]

    assert pending.pending and pending.balance_after is None and pending.time is not None
    assert spent.txid == str(bdk.Transaction(raw).compute_txid()) == pending.txid
    assert spent.direction == "outgoing" and spent.fee == theirs.fee() and spent.net == -(30_000 + theirs.fee())
    assert spent.memo == MEMO and spent.memo_verified and spent.proposal == proposal.id
    assert spent.proposer.name == "Bob" and [p.name for p in spent.approved_by] == ["Carol"]
    assert [(p.user, p.name, p.fingerprint, p.cosigner) for p in spent.signed_by] == [
        (bob.id, "Bob", keys.fingerprint(0), "member 1"), (None, None, keys.fingerprint(1), "member 2")]
    assert spent.height == chain.height and not spent.pending
    assert spent.balance_after == 150_000 + spent.net == book.confirmed
    assert book.confirmed + book.pending == chain_store.sync_state(db, wallet.id).balance.total


def test_the_ledger_links_the_broadcast_transaction_without_any_broadcast_entry(db, funded, client):
    """The txid of the proposal's unsigned transaction is the broadcast txid
    (BIP-141: the txid leaves out the witness), so no ceremony record is needed."""
    wallet, bob, _, proposal = funded
    signed = sign(PSBT.from_base64(proposal.psbt), [0, 2]).to_base64()
    _broadcast(client, signed)
    sync_wallet(db, wallet, client)

    spent = ledger.build(db, wallet.id).entries[-1]

    assert spent.pending and spent.memo == MEMO and spent.proposer.name == "Bob"
    assert spent.signed_by == () and spent.approved_by == ()
    assert "proposal_broadcast" not in {e.type for e in audit.entries(db, audit.wallet_chain(wallet.id))}


def test_a_broadcast_entry_links_a_transaction_the_psbt_does_not_name(db, funded, chain, client):
    """A transaction made outside Huddle for a proposal (contracts.md: ``proposal_broadcast``)."""
    wallet, _, _, proposal = funded
    outside = pay(chain, 0, 2, 7_000)
    audit.append_to_wallet(db, wallet.id, "proposal_broadcast", {"proposal": proposal.id, "txid": outside},
                           actor="system")
    sync_wallet(db, wallet, client)

    entry = next(e for e in ledger.build(db, wallet.id).entries if e.txid == outside)

    assert entry.proposal == proposal.id and entry.memo == MEMO and entry.direction == "incoming"


def test_an_erased_memo_leaves_the_entry_and_its_people(db, funded, client):
    wallet, bob, _, proposal = funded
    _broadcast(client, sign(PSBT.from_base64(proposal.psbt), [1, 2]).to_base64())
    sync_wallet(db, wallet, client)
    db.execute("UPDATE proposals SET memo = NULL WHERE id = ?", [proposal.id])

    spent = ledger.build(db, wallet.id).entries[-1]

    assert spent.memo is None and spent.memo_verified is None and spent.proposal == proposal.id
    assert spent.proposer.name == "Bob" and ledger.memos(db, wallet.id) == {}


def test_a_memo_edited_outside_huddle_is_flagged_against_the_chains_hash(db, funded, client):
    """The intent and the audit chain commit to the memo's SHA-256 (DESIGN.md); the text is not in the chain."""
    wallet, _, _, proposal = funded
    _broadcast(client, sign(PSBT.from_base64(proposal.psbt), [1, 2]).to_base64())
    sync_wallet(db, wallet, client)
    honest = ledger.build(db, wallet.id).entries[-1]
    db.execute("UPDATE proposals SET memo = 'office party' WHERE id = ?", [proposal.id])

    edited = ledger.build(db, wallet.id).entries[-1]

    assert honest.memo_verified is True
    assert edited.memo == "office party" and edited.memo_verified is False


def test_a_wallet_never_synced_has_an_empty_ledger(db, wallet):
    book = ledger.build(db, wallet.id)

    assert book.entries == [] and book.tip_height is None and book.to_dict()["balance"] == {
        "confirmed": 0, "pending": 0, "total": 0}


def test_balances_over_time_keep_the_last_balance_of_each_block(db, funded, chain, client):
    wallet = funded[0]
    pay(chain, 0, 2, 1_000)
    pay(chain, 0, 3, 2_000)
    chain.mine(1)
    sync_wallet(db, wallet, client)

    book = ledger.build(db, wallet.id)
    points = book.balances()

    assert [p["balance"] for p in points] == [100_000, 150_000, 153_000]
    assert [p["height"] for p in points] == sorted({e.height for e in book.entries})


def test_an_agent_approval_entry_names_its_member(db, funded, client):
    """The body C1's agent approvals write (contracts.md section 4: ``agent_approval_added``)."""
    wallet, bob, carol, proposal = funded
    audit.append_to_wallet(db, wallet.id, "agent_approval_added",
                           {"proposal": proposal.id, "family": proposal.family_id, "member": carol.id,
                            "agent_key": "02" + "11" * 32, "signature": "00" * 64}, actor=f"user:{carol.id}")
    _broadcast(client, sign(PSBT.from_base64(proposal.psbt), [0, 1]).to_base64())
    sync_wallet(db, wallet, client)

    spent = ledger.build(db, wallet.id).entries[-1]

    assert [(p.user, p.name) for p in spent.approved_by] == [(carol.id, "Carol")]


def test_a_consolidation_is_self_and_a_child_follows_its_parent_within_a_block(db, wallet, chain, client):
    """The coin comes in and is moved to our own address in the same block."""
    funding = pay(chain, 0, 0, 100_000)
    moved = send_back(DESC, coin(chain, funding, 0, 0), raw_of(chain, funding), DESC.script_pubkey(0, 1).data,
                      fee=600, change_index=0)
    client.broadcast(moved)
    chain.mine(1)
    sync_wallet(db, wallet, client)

    book = ledger.build(db, wallet.id)

    assert [(e.txid == funding, e.direction, e.net, e.fee) for e in book.entries] == [
        (True, "incoming", 100_000, None), (False, "self", -600, 600)]
    assert [e.balance_after for e in book.entries] == [100_000, 99_400]
    assert book.entries[0].height == book.entries[1].height


# -- CSV -----------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["=1+1", "+1", "-2", "@SUM(A1)", "\t=1", "\r=1", "  =cmd|' /C calc'!A0",
                                  "\uff1dHYPERLINK()"])
def test_a_cell_a_spreadsheet_would_run_gets_an_apostrophe(text):
    assert ledger_csv.guard(text) == "'" + text


@pytest.mark.parametrize("text", ["roof repair", "1+1", "a=b", "", "'quoted already"])
def test_ordinary_text_is_left_alone(text):
    assert ledger_csv.guard(text) == text


@pytest.mark.parametrize("sats,text", [(0, "0.00000000"), (1, "0.00000001"), (-30_378, "-0.00030378"),
                                       (2_100_000_000_000_000, "21000000.00000000")])
def test_btc_columns_are_written_from_the_integer(sats, text):
    assert ledger_csv.btc(sats) == text


def test_the_csv_quotes_commas_quotes_and_line_breaks_and_guards_names(db, funded, client):
    wallet, _, _, proposal = funded
    memo = 'new roof, "the good one"\nsecond line'
    db.execute("UPDATE proposals SET memo = ? WHERE id = ?", [memo, proposal.id])
    db.execute("UPDATE users SET name = '@bob' WHERE name = 'Bob'")
    _broadcast(client, sign(PSBT.from_base64(proposal.psbt), [0, 1]).to_base64())
    sync_wallet(db, wallet, client)

    text = ledger_csv.to_string(ledger.build(db, wallet.id))
    rows = list(csv.reader(io.StringIO(text, newline="")))

    assert rows[0] == list(ledger_csv.COLUMNS) and len(rows) == 4
    assert text.endswith("\r\n") and '"new roof, ""the good one""\nsecond line"' in text
    spent = dict(zip(rows[0], rows[-1]))
    assert spent["memo"] == memo and spent["memo_verified"] == "no"  # edited in the database, not by Huddle
    assert spent["proposer"] == "'@bob" and spent["status"] == "pending"
    assert spent["height"] == "" and spent["balance_sats"] == "" and spent["fee_sats"] != ""


def test_a_fee_bump_that_confirms_carries_the_familys_memo_and_approvals(db, funded, chain, client):
    """Approvals sign the family's intent (DESIGN.md), so the replacement that
    confirms is approved by whoever approved the original."""
    wallet, bob, carol, proposal = funded
    _approve(db, proposal, carol)
    bumped = replacements.bump(db, wallet, proposal.id, bob.id, 3_500)
    _broadcast(client, sign(PSBT.from_base64(bumped.psbt), [0, 1]).to_base64())
    chain.mine(1)
    sync_wallet(db, wallet, client)

    spent = ledger.build(db, wallet.id).entries[-1]

    assert spent.proposal == bumped.id != proposal.id and spent.memo == MEMO and spent.memo_verified
    assert [p.name for p in spent.approved_by] == ["Carol"] and spent.fee > 0
