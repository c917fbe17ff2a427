"""Passkey approvals: an assertion over the intent digest, verified against the
member's pinned key, offline, strictly; the quorum counts members. Every case
is checked twice: by the server's verifier (webauthn) and by an independent one
built on cryptography alone (tests/passkey_verifier.py)."""

from __future__ import annotations

import pytest

from coordinator.errors import InvalidInput
from coordinator.governance import approvals
from coordinator.governance.approvals import PasskeyApproval

from ..authenticator import UV, SoftAuthenticator, b64url
from ..passkey_verifier import why_invalid
from .test_intent import _intent

RP_ID, ORIGIN = "huddle.example.org", "https://huddle.example.org"


def _approve(device: SoftAuthenticator, member: str, challenge: bytes, **override) -> PasskeyApproval:
    return PasskeyApproval.from_credential(member, device.get({"challenge": b64url(challenge)}, **override))


def _both_verdicts(approval: PasskeyApproval, device: SoftAuthenticator, challenge_intent) -> tuple[bool, str | None]:
    try:
        approvals.verify(approval, device.cose_public_key(), challenge_intent, RP_ID, ORIGIN)
        server_ok = True
    except InvalidInput as err:
        assert err.code == "approval_invalid"
        server_ok = False
    return server_ok, why_invalid(approval.to_dict(), device.cose_public_key(), challenge_intent.digest(), RP_ID,
                                  ORIGIN)


def test_an_approval_of_the_intent_verifies_for_both_verifiers():
    device = SoftAuthenticator(ORIGIN, RP_ID)
    approval = _approve(device, "user:2", _intent().digest())

    assert _both_verdicts(approval, device, _intent()) == (True, None)
    assert PasskeyApproval.from_dict(approval.to_dict()) == approval


@pytest.mark.parametrize("override,reason", [
    ({"rp_id": "evil.example"}, "rp id hash"),
    ({"origin": "https://evil.example"}, "origin"),
    ({"kind": "webauthn.create"}, "type"),
    ({"flags": UV}, "user present"),
    ({"cross_origin": True}, "cross-origin"),
], ids=["wrong rp id hash", "foreign origin", "webauthn.create", "user present off", "cross-origin"])
def test_assertions_off_the_pinned_party_or_flags_fail_both_verifiers(override, reason):
    device = SoftAuthenticator(ORIGIN, RP_ID)
    approval = _approve(device, "user:2", _intent().digest(), **override)

    assert _both_verdicts(approval, device, _intent()) == (False, reason)


def test_an_approval_of_another_proposal_fails_both_verifiers():
    device = SoftAuthenticator(ORIGIN, RP_ID)
    approval = _approve(device, "user:2", _intent(family_id="another proposal").digest())

    assert _both_verdicts(approval, device, _intent()) == (False, "challenge")


def test_a_signature_by_another_key_fails_both_verifiers():
    device, impostor = SoftAuthenticator(ORIGIN, RP_ID), SoftAuthenticator(ORIGIN, RP_ID)
    approval = _approve(impostor, "user:2", _intent().digest())

    assert _both_verdicts(approval, device, _intent()) == (False, "signature")


def test_the_quorum_counts_members_not_passkeys():
    bob_phone, bob_laptop, carol = (SoftAuthenticator(ORIGIN, RP_ID) for _ in range(3))
    roster = {"user:2": {b64url(bob_phone.credential_id): bob_phone.cose_public_key(),
                         b64url(bob_laptop.credential_id): bob_laptop.cose_public_key()},
              "user:3": {b64url(carol.credential_id): carol.cose_public_key()}}
    digest = _intent().digest()
    two_of_bob = [_approve(bob_phone, "user:2", digest), _approve(bob_laptop, "user:2", digest)]

    assert approvals.approving_members(two_of_bob, roster, _intent(), RP_ID, ORIGIN) == {"user:2"}
    with_carol = two_of_bob + [_approve(carol, "user:3", digest)]
    assert approvals.approving_members(with_carol, roster, _intent(), RP_ID, ORIGIN) == {"user:2", "user:3"}


def test_a_passkey_cannot_approve_for_a_member_it_is_not_pinned_to():
    bob, carol = SoftAuthenticator(ORIGIN, RP_ID), SoftAuthenticator(ORIGIN, RP_ID)
    roster = {"user:2": {b64url(bob.credential_id): bob.cose_public_key()},
              "user:3": {b64url(carol.credential_id): carol.cose_public_key()}}
    bob_as_carol = _approve(bob, "user:3", _intent().digest())

    assert approvals.approving_members([bob_as_carol], roster, _intent(), RP_ID, ORIGIN) == set()


def test_user_verification_is_required_when_the_policy_says_so():
    device = SoftAuthenticator(ORIGIN, RP_ID)
    present_only = _approve(device, "user:2", _intent().digest(), flags=0x01)

    approvals.verify(present_only, device.cose_public_key(), _intent(), RP_ID, ORIGIN)
    with pytest.raises(InvalidInput):
        approvals.verify(present_only, device.cose_public_key(), _intent(), RP_ID, ORIGIN,
                         require_user_verification=True)


@pytest.mark.parametrize("data", [None, {}, {"member": "user:2"}, {**dict.fromkeys(
    ("member", "credential_id", "authenticator_data", "client_data_json", "signature"), "x"), "extra": "y"}])
def test_malformed_stored_approvals_are_refused(data):
    with pytest.raises(InvalidInput) as err:
        PasskeyApproval.from_dict(data)
    assert err.value.code == "approval_invalid"


def test_garbage_in_an_approval_fails_cleanly():
    device = SoftAuthenticator(ORIGIN, RP_ID)
    junk = PasskeyApproval("user:2", b64url(device.credential_id), "!!", "@@", "##")

    with pytest.raises(InvalidInput):
        approvals.verify(junk, device.cose_public_key(), _intent(), RP_ID, ORIGIN)
