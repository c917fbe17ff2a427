"""A software WebAuthn authenticator for tests: real ES256 keys and signatures
(``cryptography``), written from the WebAuthn Level 2 spec, apart from the
``webauthn`` package the server verifies with.

It answers the options the server gives (the JSON of ``navigator.credentials``
calls) with the JSON a browser would post back. Keyword overrides build the
negatives: another origin or RP ID, the wrong ceremony type, flags off,
cross-origin.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40  # authenticator data flags: user present, verified, attested data


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    """One passkey: a P-256 key pair and a credential id."""

    def __init__(self, origin: str, rp_id: str) -> None:
        self.origin, self.rp_id = origin, rp_id
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.sign_count = 0
        self.user_handle = b""

    def cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, challenge: str, origin: str | None, cross_origin: bool) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": cross_origin}).encode("utf-8")

    def _auth_data(self, flags: int, rp_id: str | None, attested: bytes = b"") -> bytes:
        return (hashlib.sha256((rp_id or self.rp_id).encode("ascii")).digest() + bytes([flags])
                + self.sign_count.to_bytes(4, "big") + attested)

    def create(self, options: dict, origin: str | None = None, rp_id: str | None = None,
               kind: str = "webauthn.create", flags: int = UP | UV | AT) -> dict:
        """Answer ``navigator.credentials.create(options)``."""
        self.user_handle = unb64url(options["user"]["id"])
        attested = (bytes(16) + len(self.credential_id).to_bytes(2, "big") + self.credential_id
                    + self.cose_public_key())
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {},
                                   "authData": self._auth_data(flags, rp_id, attested)})
        client_data = self._client_data(kind, options["challenge"], origin, False)
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
                "response": {"clientDataJSON": b64url(client_data), "attestationObject": b64url(attestation)},
                "clientExtensionResults": {}}

    def get(self, options: dict, origin: str | None = None, rp_id: str | None = None,
            kind: str = "webauthn.get", flags: int = UP | UV, cross_origin: bool = False) -> dict:
        """Answer ``navigator.credentials.get(options)`` with a signed assertion."""
        self.sign_count += 1
        auth_data = self._auth_data(flags, rp_id)
        client_data = self._client_data(kind, options["challenge"], origin, cross_origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
                "response": {"clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                             "signature": b64url(signature), "userHandle": b64url(self.user_handle)},
                "clientExtensionResults": {}}
