"""Keyholders with only a QR device, over the API: each fills their slot from
what their device showed (a crypto-account UR, a crypto-hdkey UR, a Coldcard Q
BBQr of its xpub file), then scans the registration back in their device's format,
and the wallet becomes active. The exports are built here from the test seeds with
cbor2 (not Huddle's CBOR writer), in the shapes of the public vectors that
tests/qr/test_account_export.py reads."""

from __future__ import annotations

import json
from pathlib import Path

import cbor2

from coordinator.qr import bbqr
from coordinator.qr.ur import UREncoder

from .. import keys
from .conftest import member

SEEDS = (3, 4, 5)
ACCOUNT_VECTOR = json.loads((Path(__file__).parent.parent / "vectors" / "ur.json").read_text())[
    "crypto_account_example"]


def hdkey(seed: int, purpose: int = 48, script_step: int | None = 2) -> cbor2.CBORTag:
    """The seed's account key as a BCR-2020-007 crypto-hdkey (testnet use-info)."""
    path = [purpose, 1, 0] + ([script_step] if script_step is not None else [])
    key = keys.root(seed).derive("m/" + "/".join(f"{p}h" for p in path)).to_public()
    components = [x for p in path for x in (p, True)]
    return cbor2.CBORTag(303, {3: key.key.sec(), 4: key.chain_code, 5: cbor2.CBORTag(305, {2: 1}),
                               6: cbor2.CBORTag(304, {1: components, 2: int(keys.fingerprint(seed), 16),
                                                      3: len(path)}),
                               8: int.from_bytes(key.fingerprint, "big")})


def crypto_account(seed: int) -> str:
    """A SeedSigner/Keystone-style crypto-account: a BIP-84 key and the BIP-48 wsh key."""
    outputs = [cbor2.CBORTag(308, cbor2.CBORTag(404, hdkey(seed, 84, None))),
               cbor2.CBORTag(308, cbor2.CBORTag(401, cbor2.CBORTag(410, hdkey(seed))))]
    body = cbor2.dumps({1: int(keys.fingerprint(seed), 16), 2: outputs})
    return UREncoder("crypto-account", body, 1000).next_part()


def crypto_hdkey(seed: int) -> str:
    return UREncoder("crypto-hdkey", cbor2.dumps(hdkey(seed).value), 1000).next_part()


def coldcard_q_bbqr(seed: int) -> list[str]:
    """Coldcard's multisig xpub export (ccxp JSON) as Coldcard Q shows it: BBQr, type J."""
    data = {"xfp": keys.fingerprint(seed).upper(), "p2wsh_deriv": "m/48'/1'/0'/2'",
            "p2wsh": keys.xpub(seed), "p2sh_p2wsh_deriv": "m/48'/1'/0'/1'",
            "p2sh_p2wsh": keys.xpub(seed, True, "sh-wsh")}
    return list(bbqr.serialize(json.dumps(data).encode(), "J", max_version=6).parts)


def expected_key(seed: int) -> str:
    return f"[{keys.fingerprint(seed)}/48h/1h/0h/2h]{keys.xpub(seed)}"


def test_qr_only_keyholders_fill_their_slots_and_register_the_wallet(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "viewer", "Bob")
    carol = member(app, admin, wallet_id, "viewer", "Carol")
    people = (admin, bob, carol)
    draft_id = admin.post("/drafts", {"name": "Roof fund", "script_type": "wsh", "threshold": 2,
                                      "slots": [p.user["id"] for p in people]}).get_json()["draft"]["id"]
    exports = (crypto_account(3), coldcard_q_bbqr(4), crypto_hdkey(5))
    for position, (person, parts) in enumerate(zip(people, exports)):
        parts = [parts] if isinstance(parts, str) else parts
        filled = person.post(f"/drafts/{draft_id}/slots/{position}/qr", {"parts": parts})
        assert filled.status_code == 200, filled.get_json()
        assert filled.get_json()["key"] == expected_key(SEEDS[position])
        assert filled.headers["Huddle-Audit-Head"].startswith(f"setup:{draft_id} ")
    draft = carol.get(f"/drafts/{draft_id}").get_json()["draft"]
    assert draft["state"] == "confirming"
    assert [s["key"] for s in draft["slots"]] == [expected_key(s) for s in SEEDS]

    shown = bob.get(f"/drafts/{draft_id}/registration/qr?format=coldcard&density=low").get_json()
    assert shown["format"] == "coldcard" and shown["frames"][0].startswith("B$")
    assert shown["first_address"] == draft["first_address"]
    for position, person in enumerate(people):
        confirmed = person.post(f"/drafts/{draft_id}/slots/{position}/confirm", {"address": draft["first_address"]})
        assert confirmed.status_code == 200, confirmed.get_json()
    active = confirmed.get_json()["draft"]
    assert active["state"] == "active"

    again = carol.get(f"/wallets/{active['wallet_id']}/registration/qr?format=crypto-output&density=high")
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["frames"][0].startswith("ur:crypto-output/")
    assert again.get_json()["first_address"] == draft["first_address"]


def test_a_slot_refuses_an_export_for_another_network_or_script_and_a_foreign_slot(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "viewer", "Bob")
    draft_id = admin.post("/drafts", {"name": "Roof fund", "script_type": "wsh", "threshold": 2,
                                      "slots": [admin.user["id"], bob.user["id"]]}).get_json()["draft"]["id"]
    mainnet = bob.post(f"/drafts/{draft_id}/slots/1/qr", {"parts": [ACCOUNT_VECTOR["expected_ur"]]})
    assert (mainnet.status_code, mainnet.get_json()["error"]["code"]) == (400, "wrong_network")

    single_sig = UREncoder("crypto-hdkey", cbor2.dumps(hdkey(4, 84, None).value), 1000).next_part()
    refused = bob.post(f"/drafts/{draft_id}/slots/1/qr", {"parts": [single_sig]})
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (400, "key_export_wrong_script")

    foreign = bob.post(f"/drafts/{draft_id}/slots/0/qr", {"parts": [crypto_hdkey(4)]})
    assert (foreign.status_code, foreign.get_json()["error"]["code"]) == (403, "not_slot_owner")

    early = bob.get(f"/drafts/{draft_id}/registration/qr")
    assert (early.status_code, early.get_json()["error"]["code"]) == (409, "setup_not_ready")
    assert all(s["key"] is None for s in bob.get(f"/drafts/{draft_id}").get_json()["draft"]["slots"])


def test_registration_format_must_be_one_huddle_writes(admin, wallet_id):
    bad = admin.get(f"/wallets/{wallet_id}/registration/qr?format=psbt")
    assert (bad.status_code, bad.get_json()["error"]["code"]) == (400, "bad_request")
    plain = admin.get(f"/wallets/{wallet_id}/registration/qr").get_json()
    assert plain["format"] == "descriptor" and plain["frames"] == [keys.descriptor(2, 3).to_string()]


def test_a_name_coldcard_cannot_take_is_refused_unless_another_is_given(admin):
    imported = admin.post("/wallets/import", {"text": keys.descriptor(2, 3, first=3).to_string(),
                                              "name": "The cooperative roof vault"})
    assert imported.status_code == 201, imported.get_json()
    wallet_id = imported.get_json()["wallet"]["id"]
    plain = admin.get(f"/wallets/{wallet_id}/registration/qr?format=coldcard")
    assert (plain.status_code, plain.get_json()["error"]["code"]) == (400, "bad_wallet_name")
    short = admin.get(f"/wallets/{wallet_id}/registration/qr?format=coldcard&name=Roof")
    assert short.status_code == 200 and short.get_json()["frames"][0].startswith("B$")
