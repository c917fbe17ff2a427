"""An independent WebAuthn assertion verifier for tests, on ``cryptography``
alone (WebAuthn Level 2, section 7.2), to check the server's approvals apart
from the ``webauthn`` package. ES256 only: the software authenticator's kind."""

from __future__ import annotations

import hashlib
import json

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from .authenticator import unb64url


def es256_key(cose: bytes) -> ec.EllipticCurvePublicKey:
    key = cbor2.loads(cose)
    assert key[1] == 2 and key[3] == -7 and key[-1] == 1, "not an ES256 P-256 COSE key"
    return ec.EllipticCurvePublicNumbers(int.from_bytes(key[-2], "big"), int.from_bytes(key[-3], "big"),
                                         ec.SECP256R1()).public_key()


def why_invalid(approval: dict, cose: bytes, challenge: bytes, rp_id: str, origin: str) -> str | None:
    """None if the assertion verifies; otherwise the first reason it does not."""
    client_data_raw = unb64url(approval["client_data_json"])
    client = json.loads(client_data_raw)
    auth = unb64url(approval["authenticator_data"])
    checks = [
        (client.get("type") == "webauthn.get", "type"),
        (unb64url(client.get("challenge", "")) == challenge, "challenge"),
        (client.get("origin") == origin, "origin"),
        (client.get("crossOrigin") in (None, False), "cross-origin"),
        (auth[:32] == hashlib.sha256(rp_id.encode("ascii")).digest(), "rp id hash"),
        (len(auth) >= 37 and auth[32] & 0x01, "user present"),
    ]
    for ok, reason in checks:
        if not ok:
            return reason
    try:
        es256_key(cose).verify(unb64url(approval["signature"]), auth + hashlib.sha256(client_data_raw).digest(),
                               ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return "signature"
    return None
