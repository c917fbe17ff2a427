"""The whole ceremony, live: `huddle serve` in its own process, the sandbox chain as its
backend, and three python-socketio clients over loopback: Ada (the PWA, admin and
facilitator), Bob (the PWA, keyholder, signs by a PSBT decoded from animated QR) and
Carol's signer agent (an agent token; it answers the sign request with its device's
partial signature). Join, presence, two signatures, threshold, broadcast, confirmation:
every client sees every event of the ceremony's room, in order."""

from __future__ import annotations

import base64

from embit.psbt import PSBT

from coordinator.store import open_database

from ..cli.runner import huddle  # noqa: F401  (fixture)
from ..psbt.chain import sign
from ..sessions.ceremony_env import fund, signed_by
from ..sessions.live import Member, sandbox, server, wait_for  # noqa: F401  (sandbox, server: fixtures)
from .conftest import WALLET_TEXT, faucet_address


class Agent(Member):
    """Carol's agent: answers each sign request with a step and its device's signature (seed 2)."""

    def __init__(self, server, token: str) -> None:
        super().__init__(server, token=token, agent=True)
        self.acks: list[dict] = []
        self.sio.on("sign_request", self._sign, namespace="/agent")

    def _sign(self, request: dict) -> None:
        ids = {"request_id": request["request_id"], "proposal_id": request["proposal_id"]}
        signed = sign(PSBT.from_string(request["psbt"]), [2])
        result = {**ids, "psbt": base64.b64encode(signed.serialize()).decode()}
        # the server handles each request on its own thread: the result goes once the step is acknowledged
        self.sio.emit("sign_step", {**ids, "step": "reviewing", "device": {"type": "coldcard",
                                                                            "fingerprint": request["fingerprint"]
                                                                            or "00000000"}},
                      namespace="/agent",
                      callback=lambda *_: self.sio.emit("sign_result", result, namespace="/agent",
                                                        callback=self.acks.append))


def _group(server, sandbox, tmp_path):
    ada = server.browser().register("/setup", token=server.setup_token, name="Ada")
    wallet_id = ada.post("/wallets/import", {"text": WALLET_TEXT, "name": "Co-op vault"}).get_json()["wallet"]["id"]
    members = {}
    for name in ("Bob", "Carol"):
        invite = ada.post(f"/wallets/{wallet_id}/invites", {"role": "keyholder"}).get_json()["token"]
        members[name] = server.browser().register("/invites", token=invite, name=name)
    fund(sandbox, tmp_path / "data" / "huddle.sqlite3", wallet_id)
    return ada, members["Bob"], members["Carol"], wallet_id


def test_a_whole_ceremony_live_with_three_clients(server, sandbox, tmp_path):
    ada, bob, carol, wallet_id = _group(server, sandbox, tmp_path)
    made = bob.post(f"/wallets/{wallet_id}/proposals", {
        "payments": [{"address": faucet_address(), "amount": 20_000}], "memo": "paint", "fee_rate": 2_000})
    assert made.status_code == 201, made.get_json()
    proposal_id, psbt = made.get_json()["proposal"]["id"], made.get_json()["psbt"]
    path = f"/wallets/{wallet_id}/proposals/{proposal_id}"
    code = carol.post("/agent/pairings").get_json()["code"]
    token = carol.post("/agent/pairings/redeem", {"code": code, "label": "laptop"}).get_json()["secret"]

    clients = [Member(server, cookie=ada.client.cookie()), Member(server, cookie=bob.client.cookie()),
               Agent(server, token)]
    for client in clients:  # 1. join
        assert client.join(wallet_id, proposal_id)["joined"] == proposal_id
    joined = [("Ada", "pwa"), ("Bob", "pwa"), ("Carol", "agent")]
    for client in clients:  # 2. presence
        wait_for(lambda: [(e["data"]["name"], e["data"]["via"]) for e in client.seen()
                          if e["type"] == "signer_joined"] == joined, what="everyone's presence")

    asked = ada.post(f"{path}/sign-requests", {"user": carol.user["id"]})  # 3. the agent channel
    assert asked.status_code == 201 and asked.get_json()["agents"] == 1, asked.get_json()
    agent = clients[2]
    wait_for(lambda: agent.acks, what="the agent's acknowledgement")
    assert agent.acks == [{"ok": True, "added": 1}]
    qr = bob.post(f"{path}/signatures", {"psbt": signed_by(psbt, 1), "channel": "qr"})  # ... and by QR
    assert qr.status_code == 201
    assert qr.get_json()["ceremony"]["state"] == "ready"  # 4. threshold

    sent = ada.post(f"{path}/broadcast")  # 5. broadcast to the sandbox
    assert sent.status_code == 200, sent.get_json()
    txid = sent.get_json()["ceremony"]["txid"]
    assert txid in sandbox.chain.mempool
    sandbox.chain.mine(1)  # 6. the server's watcher sees it confirmed
    for client in clients:
        wait_for(lambda: "confirmed" in client.types(), what="the confirmation")

    story = ["signer_joined", "signer_joined", "signer_joined", "sign_requested", "signer_step",
             "device_connected", "signature_added", "signature_added", "threshold_reached", "broadcasting",
             "broadcast", "confirmed"]
    seen = [client.seen() for client in clients]
    for events in seen:  # every client: every event, in order, no gap
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert [e["type"] for e in events] == story
    assert seen[0] == seen[1] == seen[2]
    channels = [e["data"]["channel"] for e in seen[0] if e["type"] == "signature_added"]
    assert channels == ["agent", "qr"]
    assert seen[0][-1]["data"] == {"wallet_id": wallet_id, "proposal": proposal_id, "txid": txid,
                                   "height": sandbox.chain.height}
    for client in clients:
        assert client.errors == []
        client.sio.disconnect()
    db = open_database(tmp_path / "data" / "huddle.sqlite3")
    types = [row[0] for row in db.execute("SELECT type FROM audit_log WHERE chain = ? ORDER BY seq",
                                          [f"wallet:{wallet_id}"]).fetchall()]
    db.close()
    assert types[-4:] == ["signature_added", "signature_added", "proposal_broadcast", "proposal_confirmed"]
