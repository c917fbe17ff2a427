"""Quorum counting against a pinned roster (governance/quorum.py): pure, with real
passkey assertions (the software authenticator) and real BIP-340 agent
signatures. Hypothesis shuffles and repeats a pool of approvals, valid and not:
the count depends only on which members gave a valid approval."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coordinator.errors import InvalidInput
from coordinator.governance import agent_keys, quorum
from coordinator.governance.approvals import PasskeyApproval
from coordinator.governance.roster import LOCAL_RP, Member, PinnedRoster

from .. import keys
from ..authenticator import SoftAuthenticator, b64url
from ..web.roster_world import agent_key
from .test_intent import _intent

INTENT, OTHER = _intent(), _intent(family_id="another proposal")
DESCRIPTOR = keys.descriptor(2, 3)


@functools.lru_cache(maxsize=None)
def device(name: str) -> SoftAuthenticator:
    return SoftAuthenticator(LOCAL_RP.origin, LOCAL_RP.rp_id)


def _passkeys(*names: str) -> dict[str, bytes]:
    return {b64url(device(n).credential_id): device(n).cose_public_key() for n in names}


@functools.lru_cache(maxsize=None)
def roster() -> PinnedRoster:
    """Users 2 and 6 approve at their agents (2 also has a passkey, which must not count);
    3 (phone and laptop) and 4 with passkeys; 5, a viewer with an agent, is no approver."""
    members = (Member(2, "admin", 0, _passkeys("two"), agent_keys.public_key(agent_key(2))),
               Member(3, "keyholder", 1, _passkeys("phone", "laptop"), None),
               Member(4, "keyholder", 2, _passkeys("four"), None),
               Member(5, "viewer", None, {}, agent_keys.public_key(agent_key(5))),
               Member(6, "admin", None, {}, agent_keys.public_key(agent_key(6))))
    return PinnedRoster("regtest", DESCRIPTOR.policy_id, DESCRIPTOR.to_string(), 2, LOCAL_RP.rp_id,
                        LOCAL_RP.origin, False, members, 2, (2, 3, 4, 6))


def _agent(member: int, key: int, purpose: str = "approval", intent=INTENT) -> dict:
    body = intent.to_dict() if purpose == "approval" else agent_keys.head_body(1, 1, intent.digest().hex())
    return {"kind": "agent", "member": member, "signature": agent_keys.sign(agent_key(key), purpose, body)}


def _passkey(member: int, name: str, intent=INTENT) -> dict:
    approval = PasskeyApproval.from_credential(f"user:{member}", device(name).get(
        {"challenge": b64url(intent.digest())}))
    return {"kind": "passkey", **approval.to_dict(), "member": member}


@functools.lru_cache(maxsize=None)
def pool() -> tuple[tuple[dict, int | None], ...]:
    """(approval, the member it counts for, or None)."""
    return (
        (_agent(2, 2), 2), (_agent(6, 6), 6), (_passkey(3, "phone"), 3), (_passkey(3, "laptop"), 3),
        (_passkey(4, "four"), 4),
        (_agent(2, 2, intent=OTHER), None),  # another proposal's digest
        (_agent(2, 99), None),  # a foreign key
        (_agent(2, 2, purpose="head"), None),  # the right key under another purpose prefix
        (_agent(5, 5), None),  # a viewer the policy does not list
        (_passkey(2, "two"), None),  # a passkey from a member who approves at an agent
        (_passkey(3, "phone", intent=OTHER), None),
        (_passkey(3, "four"), None),  # member 4's passkey claimed for member 3
        (_agent(3, 2), None),  # an agent signature for a member who approves by passkey
        ({"kind": "agent", "member": "2", "signature": _agent(2, 2)["signature"]}, None),
        ({"kind": "agent", "member": True}, None), ({}, None), ("approval", None),
    )


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=16), max_size=30), st.randoms())
def test_the_count_is_the_set_of_members_with_a_valid_approval_in_any_order_and_repeated(picks, rnd):
    chosen = [pool()[i] for i in picks]
    rnd.shuffle(chosen)

    counted = quorum.count(roster(), INTENT.digest(), [a for a, _ in chosen])

    assert counted == {member for _, member in chosen if member is not None}
    assert quorum.count(roster().to_dict(), INTENT.digest(), [a for a, _ in reversed(chosen)]) == counted


def test_a_members_second_passkey_and_second_approval_never_count_twice():
    approvals = [_passkey(3, "phone"), _passkey(3, "laptop"), _passkey(3, "phone"), _agent(2, 2), _agent(2, 2)]

    assert quorum.count(roster(), INTENT.digest(), approvals) == {2, 3}


@pytest.mark.parametrize("index", range(5, 17))
def test_each_invalid_approval_counts_for_nobody(index):
    approval, member = pool()[index]

    assert member is None and quorum.count(roster(), INTENT.digest(), [approval]) == set()


def test_a_roster_that_is_not_version_2_is_refused():
    broken = {**roster().to_dict(), "policy": {"threshold": 5, "approvers": [2]}}

    with pytest.raises(InvalidInput) as caught:
        quorum.count(broken, INTENT.digest(), [])
    assert caught.value.code == "bad_roster"
