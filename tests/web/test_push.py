"""Web Push notifications (issue 13 item 6): a push service on loopback receives
each notice, decrypts it as a browser would (RFC 8291, aes128gcm, written here
from the RFC with `cryptography`, not with pywebpush's http_ece), checks the
VAPID token (RFC 8292) against the server's public key, and reads the payload."""

from __future__ import annotations

import base64
import json
import os
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from coordinator.store import open_database
from coordinator.web import create_app

from .conftest import Browser, member
from .funding import faucet_address, fund_and_sync


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushService:
    """A push service on loopback: records every request; /gone/... answers 410."""

    def __init__(self) -> None:
        self.received: queue.Queue = queue.Queue()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802  (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.put((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(410 if self.path.startswith("/gone/") else 201)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_port}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def next(self) -> tuple[str, dict, bytes]:
        return self.received.get(timeout=30)


@pytest.fixture
def push_service():
    service = PushService()
    yield service
    service.http.shutdown()


class Device:
    """A browser's push subscription: its ECDH key pair and auth secret (RFC 8291 section 2)."""

    def __init__(self, endpoint: str, seed: int) -> None:
        self.endpoint = endpoint
        self.private = ec.derive_private_key(seed, ec.SECP256R1())
        self.public = self.private.public_key().public_bytes(serialization.Encoding.X962,
                                                             serialization.PublicFormat.UncompressedPoint)
        self.auth = seed.to_bytes(16, "big")

    def subscription(self) -> dict:
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64(self.public), "auth": b64(self.auth)}}

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8291 section 3 with RFC 8188's aes128gcm header: salt, rs, idlen, keyid."""
        salt, idlen = body[:16], body[20]
        sender, ciphertext = body[21:21 + idlen], body[21 + idlen:]
        secret = self.private.exchange(ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender))
        ikm = _hkdf(self.auth, secret, b"WebPush: info\x00" + self.public + sender, 32)
        cek = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
        nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
        padded = AESGCM(cek).decrypt(nonce, ciphertext, None).rstrip(b"\x00")
        assert padded[-1:] == b"\x02"  # the last record's delimiter (RFC 8188 section 2)
        return padded[:-1]


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(hashes.SHA256(), length, salt, info).derive(ikm)


def verified_vapid_claims(headers: dict, server_key: str, audience: str) -> dict:
    """RFC 8292: `Authorization: vapid t=<JWT>, k=<key>`, the JWT ES256-signed by that key."""
    scheme, _, params = headers["authorization"].partition(" ")
    assert scheme == "vapid"
    fields = dict(p.strip().split("=", 1) for p in params.split(","))
    assert fields["k"] == server_key
    head, claims, signature = fields["t"].split(".")
    assert json.loads(unb64(head)) == {"typ": "JWT", "alg": "ES256"}
    raw = unb64(signature)
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(server_key))
    public.verify(encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
                  f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
    found = json.loads(unb64(claims))
    assert found["aud"] == audience and found["sub"]
    assert time.time() < found["exp"] <= time.time() + 24 * 3600
    return found


def subscribe(browser: Browser, device: Device, kinds: list[str]) -> dict:
    answer = browser.post("/push/subscriptions", {"subscription": device.subscription(), "kinds": kinds})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["subscription"]


def test_a_proposal_notifies_who_may_approve_with_an_encrypted_signed_push(app, config, admin, wallet_id,
                                                                           push_service):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    carol = member(app, admin, wallet_id, "viewer", "Carol")
    # Bob (the proposer) and Carol (a viewer) subscribe first: were they told, their
    # notices would come before Ada's, since one event's notices go out in subscription order.
    subscribe(bob, Device(push_service.url + "/bob", 11), ["approve", "sign", "confirmed"])
    subscribe(carol, Device(push_service.url + "/carol", 12), ["approve", "sign", "confirmed"])
    ada_phone = Device(push_service.url + "/ada", 13)
    assert subscribe(admin, ada_phone, ["approve"])["kinds"] == ["approve"]
    server_key = admin.get("/push/subscriptions").get_json()["public_key"]

    fund_and_sync(config, wallet_id)
    made = bob.post(f"/wallets/{wallet_id}/proposals", {
        "payments": [{"address": faucet_address(), "amount": 20_000}], "memo": "paint for the hall",
        "fee_rate": 2_000})
    assert made.status_code == 201, made.get_json()
    proposal = made.get_json()["proposal"]["id"]

    path, headers, body = push_service.next()
    assert path == "/ada"
    assert headers["content-encoding"] == "aes128gcm" and int(headers["ttl"]) > 0
    verified_vapid_claims(headers, server_key, push_service.url)
    plaintext = ada_phone.decrypt(body)
    assert json.loads(plaintext) == {
        "kind": "approve", "title": "Huddle", "body": "A spend waits for your approval.", "wallet_id": wallet_id,
        "proposal": proposal, "url": f"/wallets/{wallet_id}/proposals/{proposal}"}
    assert b"paint" not in plaintext and b"20000" not in plaintext  # no memo, no amount


def test_a_gone_subscription_is_forgotten(app, config, admin, wallet_id, push_service):
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    subscribe(admin, Device(push_service.url + "/gone/ada", 21), ["approve"])
    fund_and_sync(config, wallet_id)
    bob.post(f"/wallets/{wallet_id}/proposals", {
        "payments": [{"address": faucet_address(), "amount": 20_000}], "memo": "rent", "fee_rate": 2_000})
    assert push_service.next()[0] == "/gone/ada"
    for _ in range(300):  # the dispatcher forgets it after the 410 answer arrives
        if admin.get("/push/subscriptions").get_json()["subscriptions"] == []:
            return
        threading.Event().wait(0.1)
    pytest.fail("the subscription the push service called gone is still kept")


@pytest.mark.parametrize("change, code", [
    ({"endpoint": "ftp://push.example/1"}, "bad_subscription"),
    ({"keys": {"p256dh": b64(b"\x04" + b"\x01" * 10), "auth": b64(b"a" * 16)}}, "bad_subscription"),
    ({"keys": {"p256dh": b64(b"\x04" + b"\x01" * 64), "auth": b64(b"a" * 15)}}, "bad_subscription"),
])
def test_a_malformed_subscription_is_refused(admin, change, code):
    subscription = {**Device("https://push.example/1", 31).subscription(), **change}
    answer = admin.post("/push/subscriptions", {"subscription": subscription, "kinds": ["approve"]})
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == code


def test_an_unknown_kind_and_an_unknown_endpoint_are_refused(admin):
    device = Device("https://push.example/1", 32)
    answer = admin.post("/push/subscriptions", {"subscription": device.subscription(), "kinds": ["memo"]})
    assert answer.get_json()["error"]["code"] == "bad_subscription"
    gone = admin.send("DELETE", "/push/subscriptions", {"endpoint": "https://push.example/never"})
    assert gone.status_code == 404 and gone.get_json()["error"]["code"] == "subscription_not_found"


def test_unsubscribing_removes_only_that_device(admin):
    phone, laptop = Device("https://push.example/phone", 41), Device("https://push.example/laptop", 42)
    subscribe(admin, phone, ["approve", "confirmed"])
    subscribe(admin, laptop, ["sign"])
    assert admin.send("DELETE", "/push/subscriptions", {"endpoint": phone.endpoint}).status_code == 200
    assert admin.get("/push/subscriptions").get_json()["subscriptions"] == [
        {"id": 2, "endpoint": laptop.endpoint, "kinds": ["sign"]}]


def test_the_vapid_key_is_made_once_and_kept_private(config, admin):
    first = admin.get("/push/subscriptions").get_json()["public_key"]
    key_file = config.database.parent / "vapid_private_key.pem"
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    again = Browser(create_app(config).test_client())
    again.signed_in(again.post("/session", {"credential": admin.passkey.get(again.post("/session/options").get_json())}))
    assert again.get("/push/subscriptions").get_json()["public_key"] == first
    db = open_database(config.database)
    try:
        assert db.execute("SELECT count(*) FROM push_subscriptions").fetchone()[0] == 0
    finally:
        db.close()
