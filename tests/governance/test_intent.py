"""The intent digest: domain-separated, canonical, order-free in recipients, and
changed by anything an approval is about."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from coordinator.governance.intent import DOMAIN, Intent, Recipient, memo_hash
from coordinator.errors import InvalidInput

P2WSH = "0020" + "11" * 32
P2WPKH = "0014" + "22" * 20


def _intent(**changes) -> Intent:
    base = Intent("testnet", "ab" * 16, "family-1", (Recipient(P2WSH, 50_000), Recipient(P2WPKH, 1_000)),
                  memo_hash("rent for March"), 2_000, 1_767_225_600, 1_767_830_400)
    return dataclasses.replace(base, **changes)


def test_the_digest_is_sha256_of_the_domain_and_the_canonical_intent():
    # Written out by hand from docs/canonical.md, apart from canonical.py; recipients sorted by script.
    text = ('{"created_at":1767225600,"expires_at":1767830400,"family_id":"family-1","fee_ceiling":2000,'
            f'"memo_sha256":"{memo_hash("rent for March")}","network":"testnet","policy_id":"{"ab" * 16}",'
            f'"recipients":[{{"amount":1000,"script_pubkey":"{P2WPKH}"}},{{"amount":50000,"script_pubkey":"{P2WSH}"}}],'
            '"v":1}')

    assert _intent().digest() == hashlib.sha256(b"huddle/approval/v1\x00" + text.encode()).digest()
    assert DOMAIN == b"huddle/approval/v1"


def test_recipient_order_does_not_change_the_digest():
    shuffled = _intent(recipients=(Recipient(P2WPKH, 1_000), Recipient(P2WSH, 50_000)))

    assert shuffled.digest() == _intent().digest()


@pytest.mark.parametrize("change", [
    {"recipients": (Recipient(P2WSH, 50_001), Recipient(P2WPKH, 1_000))},
    {"recipients": (Recipient(P2WSH, 50_000),)},
    {"memo_sha256": memo_hash("rent for April")}, {"fee_ceiling": 2_001}, {"family_id": "family-2"},
    {"network": "bitcoin"}, {"policy_id": "cd" * 16}, {"expires_at": 1_767_830_401}, {"created_at": 1},
], ids=["amount", "recipient dropped", "memo", "fee ceiling", "family", "network", "policy", "expiry", "created"])
def test_anything_an_approval_is_about_changes_the_digest(change):
    assert _intent(**change).digest() != _intent().digest()


@pytest.mark.parametrize("change", [
    {"recipients": ()}, {"recipients": (Recipient(P2WSH, 0),)}, {"recipients": (Recipient("XYZ", 5),)},
    {"recipients": (Recipient(P2WSH, 21_000_000 * 100_000_000 + 1),)}, {"memo_sha256": "rent"},
    {"fee_ceiling": 0}, {"expires_at": 1_767_225_600}, {"family_id": ""}, {"fee_ceiling": True},
], ids=["no recipients", "zero amount", "bad script hex", "over max money", "memo not a hash", "no fee ceiling",
        "expires at creation", "no family", "bool fee"])
def test_malformed_intents_are_refused(change):
    with pytest.raises(InvalidInput) as err:
        _intent(**change)
    assert err.value.code == "bad_intent"
