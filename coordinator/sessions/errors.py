"""Error codes of live signing ceremonies (docs/errors-ceremony.md)."""

from __future__ import annotations

from ..errors import register

CODES: dict[str, str] = {
    "ceremony_stale": "the proposal's ceremony is over (cancelled, expired, failed, replaced, broadcast or "
                      "confirmed): it takes no more signatures, requests or broadcasts",
    "ceremony_state": "a ceremony cannot move from its state to the one asked (for example broadcast "
                      "before the threshold); the details name both",
    "not_ready": "the ceremony has not reached its threshold: every input needs M signatures of distinct cosigners",
    "not_a_signer": "the user asked to sign holds no key of this wallet (not a keyholder or admin)",
    "bad_signature_upload": "a signature upload without a PSBT: send JSON {\"psbt\": base64 or hex}, "
                            "application/octet-stream, or a multipart file field named psbt",
    "no_chain_backend": "the server has no chain backend configured (HUDDLE_CHAIN), so it cannot broadcast",
    "bad_socket_request": "a Socket.IO request whose fields are missing or of the wrong type",
    "sign_request_unknown": "a sign step or result for a request this agent was not sent",
}
register(CODES)
