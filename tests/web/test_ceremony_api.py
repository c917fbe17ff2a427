"""The ceremony over REST: signatures by upload (JSON, binary, multipart), verified
by the merge; idempotent; foreign and broken signatures refused with 422; stale
ceremonies 409; threshold, broadcast to the sandbox, and the watcher's confirmation."""

from __future__ import annotations

import base64

import pytest

from coordinator.chain.config import from_url
from coordinator.psbt import codec
from coordinator.sessions.watcher import Watcher

from ..sessions.ceremony_env import broken_signature, foreign_signature, fund, signed_by, start_sandbox
from .conftest import faucet_address, member
from .test_agent_pairing import _code, _redeem


@pytest.fixture
def sandbox():
    server = start_sandbox()
    yield server
    server.stop()


@pytest.fixture
def ceremony(app, config, admin, wallet_id, sandbox):
    """Bob proposes from a wallet funded on a sandbox that stays up; the app broadcasts there."""
    app.config["HUDDLE_CHAIN"] = f"esplora:{sandbox.url}"
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    fund(sandbox, config.database, wallet_id)
    made = bob.post(f"/wallets/{wallet_id}/proposals", {
        "payments": [{"address": faucet_address(), "amount": 20_000}], "memo": "paint", "fee_rate": 2_000})
    assert made.status_code == 201, made.get_json()
    return bob, f"/wallets/{wallet_id}/proposals/{made.get_json()['proposal']['id']}", made.get_json()["psbt"]


@pytest.mark.parametrize("form", ["base64", "hex"])
def test_an_uploaded_signature_is_kept_and_shown_per_input(ceremony, form):
    bob, path, psbt = ceremony
    signed = signed_by(psbt, 1)

    sent = bob.post(f"{path}/signatures", {"psbt": signed if form == "base64" else base64.b64decode(signed).hex()})

    assert sent.status_code == 201, sent.get_json()
    body = sent.get_json()
    assert body["added"] == 1
    assert body["ceremony"]["state"] == "collecting"
    (signer,) = body["ceremony"]["inputs"][0]["signed_by"]
    assert signer["user"] == bob.user["id"] and signer["channel"] == "upload"
    assert body["ceremony"]["inputs"][0]["needed"] == 1


def test_the_same_signature_again_adds_nothing(ceremony):
    bob, path, psbt = ceremony
    bob.post(f"{path}/signatures", {"psbt": signed_by(psbt, 1)})

    again = bob.post(f"{path}/signatures", {"psbt": signed_by(psbt, 1), "channel": "qr"})

    assert again.status_code == 200
    assert again.get_json()["added"] == 0
    assert len(again.get_json()["ceremony"]["inputs"][0]["signed_by"]) == 1


@pytest.mark.parametrize("forge, code", [(foreign_signature, "foreign_key"), (broken_signature, "invalid_signature")])
def test_a_foreign_or_broken_signature_is_refused_with_422(ceremony, forge, code):
    bob, path, psbt = ceremony

    refused = bob.post(f"{path}/signatures", {"psbt": forge(psbt)})

    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == code
    assert bob.get(f"{path}/ceremony").get_json()["ceremony"]["inputs"][0]["signed_by"] == []


def test_a_psbt_of_another_transaction_is_refused(ceremony, app, admin, wallet_id, sandbox, config):
    bob, path, _ = ceremony
    fund(sandbox, config.database, wallet_id, index=1)
    other = bob.post(f"/wallets/{wallet_id}/proposals", {
        "payments": [{"address": faucet_address(), "amount": 30_000}], "memo": "other", "fee_rate": 2_000})

    refused = bob.post(f"{path}/signatures", {"psbt": signed_by(other.get_json()["psbt"], 1)})

    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "different_transaction"


def test_two_signers_reach_the_threshold_and_the_combined_psbt_holds_both(ceremony, admin):
    bob, path, psbt = ceremony
    bob.post(f"{path}/signatures", {"psbt": signed_by(psbt, 1)})

    done = admin.post(f"{path}/signatures", {"psbt": signed_by(psbt, 0)}).get_json()

    assert done["ceremony"]["state"] == "ready"
    combined = codec.parse(done["psbt"])
    assert len(combined.inputs[0].partial_sigs) == 2
    download = admin.get(f"{path}/psbt")
    assert download.mimetype == "application/octet-stream"
    assert download.data == codec.serialize(combined)


def test_a_cancelled_proposal_takes_no_more_signatures(ceremony):
    bob, path, psbt = ceremony
    assert bob.post(f"{path}/cancel").status_code == 200

    stale = bob.post(f"{path}/signatures", {"psbt": signed_by(psbt, 1)})

    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "ceremony_stale"
    assert bob.get(f"{path}/ceremony").get_json()["ceremony"]["state"] == "cancelled"


def test_an_agent_token_uploads_a_binary_file_or_a_multipart_one(ceremony, app):
    bob, path, psbt = ceremony
    token = _redeem(app, _code(bob)).get_json()["secret"]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    raw = base64.b64decode(signed_by(psbt, 1))

    binary = client.post(f"/api/v1{path}/signatures", data=raw, headers=headers,
                         content_type="application/octet-stream")
    multipart = client.post(f"/api/v1{path}/signatures", headers=headers,
                            data={"psbt": (__import__("io").BytesIO(base64.b64decode(signed_by(psbt, 2))),
                                           "signed.psbt")})

    assert binary.status_code == 201 and binary.get_json()["added"] == 1
    assert multipart.status_code == 201 and multipart.get_json()["ceremony"]["state"] == "ready"


def test_broadcast_waits_for_the_threshold(ceremony):
    bob, path, psbt = ceremony
    bob.post(f"{path}/signatures", {"psbt": signed_by(psbt, 1)})

    early = bob.post(f"{path}/broadcast")

    assert early.status_code == 409
    assert early.get_json()["error"]["code"] == "not_ready"


def test_an_explicit_broadcast_reaches_the_sandbox_and_the_watcher_confirms_it(ceremony, admin, sandbox, config):
    bob, path, psbt = ceremony
    bob.post(f"{path}/signatures", {"psbt": signed_by(psbt, 1, 2)})

    sent = admin.post(f"{path}/broadcast")

    assert sent.status_code == 200, sent.get_json()
    txid = sent.get_json()["ceremony"]["txid"]
    assert sent.get_json()["ceremony"]["state"] == "broadcast"
    assert txid in sandbox.chain.mempool
    again = admin.post(f"{path}/broadcast")  # a second confirmation sends nothing new
    assert again.get_json()["ceremony"]["state"] == "broadcast"
    sandbox.chain.mine(1)
    watcher = Watcher(config.database, lambda: from_url(f"esplora:{sandbox.url}", "regtest"), "regtest")
    assert watcher.run_once()
    shown = bob.get(f"{path}/ceremony").get_json()["ceremony"]
    assert (shown["state"], shown["txid"], shown["height"]) == ("confirmed", txid, sandbox.chain.height)


def test_a_wallet_set_to_broadcast_automatically_does_so_at_the_threshold(ceremony, admin, wallet_id, sandbox):
    bob, path, psbt = ceremony
    assert admin.send("PUT", f"/wallets/{wallet_id}/ceremony-settings", {"auto_broadcast": True}).status_code == 200

    done = bob.post(f"{path}/signatures", {"psbt": signed_by(psbt, 1, 2)}).get_json()

    assert done["ceremony"]["state"] == "broadcast"
    assert done["ceremony"]["txid"] in sandbox.chain.mempool
