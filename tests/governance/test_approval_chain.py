"""Approvals end up in the wallet's audit chain whole, and `huddle audit verify
--roster` checks every one against the pinned passkeys: a valid approval
verifies; an approval row added without a valid assertion fails, naming its entry."""

from __future__ import annotations

import json

import pytest

from coordinator.accounts import passkeys, roles, users
from coordinator.errors import Conflict, InvalidInput
from coordinator.governance import approvals, audit, proposals
from coordinator.governance.approvals import PasskeyApproval
from coordinator.governance.roster import from_db, verify_approvals
from coordinator.psbt.model import Recipient as Payment
from coordinator.store import open_database

from ..authenticator import SoftAuthenticator, b64url
from ..cli.runner import Huddle, fails, huddle, ok  # noqa: F401  (fixture)
from ..chain.walletenv import chain, client, sandbox  # noqa: F401  (fixtures)
from .test_proposals import RATE, T0, TO, funded, wallet  # noqa: F401  (fixtures)

RP_ID, ORIGIN = "localhost", "http://localhost:5000"


def _member(db, wallet, name: str) -> tuple[users.User, SoftAuthenticator]:
    user = users.create(db, name)
    device = SoftAuthenticator(ORIGIN, RP_ID)
    passkeys.add(db, user.id, passkeys.NewPasskey(b64url(device.credential_id), device.cose_public_key(), 0))
    roles.grant(db, user.id, wallet.id, "keyholder")
    return user, device


def _approve(db, proposal, user, device, **override) -> None:
    answer = device.get({"challenge": b64url(proposal.intent.digest())}, **override)
    approval = PasskeyApproval.from_credential(f"user:{user.id}", answer)
    approvals.record(db, proposal, user.id, approval, device.cose_public_key(), RP_ID, ORIGIN, now=T0 + 10)


@pytest.fixture
def approved(db, funded):
    """A proposal by Bob, approved by Bob and Carol with their passkeys."""
    wallet, _ = funded
    bob, bob_key = _member(db, wallet, "Bob2")
    carol, carol_key = _member(db, wallet, "Carol")
    proposal = proposals.create(db, wallet, bob.id, [Payment(TO, 50_000)], "toner", RATE, now=T0)
    _approve(db, proposal, bob, bob_key)
    _approve(db, proposal, carol, carol_key)
    return wallet, proposal, (bob, bob_key), (carol, carol_key)


def test_approvals_in_the_chain_verify_against_the_roster(db, approved):
    wallet, proposal, *_ = approved
    entries = audit.entries(db, audit.wallet_chain(wallet.id))

    audit.verify(entries)
    assert verify_approvals(entries, from_db(db, wallet.id, RP_ID, ORIGIN)) == 2
    assert {a.member for a in approvals.stored(db, proposal.family_id)} == {e.actor for e in entries
                                                                           if e.type == "approval_added"}


def test_a_second_approval_with_the_same_passkey_is_refused(db, approved):
    _, proposal, (bob, bob_key), _ = approved

    with pytest.raises(Conflict) as err:
        _approve(db, proposal, bob, bob_key)
    assert err.value.code == "already_approved"


def test_an_approval_for_another_intent_or_closed_proposal_is_refused(db, approved):
    wallet, proposal, (bob, bob_key), _ = approved
    other = proposals.create(db, wallet, bob.id, [Payment(TO, 10_000)], "paper", RATE, now=T0)
    wrong = PasskeyApproval.from_credential(f"user:{bob.id}", bob_key.get({"challenge": b64url(
        proposal.intent.digest())}))

    with pytest.raises(InvalidInput) as err:
        approvals.record(db, other, bob.id, wrong, bob_key.cose_public_key(), RP_ID, ORIGIN, now=T0 + 10)
    assert err.value.code == "approval_invalid"
    proposals.cancel(db, wallet.id, other.id, actor=bob.id)
    with pytest.raises(Conflict):
        _approve(db, proposals.get(db, wallet.id, other.id), bob, bob_key)


def _forge(db, wallet, proposal, member: str, approval: dict) -> audit.Entry:
    """What someone with the database can do: append an approval entry (the
    chain's hashes stay valid; only the roster check can catch it)."""
    return audit.append_to_wallet(db, wallet.id, "approval_added",
                                  {"proposal": proposal.id, "family": proposal.family_id, "approval": approval},
                                  actor=member)


def test_an_approval_entry_signed_by_a_key_outside_the_roster_fails_naming_it(db, approved):
    wallet, proposal, _, _ = approved
    mallory = SoftAuthenticator(ORIGIN, RP_ID)
    fake = PasskeyApproval.from_credential("user:999", mallory.get({"challenge": b64url(proposal.intent.digest())}))
    forged = _forge(db, wallet, proposal, "user:999", fake.to_dict())
    entries = audit.entries(db, audit.wallet_chain(wallet.id))

    audit.verify(entries)  # the hash chain alone does not notice
    with pytest.raises(InvalidInput) as err:
        verify_approvals(entries, from_db(db, wallet.id, RP_ID, ORIGIN))
    assert err.value.code == "audit_approval_invalid" and err.value.details["seq"] == forged.seq


def test_an_approval_entry_replaying_another_members_assertion_fails(db, approved):
    wallet, proposal, (bob, _), (carol, _) = approved
    carols = [a for a in approvals.stored(db, proposal.family_id) if a.member == f"user:{carol.id}"][0]
    forged = _forge(db, wallet, proposal, f"user:{bob.id}", {**carols.to_dict(), "member": f"user:{bob.id}"})

    with pytest.raises(InvalidInput) as err:
        verify_approvals(audit.entries(db, audit.wallet_chain(wallet.id)), from_db(db, wallet.id, RP_ID, ORIGIN))
    assert err.value.details["seq"] == forged.seq


def test_huddle_audit_verify_checks_approvals_against_a_roster(huddle, tmp_path, chain, client):  # noqa: F811
    from coordinator.chain.sync import sync_wallet
    from coordinator.store import wallets

    from ..chain.walletenv import DESC, pay

    run = Huddle(huddle, tmp_path / "data")
    run.data_dir.mkdir(parents=True)
    db = open_database(run.database)
    wallet = wallets.add(db, "co-op", "regtest", DESC)
    pay(chain, 0, 0, 100_000, confirm=True)
    sync_wallet(db, wallet, client)
    bob, bob_key = _member(db, wallet, "Bob")
    proposal = proposals.create(db, wallet, bob.id, [Payment(TO, 50_000)], "toner", RATE, now=T0)
    _approve(db, proposal, bob, bob_key)
    roster_file = tmp_path / "roster.json"
    roster_file.write_text(json.dumps(from_db(db, wallet.id, RP_ID, ORIGIN).to_dict()))
    chain_file = tmp_path / "chain.jsonl"
    chain_name = audit.wallet_chain(wallet.id)

    chain_file.write_text(ok(run("audit", "export", chain_name)))
    out = json.loads(ok(run("audit", "verify", str(chain_file), "--roster", str(roster_file), "--json")))
    assert out["approvals"] == 1

    mallory = SoftAuthenticator(ORIGIN, RP_ID)
    fake = PasskeyApproval.from_credential(f"user:{bob.id}", mallory.get({"challenge": b64url(proposal.intent.digest())}))
    forged = _forge(db, wallet, proposal, f"user:{bob.id}", {**fake.to_dict(), "credential_id": b64url(bob_key.credential_id)})
    db.close()
    chain_file.write_text(ok(run("audit", "export", chain_name)))
    line = fails(run("audit", "verify", str(chain_file), "--roster", str(roster_file)), 3, "audit_approval_invalid")
    assert f"audit entry {forged.seq}" in line


def test_a_malformed_roster_is_refused(huddle, tmp_path):  # noqa: F811
    run = Huddle(huddle, tmp_path / "data")
    (tmp_path / "chain.jsonl").write_text("")
    (tmp_path / "roster.json").write_text('{"v": 1}')

    fails(run("audit", "verify", str(tmp_path / "chain.jsonl"), "--roster", str(tmp_path / "roster.json")), 3,
          "bad_roster")
