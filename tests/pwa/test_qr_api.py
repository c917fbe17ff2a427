"""The routes the PWA's ceremony and wallet screens stand on, over the API without a
browser: animated-QR frames made by the core's encoders, scanned parts decoded by the
core's bounded decoder, a proposal's summary from the PSBT, the balance, labelled
receive addresses never handed out twice, and fee estimates."""

from __future__ import annotations

import base64

from coordinator.psbt import codec
from coordinator.qr import StreamDecoder, density
from coordinator.qr.sequence import psbt_frames

from ..psbt import chain
from ..sessions.ceremony_env import signed_by
from ..web.conftest import admin, app, config, member, proposal, wallet_id  # noqa: F401  (fixtures)
from ..web.funding import faucet_address


def test_frames_decode_back_to_the_combined_psbt_in_both_formats(proposal):  # noqa: F811
    bob, path = proposal
    combined = bob.get(f"{path}/psbt").data
    for fmt, density in (("ur", "medium"), ("ur", "low"), ("bbqr", "high")):
        shown = bob.get(f"{path}/qr?format={fmt}&density={density}").get_json()
        decoder = StreamDecoder()
        for frame in shown["frames"]:
            decoder.receive(frame)
        assert (shown["format"], shown["density"], decoder.psbt) == (fmt, density, combined)
        assert shown["psbt_bytes"] == len(combined) and shown["version"] >= 1
    ur = bob.get(f"{path}/qr").get_json()
    assert ur["frames"][0].startswith("ur:crypto-psbt/1-")
    seq_len = int(ur["frames"][0].split("/")[1].split("-")[1])
    assert len(ur["frames"]) == 2 * seq_len  # two cycles: the fragments, then fountain mixes
    assert len(bob.get(f"{path}/qr?frames=3").get_json()["frames"]) == 3


def test_bad_frame_requests_are_refused_with_their_code(proposal):  # noqa: F811
    bob, path = proposal
    for query in ("format=png", "density=huge", "frames=0", "frames=1001", "frames=x"):
        answer = bob.get(f"{path}/qr?{query}")
        assert (answer.status_code, answer.get_json()["error"]["code"]) == (400, "bad_request"), query


def test_a_compact_psbt_shown_to_a_documented_device_is_signed_and_merges_into_the_stored_one(proposal):  # noqa: F811
    bob, path = proposal
    combined = bob.get(f"{path}/psbt").data
    shown = bob.get(f"{path}/qr?format=bbqr&density=medium&compact=krux").get_json()
    decoder = StreamDecoder()
    for frame in shown["frames"]:
        decoder.receive(frame)
    compact = codec.parse(decoder.psbt)
    assert (shown["compact"], shown["full_psbt_bytes"], shown["psbt_bytes"]) == ("krux", len(combined), len(decoder.psbt))
    assert shown["psbt_bytes"] < len(combined) and all(s.non_witness_utxo is None for s in compact.inputs)
    # Krux signs what it was shown (embit's sign_with) and shows it back as BBQr, the format it read.
    signed = chain.sign(compact, [1]).serialize()
    done = bob.post(f"{path}/qr/decode", {"parts": list(psbt_frames(signed, "bbqr", density("medium")).frames)})
    added = bob.post(f"{path}/signatures", {"psbt": done.get_json()["psbt"], "channel": "qr"})
    assert added.status_code == 201 and added.get_json()["added"] == len(compact.inputs)
    stored = codec.parse(bob.get(f"{path}/psbt").data)  # ours keeps its previous transactions
    assert all(s.non_witness_utxo is not None and len(s.partial_sigs) == 1 for s in stored.inputs)


def test_a_compact_psbt_is_refused_for_a_device_not_documented_to_sign_without_it(proposal):  # noqa: F811
    bob, path = proposal
    for device in ("keystone", "passport", "coldcard_q", "ledger", "Jade", "x" * 300):
        answer = bob.get(f"{path}/qr?compact={device}")
        assert (answer.status_code, answer.get_json()["error"]["code"]) == (400, "qr_compact_undocumented"), device
    full = bob.get(f"{path}/qr?compact=").get_json()  # empty: the full PSBT, the default
    assert full["compact"] is None and full["psbt_bytes"] == full["full_psbt_bytes"]


def test_scanned_parts_are_decoded_with_progress_then_the_psbt_that_the_qr_channel_takes(proposal):  # noqa: F811
    bob, path = proposal
    psbt = bob.get(path).get_json()["psbt"]
    signed = base64.b64decode(signed_by(psbt, 1))
    frames = list(psbt_frames(signed, "ur", density("low")).frames)
    half = bob.post(f"{path}/qr/decode", {"parts": frames[: len(frames) // 2] + ["not a qr part", "UR:CRYPTO-SEED/X"]})
    body = half.get_json()
    assert half.status_code == 200 and body["psbt"] is None
    assert 0 < body["progress"]["percent"] < 100 and body["progress"]["parts_total"] == len(frames)
    assert body["refused"] == {"qr_unknown_format": 1, "qr_malformed_part": 1}  # skipped, not fatal
    done = bob.post(f"{path}/qr/decode", {"parts": frames}).get_json()
    assert done["progress"]["complete"] and base64.b64decode(done["psbt"]) == signed
    added = bob.post(f"{path}/signatures", {"psbt": done["psbt"], "channel": "qr"})
    assert added.status_code == 201
    assert added.get_json()["ceremony"]["inputs"][0]["signed_by"][0]["channel"] == "qr"


def test_decode_bounds_and_roles(app, admin, wallet_id, proposal):  # noqa: F811
    bob, path = proposal
    too_many = bob.post(f"{path}/qr/decode", {"parts": ["x"] * 2001})
    too_long = bob.post(f"{path}/qr/decode", {"parts": ["x" * 7090]})
    not_text = bob.post(f"{path}/qr/decode", {"parts": [1]})
    for answer in (too_many, too_long, not_text):
        assert (answer.status_code, answer.get_json()["error"]["code"]) == (400, "bad_json")
    viewer = member(app, admin, wallet_id, "viewer", "Vi")
    assert viewer.get(f"{path}/qr").status_code == 200
    assert viewer.post(f"{path}/qr/decode", {"parts": []}).status_code == 403


def test_a_proposal_shows_its_recipients_as_addresses_change_and_fee_from_the_psbt(proposal):  # noqa: F811
    bob, path = proposal
    summary = bob.get(path).get_json()["summary"]
    assert summary["recipients"] == [{"address": faucet_address(), "amount": 20_000}]
    (change,) = summary["change"]
    assert summary["fee"] == summary["inputs_total"] - 20_000 - change["amount"] > 0
    assert summary["inputs_total"] == 100_000


def test_the_wallet_list_carries_the_balance_in_sats(proposal, admin, wallet_id):  # noqa: F811
    (shown,) = admin.get("/wallets").get_json()["wallets"]
    assert shown["id"] == wallet_id and shown["balance"]["confirmed"] == 100_000


def test_receive_addresses_are_labelled_never_repeated_and_gap_limited(app, admin, wallet_id):  # noqa: F811
    given = [admin.post(f"/wallets/{wallet_id}/addresses", {"label": f"dues {i}"}) for i in range(20)]
    assert all(r.status_code == 201 for r in given)
    addresses = [r.get_json()["address"] for r in given]
    assert len({a["address"] for a in addresses}) == 20 and [a["index"] for a in addresses] == list(range(20))
    assert all(a["verified"] is False and a["asked_by"] == admin.user["id"] for a in addresses)
    over = admin.post(f"/wallets/{wallet_id}/addresses", {"label": "one more"})
    assert (over.status_code, over.get_json()["error"]["code"]) == (409, "gap_limit_reached")
    blank = admin.post(f"/wallets/{wallet_id}/addresses", {"label": "  "})
    assert (blank.status_code, blank.get_json()["error"]["code"]) == (400, "bad_json")
    viewer = member(app, admin, wallet_id, "viewer", "Vi")
    assert viewer.post(f"/wallets/{wallet_id}/addresses", {"label": "mine"}).status_code == 403


def test_fee_estimates_without_a_chain_backend_say_so(admin, wallet_id, monkeypatch):  # noqa: F811
    monkeypatch.delenv("HUDDLE_CHAIN", raising=False)
    answer = admin.get(f"/wallets/{wallet_id}/fee-estimates")
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (502, "no_chain_backend")


def test_each_user_decodes_a_bounded_amount_of_parts_at_a_time(proposal, admin, monkeypatch):  # noqa: F811
    from coordinator.web.api import qr

    monkeypatch.setattr(qr, "CHARS_PER_SECOND", 0)  # no refill during the test: the burst alone
    bob, path = proposal
    big = {"parts": ["x" * 7089] * 140}  # 992,460 characters, under the 1 MiB body
    answers = [bob.post(f"{path}/qr/decode", big) for _ in range(9)]
    assert [a.status_code for a in answers] == [200] * 8 + [429]
    assert answers[-1].get_json()["error"]["code"] == "rate_limited"
    assert admin.post(f"{path}/qr/decode", big).status_code == 200  # another member has their own budget
