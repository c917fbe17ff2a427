"""Error codes of accounts and access (docs/errors-server.md)."""

from __future__ import annotations

from ..errors import register

CODES: dict[str, str] = {
    "not_signed_in": "no valid session or API token: sign in first",
    "forbidden": "your role in this wallet (or your token's scope) does not allow this",
    "setup_done": "the server already has its admin; the setup link is spent",
    "bad_setup_token": "the setup link is wrong",
    "invite_not_found": "no such invite (a wrong or mistyped link)",
    "invite_used": "the invite was already used; ask for a new one",
    "invite_expired": "the invite has expired; ask for a new one",
    "bad_role": "a role other than admin, keyholder or viewer",
    "bad_user_name": "a user name that is empty, too long or has control characters",
    "user_exists": "a user with this name already exists",
    "user_not_found": "no such user",
    "bad_token": "an API token that is malformed, unknown, expired or revoked",
    "bad_scope": "an API token scope Huddle does not know",
    "token_not_found": "no such API token of yours",
    "pairing_not_found": "no such agent pairing code (a wrong or mistyped code)",
    "pairing_used": "the pairing code was already used; make a new one",
    "pairing_expired": "the pairing code has expired (or its user was revoked); make a new one",
    "bad_recovery_code": "a recovery code that is wrong or already used",
    "passkey_rejected": "a passkey registration or assertion that does not verify "
                        "(wrong challenge, origin, RP ID, flags or signature)",
    "challenge_expired": "the sign-in challenge is unknown, used or expired; start again",
}
register(CODES)
