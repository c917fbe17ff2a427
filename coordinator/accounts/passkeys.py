"""Passkeys (WebAuthn) through the ``webauthn`` package.

The relying party (RP ID and origin) comes from pinned configuration, never
from a request's ``Host`` or ``X-Forwarded-Host`` (DESIGN.md). Challenges are
random, kept server-side, bound to a purpose and a subject (the setup, an
invite, a login) and spent on first use. ES256, EdDSA and RS256 are accepted
(Windows Hello uses RS256). Sign counters are recorded, and a regression is
logged, but not relied on: many passkeys always report 0.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass

from sqlite_utils import Database

from ..errors import Unauthenticated
from ..store.db import write
from . import tokens

CHALLENGE_TTL = 300  # seconds between asking for a passkey and its answer
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RelyingParty:
    rp_id: str  # a domain, e.g. huddle.example.org or localhost; never an IP address
    origin: str  # e.g. https://huddle.example.org or http://localhost:5000
    name: str = "Huddle"


@dataclass(frozen=True)
class NewPasskey:
    credential_id: str  # base64url, as the browser reports it
    public_key: bytes  # COSE
    sign_count: int


def webauthn_failures() -> tuple[type[Exception], ...]:
    """What a malformed or forged answer raises. webauthn is imported only when a
    passkey is used: it pulls in pyOpenSSL and pyasn1 (the server's footprint, issue 14)."""
    from webauthn.helpers import exceptions as webauthn_errors

    return (webauthn_errors.WebAuthnException, ValueError, TypeError, KeyError, AttributeError)


def algorithms() -> list:
    from webauthn.helpers.cose import COSEAlgorithmIdentifier as Alg

    return [Alg.ECDSA_SHA_256, Alg.EDDSA, Alg.RSASSA_PKCS1_v1_5_SHA_256]


def registration_options(db: Database, rp: RelyingParty, subject: str, user_name: str,
                         now: int | None = None) -> dict:
    """Options for ``navigator.credentials.create``: a discoverable credential."""
    import webauthn
    from webauthn.helpers.structs import (AuthenticatorSelectionCriteria, ResidentKeyRequirement,
                                          UserVerificationRequirement)

    options = webauthn.generate_registration_options(
        rp_id=rp.rp_id, rp_name=rp.name, user_name=user_name, supported_pub_key_algs=algorithms(),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.PREFERRED))
    _remember(db, options.challenge, "register", subject, now)
    return json.loads(webauthn.options_to_json(options))


def finish_registration(db: Database, rp: RelyingParty, subject: str, credential: object,
                        now: int | None = None) -> NewPasskey:
    import webauthn

    challenge = _spend(db, credential, "register", subject, now)
    try:
        verified = webauthn.verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.rp_id,
            expected_origin=rp.origin, supported_pub_key_algs=algorithms())
    except webauthn_failures() as err:
        raise Unauthenticated("passkey_rejected", f"the passkey registration does not verify: {err}") from None
    _refuse_cross_origin(credential)
    return NewPasskey(_b64url(verified.credential_id), verified.credential_public_key, verified.sign_count)


def add(db: Database, user_id: int, passkey: NewPasskey, now: int | None = None) -> None:
    with write(db):
        db.execute("INSERT INTO passkeys (credential_id, user_id, public_key, sign_count, created_at) "
                   "VALUES (?, ?, ?, ?, ?)", [passkey.credential_id, user_id, passkey.public_key.hex(),
                                              passkey.sign_count, tokens.now() if now is None else now])


def login_options(db: Database, rp: RelyingParty, now: int | None = None) -> dict:
    """Options for ``navigator.credentials.get``; any of the user's passkeys will do."""
    import webauthn
    from webauthn.helpers.structs import UserVerificationRequirement

    options = webauthn.generate_authentication_options(
        rp_id=rp.rp_id, user_verification=UserVerificationRequirement.PREFERRED)
    _remember(db, options.challenge, "login", "", now)
    return json.loads(webauthn.options_to_json(options))


def finish_login(db: Database, rp: RelyingParty, credential: object, now: int | None = None) -> int:
    """Verify a login assertion; returns the passkey's user id."""
    import webauthn

    row = _passkey_row(db, credential)
    challenge = _spend(db, credential, "login", "", now)
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.rp_id,
            expected_origin=rp.origin, credential_public_key=bytes.fromhex(row["public_key"]),
            credential_current_sign_count=0)  # compared below; a regression is logged, not refused
    except webauthn_failures() as err:
        raise Unauthenticated("passkey_rejected", f"the passkey assertion does not verify: {err}") from None
    _refuse_cross_origin(credential)
    if 0 < verified.new_sign_count <= row["sign_count"]:
        log.warning("passkey %s: sign count went from %d to %d (a cloned authenticator?)",
                    row["credential_id"], row["sign_count"], verified.new_sign_count)
    with write(db):
        db.execute("UPDATE passkeys SET sign_count = max(sign_count, ?) WHERE credential_id = ?",
                   [verified.new_sign_count, row["credential_id"]])
    return row["user_id"]


def public_keys(db: Database, user_id: int) -> list[tuple[str, bytes]]:
    """(credential id, COSE public key) of each of the user's passkeys."""
    return [(r[0], bytes.fromhex(r[1])) for r in db.execute(
        "SELECT credential_id, public_key FROM passkeys WHERE user_id = ? ORDER BY created_at", [user_id])]


def _passkey_row(db: Database, credential: object) -> dict:
    credential_id = credential.get("id") if isinstance(credential, dict) else None
    rows = list(db.query("SELECT * FROM passkeys WHERE credential_id = ?", [credential_id])) \
        if isinstance(credential_id, str) else []
    if not rows:
        raise Unauthenticated("passkey_rejected", "this passkey is not registered here")
    return rows[0]


def _remember(db: Database, challenge: bytes, purpose: str, subject: str, now: int | None) -> None:
    at = tokens.now() if now is None else now
    with write(db):
        db.execute("DELETE FROM webauthn_challenges WHERE expires_at <= ?", [at])
        db.execute("INSERT INTO webauthn_challenges (challenge, purpose, subject, expires_at) VALUES (?, ?, ?, ?)",
                   [_b64url(challenge), purpose, subject, at + CHALLENGE_TTL])


def _spend(db: Database, credential: object, purpose: str, subject: str, now: int | None) -> bytes:
    """The challenge the client signed, if we issued it for this purpose; used up."""
    import webauthn

    challenge = _client_data(credential).get("challenge")
    with write(db):
        row = db.execute("SELECT expires_at FROM webauthn_challenges WHERE challenge = ? AND purpose = ? "
                         "AND subject = ?", [challenge, purpose, subject]).fetchone()
        if row is not None:
            db.execute("DELETE FROM webauthn_challenges WHERE challenge = ?", [challenge])
    if row is None or (tokens.now() if now is None else now) >= row[0]:
        raise Unauthenticated("challenge_expired", "this passkey challenge is unknown, used or expired; start again")
    return webauthn.base64url_to_bytes(challenge)


def _client_data(credential: object) -> dict:
    import webauthn

    try:
        data = json.loads(webauthn.base64url_to_bytes(credential["response"]["clientDataJSON"]))
        if not isinstance(data, dict) or not isinstance(data.get("challenge"), str):
            raise ValueError("no challenge")
        return data
    except webauthn_failures():  # JSON and base64 errors are ValueErrors
        raise Unauthenticated("passkey_rejected", "the passkey answer has no readable clientDataJSON") from None


def _refuse_cross_origin(credential: object) -> None:
    if _client_data(credential).get("crossOrigin") is True:
        raise Unauthenticated("passkey_rejected", "a cross-origin passkey answer (from inside a foreign frame)")


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
