"""Three signers submit at the same instant, round after round, to a real `huddle serve`:
each round's combined PSBT ends with every signature, and no request fails (no
"database is locked" ever reaches a client). The issue's 500 rounds, about a minute."""

from __future__ import annotations

import threading

import pytest
from embit.psbt import PSBT

from ..cli.runner import huddle  # noqa: F401  (fixture)
from ..sessions.ceremony_env import fund, signed_by, start_sandbox
from ..sessions.live import serve
from .conftest import WALLET_TEXT, faucet_address


@pytest.fixture
def group(huddle, tmp_path):  # noqa: F811
    sandbox = start_sandbox()
    server = serve(huddle, tmp_path / "data", sandbox.url, {"HUDDLE_WATCH_INTERVAL": "0"})
    try:
        ada = server.browser().register("/setup", token=server.setup_token, name="Ada")
        wallet_id = ada.post("/wallets/import", {"text": WALLET_TEXT, "name": "Vault"}).get_json()["wallet"]["id"]
        signers = [ada]
        for name in ("Bob", "Carol"):
            invite = ada.post(f"/wallets/{wallet_id}/invites", {"role": "keyholder"}).get_json()["token"]
            signers.append(server.browser().register("/invites", token=invite, name=name))
        fund(sandbox, tmp_path / "data" / "huddle.sqlite3", wallet_id)
        yield signers, wallet_id
    finally:
        server.stop()
        sandbox.stop()


def _rounds(group, rounds: int) -> None:
    signers, wallet_id = group
    failures, totals = [], []
    for n in range(rounds):
        made = signers[1].post(f"/wallets/{wallet_id}/proposals", {
            "payments": [{"address": faucet_address(), "amount": 10_000 + n}], "memo": f"round {n}",
            "fee_rate": 2_000}).get_json()
        path = f"/wallets/{wallet_id}/proposals/{made['proposal']['id']}"
        payloads = [signed_by(made["psbt"], i) for i in range(3)]
        start = threading.Barrier(3)

        def submit(i: int) -> None:
            start.wait()
            answer = signers[i].post(f"{path}/signatures", {"psbt": payloads[i]})
            if answer.status_code not in (200, 201):
                failures.append((n, i, answer.status_code, answer.get_json()))

        threads = [threading.Thread(target=submit, args=(i,)) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        shown = signers[0].get(f"{path}/ceremony").get_json()
        expected = [{**a, **b, **c} for a, b, c in zip(*(_signatures(p) for p in payloads))]
        totals.append((shown["ceremony"]["state"], _signatures(shown["psbt"]) == expected,
                       {len(sigs) for sigs in expected}))
        assert signers[1].post(f"{path}/cancel").status_code == 200  # frees the coin for the next round
    assert failures == []
    assert totals == [("ready", True, {3})] * rounds


def _signatures(psbt_b64: str) -> list[dict[bytes, bytes]]:
    """Per input, its partial signatures: public key -> signature, as bytes."""
    return [{pub.sec(): sig for pub, sig in scope.partial_sigs.items()} for scope in PSBT.from_string(psbt_b64).inputs]


def test_three_signers_at_the_same_instant_500_rounds_lose_nothing_and_see_no_lock_error(group):
    _rounds(group, 500)
