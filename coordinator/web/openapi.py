"""The OpenAPI 3.1 document of /api/v1: the API's reference (docs/api.md).

Hand-written, and kept true by tests/web/test_openapi.py: every route the app
serves is here with its methods, and nothing here is missing from the app.
"""

from __future__ import annotations

from .. import __version__

_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}}}}}
_ANY = {"type": "object"}
_CREDENTIAL = {"type": "object", "description": "the PublicKeyCredential JSON the browser returns"}


def _obj(required: dict, optional: dict | None = None) -> dict:
    return {"type": "object", "required": list(required), "additionalProperties": False,
            "properties": {**required, **(optional or {})}}


_S, _I = {"type": "string"}, {"type": "integer"}
_WALLET_ID = {"name": "wallet_id", "in": "path", "required": True, "schema": _I}
_PROPOSAL_ID = {"name": "proposal_id", "in": "path", "required": True, "schema": _I}
_DRAFT = [{"name": "draft_id", "in": "path", "required": True, "schema": _I}]
_SLOT = [*_DRAFT, {"name": "position", "in": "path", "required": True, "schema": _I}]


# Who may call an operation, as ``x-huddle-access``; the authorization sweep
# (tests/web/test_authorization_sweep.py) reads it.
ACCESS = {"anyone": "anyone", "user": "a signed-in user", "session": "a signed-in browser session (not a token)",
          "viewer": "a member of the wallet (viewer or above)", "keyholder": "a keyholder or admin of the wallet",
          "admin": "the wallet's admin", "server_admin": "the server's admin",
          "setup_member": "a signed-in user who drafted the wallet or owns one of its slots (others get 404)",
          "agent": "the signer agent, with its own agent-scoped API token"}


def _op(summary: str, who: str, body: dict | None = None, ok: int = 200, params: list | None = None,
        errors: tuple[int, ...] = ()) -> dict:
    codes = {400, 403, 500} | set(errors) | ({401} if who != "anyone" else set())
    op: dict = {"summary": summary, "description": f"Who may call: {ACCESS[who]}.", "x-huddle-access": who,
                "responses": {str(ok): {"description": "success",
                                        "content": {"application/json": {"schema": _ANY}}},
                              **{str(c): {"$ref": "#/components/responses/Error"} for c in sorted(codes)}}}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    if who == "anyone":
        op["security"] = []
    return op


_MEMBER_GONE = (404,)
PATHS = {
    "/openapi.json": {"get": _op("This document", "anyone")},
    "/healthz": {"get": _op("Liveness: 200 {\"status\": \"ok\"} once the database answers, else 503; "
                            "also served at /healthz", "anyone", errors=(503,))},
    "/setup": {"get": _op("Whether the server still needs its admin", "anyone"),
               "post": _op("Create the admin with the setup token and a passkey; signs in", "anyone",
                           _obj({"token": _S, "name": _S, "credential": _CREDENTIAL}), 201, errors=(401, 410))},
    "/setup/options": {"post": _op("Passkey registration options for the admin", "anyone",
                                   _obj({"token": _S, "name": _S}), errors=(401, 410))},
    "/session": {"get": _op("The signed-in user, their CSRF token and wallets", "user"),
                 "post": _op("Sign in with a passkey assertion", "anyone", _obj({"credential": _CREDENTIAL}),
                             201, errors=(401, 429)),
                 "delete": _op("Sign out", "user")},
    "/session/options": {"post": _op("Passkey sign-in options (a fresh challenge)", "anyone", errors=(429,))},
    "/session/recovery": {"post": _op("Sign in with a one-time recovery code", "anyone", _obj({"code": _S}),
                                      201, errors=(401, 429))},
    "/invites": {"post": _op("Invite someone to the server alone (no wallet, no role): they join as a plain "
                             "user, who can then own a draft's slot", "server_admin", _obj({}, {"ttl": _I}), 201)},
    "/invites/check": {"post": _op("What an invite grants, if it is still usable", "anyone",
                                   _obj({"token": _S}), errors=(404, 410, 429))},
    "/invites/options": {"post": _op("Passkey registration options for an invitee", "anyone",
                                     _obj({"token": _S, "name": _S}), errors=(404, 410, 429))},
    "/invites/accept": {"post": _op("Join with an invite and a new passkey; signs in", "anyone",
                                    _obj({"token": _S, "name": _S, "credential": _CREDENTIAL}), 201,
                                    errors=(401, 404, 409, 410, 429))},
    "/wallets": {"get": _op("The caller's wallets and roles", "user")},
    "/wallets/import": {"post": _op("Import a wallet file (any format `huddle wallet import` reads)",
                                    "server_admin", _obj({"text": _S}, {"name": _S}), 201,
                                    errors=(409, 422))},
    "/wallets/{wallet_id}": {"get": _op("A wallet: policy, descriptor, the caller's role", "viewer",
                                        params=[_WALLET_ID], errors=_MEMBER_GONE)},
    "/wallets/{wallet_id}/audit": {"get": _op(
        "The wallet's audit entries after sequence number `after`", "viewer",
        params=[_WALLET_ID, {"name": "after", "in": "query", "required": False, "schema": _I}],
        errors=_MEMBER_GONE)},
    "/wallets/{wallet_id}/backup": {"get": _op(
        "The wallet as a file: descriptor, bsms, coldcard, caravan or specter (`?format=`)", "viewer",
        params=[_WALLET_ID, {"name": "format", "in": "query", "required": False,
                             "schema": {"enum": ["descriptor", "bsms", "coldcard", "caravan", "specter"]}}],
        errors=(404, 422))},
    "/wallets/{wallet_id}/invites": {"post": _op("Invite someone to the wallet with a role", "admin",
                                                 _obj({"role": {"enum": ["admin", "keyholder", "viewer"]}},
                                                      {"ttl": _I}), 201, params=[_WALLET_ID],
                                                 errors=_MEMBER_GONE)},
    "/wallets/{wallet_id}/proposals": {
        "get": _op("The wallet's proposals, newest first", "viewer", params=[_WALLET_ID], errors=_MEMBER_GONE),
        "post": _op("Propose a spend: payments, a memo saying why, a fee rate (sat/kvB); returns the PSBT",
                    "keyholder", _obj({"payments": {"type": "array", "items": _obj({"address": _S, "amount": _I})},
                                       "memo": _S, "fee_rate": _I},
                                      {"coins": {"type": "array", "items": _S}, "fee_ceiling": _I, "ttl": _I}),
                    201, params=[_WALLET_ID], errors=(404, 409, 422))},
    "/wallets/{wallet_id}/proposals/{proposal_id}": {"get": _op(
        "A proposal, its PSBT (re-checked by the signer checks) and who approved it", "viewer",
        params=[_WALLET_ID, _PROPOSAL_ID], errors=(404, 409, 422))},
    "/wallets/{wallet_id}/proposals/{proposal_id}/cancel": {"post": _op(
        "Cancel an open proposal (its proposer or a wallet admin); frees its coins", "keyholder",
        params=[_WALLET_ID, _PROPOSAL_ID], errors=(404, 409))},
    "/wallets/{wallet_id}/proposals/{proposal_id}/comments": {
        "get": _op("The proposal's comments, oldest first", "viewer", params=[_WALLET_ID, _PROPOSAL_ID],
                   errors=(404,)),
        "post": _op("Comment on a proposal (1 to 2000 characters); the audit chain keeps the text's hash",
                    "keyholder", _obj({"text": _S}), 201, params=[_WALLET_ID, _PROPOSAL_ID], errors=(404,))},
    "/wallets/{wallet_id}/proposals/{proposal_id}/approvals/options": {"post": _op(
        "Passkey options whose challenge is the proposal's intent digest", "keyholder",
        params=[_WALLET_ID, _PROPOSAL_ID], errors=(404,))},
    "/wallets/{wallet_id}/proposals/{proposal_id}/approvals": {"post": _op(
        "Approve with a passkey assertion over the intent digest", "keyholder", _obj({"credential": _CREDENTIAL}),
        201, params=[_WALLET_ID, _PROPOSAL_ID], errors=(404, 409))},
    "/drafts": {
        "get": _op("The wallet drafts the caller drafted or owns a slot in", "user"),
        "post": _op("Draft a wallet: name, script type (wsh, sh-wsh), threshold, one slot owner (user id) per "
                    "cosigner; the server's network", "server_admin",
                    _obj({"name": _S, "script_type": {"enum": ["wsh", "sh-wsh"]}, "threshold": _I,
                          "slots": {"type": "array", "items": _I}}), 201, errors=(409,))},
    "/drafts/{draft_id}": {"get": _op("A wallet draft: its slots, keys, descriptor and first address",
                                      "setup_member", params=_DRAFT, errors=(404,))},
    "/drafts/{draft_id}/slots/{position}": {"post": _op(
        "Fill the caller's slot with their key, [fingerprint/48h/coin'/account'/script']xpub; the last "
        "one builds the descriptor", "setup_member", _obj({"key": _S}), params=_SLOT, errors=(404, 409))},
    "/drafts/{draft_id}/slots/{position}/confirm": {"post": _op(
        "Confirm the descriptor is registered on the caller's device, with the first address it showed; "
        "the last one activates the wallet", "setup_member", _obj({"address": _S}), params=_SLOT,
        errors=(404, 409))},
    "/drafts/{draft_id}/cancel": {"post": _op("Cancel an open draft (the admin who drafted it)", "setup_member",
                                              params=_DRAFT, errors=(404, 409))},
    "/tokens": {"get": _op("The caller's API tokens", "session"),
                "post": _op("Create an API token (the secret is shown once)", "session",
                            _obj({"scopes": {"type": "array", "items": {"enum": ["read", "agent"]}}},
                                 {"label": _S}), 201)},
    "/tokens/{token_id}": {"delete": _op("Revoke one of the caller's API tokens", "session",
                                         params=[{"name": "token_id", "in": "path", "required": True,
                                                  "schema": _S}], errors=(404,))},
    "/users": {"get": _op("Every user (id, name, is_admin, revoked), to pick a draft's slot owners",
                          "server_admin")},
    "/agent/pairings": {
        "get": _op("The caller's agent pairing codes (never the codes themselves)", "session"),
        "post": _op("Make a pairing code for the caller's signer agent: single-use, 10 minutes", "session",
                    ok=201)},
    "/agent/pairings/redeem": {"post": _op(
        "Spend a pairing code: an agent-scoped API token of its maker (the secret is shown once)", "anyone",
        _obj({"code": _S, "label": _S}), 201, errors=(404, 410, 429))},
    "/agent/token": {"delete": _op("Revoke the calling agent's own token (unpairing)", "agent")},
    "/users/{user_id}/revoke": {"post": _op("Revoke a user: their sessions, tokens and sockets end",
                                            "server_admin", params=[{"name": "user_id", "in": "path",
                                                                           "required": True, "schema": _I}],
                                            errors=(404,))},
}


# Public names for the blueprint modules that carry their own paths (see _all_paths).
op, obj, STRING, INTEGER, WALLET_ID, PROPOSAL_ID, CREDENTIAL = _op, _obj, _S, _I, _WALLET_ID, _PROPOSAL_ID, _CREDENTIAL


def _all_paths() -> dict:
    """PATHS above, plus the ``PATHS`` of each blueprint module in api/ that keeps its own
    next to its routes (the later concepts do); a path defined twice is a bug."""
    from . import api

    merged = dict(PATHS)
    for module in api.modules():
        for path, methods in getattr(module, "PATHS", {}).items():
            if path in merged:
                raise RuntimeError(f"OpenAPI path {path} is defined twice")
            merged[path] = methods
    return merged


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Huddle API", "version": __version__,
                 "description": "See docs/api.md for sign-in, CSRF and the Huddle-Audit-Head header."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"session": []}, {"token": []}],
        "paths": _all_paths(),
        "components": {
            "schemas": {"Error": _ERROR},
            "responses": {"Error": {"description": "the one error shape (docs/errors.md)",
                                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "huddle_session"},
                "token": {"type": "http", "scheme": "bearer", "description": "hdl_<id>_<secret>"}},
        },
    }
