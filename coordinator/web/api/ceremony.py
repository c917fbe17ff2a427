"""Live signing ceremonies over REST (docs/ceremony.md): the ceremony's state and
who signed which input, signature uploads (JSON, or a file for token callers),
the explicit broadcast confirmation, sign requests to a member's agents, the
combined PSBT as a file, and the wallet's automatic-broadcast setting."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from ...errors import InvalidInput
from ...governance import proposals
from ...psbt import codec
from ...sessions import broadcast, ceremony, requests, signatures
from ..auth import signed_in
from ..ceremony_socket import after_signatures, agents_online, chain_backend, send_sign_request, view
from ..db import get_db
from ..openapi import INTEGER, PROPOSAL_ID, STRING, WALLET_ID, obj, op
from .body import json_body
from .wallets import wallet_for

bp = Blueprint("ceremony", __name__)
BASE = "/wallets/<int:wallet_id>/proposals/<int:proposal_id>"
MAX_UPLOAD = 1024 * 1024


def _load(wallet_id: int, proposal_id: int, at_least: str):
    wallet = wallet_for(wallet_id, at_least)
    proposals.expire_due(get_db())
    return wallet, proposals.get(get_db(), wallet_id, proposal_id)


@bp.get(f"{BASE}/ceremony")
def show(wallet_id: int, proposal_id: int):
    wallet, proposal = _load(wallet_id, proposal_id, "viewer")
    return jsonify({**view(get_db(), wallet, proposal), "agents_online": agents_online(get_db(), wallet_id)})


@bp.post(f"{BASE}/signatures")
def submit(wallet_id: int, proposal_id: int):
    wallet, proposal = _load(wallet_id, proposal_id, "keyholder")
    data, channel = _upload()
    db, user = get_db(), signed_in().user
    done = signatures.submit(db, wallet, proposal, data, user.id, channel)
    after_signatures(db, wallet, proposal, done)
    return jsonify({"added": done.added, **view(db, wallet, proposal)}), 201 if done.added else 200


def _upload() -> tuple[bytes | str, str]:
    data, channel = _read_upload()
    if channel not in ("upload", "qr"):
        raise InvalidInput("bad_json", "channel is upload (a file) or qr (decoded from animated QR)")
    return data, channel


def _read_upload() -> tuple[bytes | str, str]:
    """The PSBT from JSON {"psbt", "channel"?}, a raw body, or a multipart file ``psbt``."""
    if request.is_json:
        data = json_body({"psbt": str}, {"channel": str})
        return data["psbt"], data.get("channel", "upload")
    if request.mimetype == "multipart/form-data":
        found = request.files.get("psbt")
        if found is None:
            raise InvalidInput("bad_signature_upload", "the multipart body has no file field named psbt")
        return found.read(MAX_UPLOAD + 1), request.form.get("channel", "upload")
    if request.mimetype == "application/octet-stream":
        return request.get_data(), request.args.get("channel", "upload")
    raise InvalidInput("bad_signature_upload", "send JSON {\"psbt\": ...}, application/octet-stream, "
                       "or multipart/form-data with a file field psbt")


@bp.post(f"{BASE}/broadcast")
def confirm_broadcast(wallet_id: int, proposal_id: int):
    wallet, proposal = _load(wallet_id, proposal_id, "keyholder")
    db, user = get_db(), signed_in().user
    backend = chain_backend()
    broadcast.claim(db, proposal, user.id)
    try:
        broadcast.send(db, wallet, proposal, backend, by=user.id)
    finally:
        getattr(backend, "close", lambda: None)()
    return jsonify(view(db, wallet, proposal))


@bp.post(f"{BASE}/sign-requests")
def sign_request(wallet_id: int, proposal_id: int):
    wallet, proposal = _load(wallet_id, proposal_id, "keyholder")
    asked = json_body({"user": int})["user"]
    payload = requests.ask(get_db(), wallet, proposal, asked, signed_in().user.id)
    agents = send_sign_request(asked, payload)
    return jsonify({"request_id": payload["request_id"], "user": asked, "agents": agents}), 201


@bp.get(f"{BASE}/psbt")
def download(wallet_id: int, proposal_id: int):
    wallet, proposal = _load(wallet_id, proposal_id, "viewer")
    raw = codec.serialize(signatures.combined(get_db(), wallet, proposal))
    return Response(raw, mimetype="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="proposal-{proposal_id}.psbt"'})


@bp.get("/wallets/<int:wallet_id>/ceremony-settings")
def settings(wallet_id: int):
    wallet_for(wallet_id, "viewer")
    return jsonify({"auto_broadcast": ceremony.auto_broadcast(get_db(), wallet_id)})


@bp.put("/wallets/<int:wallet_id>/ceremony-settings")
def change_settings(wallet_id: int):
    wallet_for(wallet_id, "admin")
    on = json_body({"auto_broadcast": bool})["auto_broadcast"]
    ceremony.set_auto_broadcast(get_db(), wallet_id, on)
    return jsonify({"auto_broadcast": on})


_P = [WALLET_ID, PROPOSAL_ID]
_UPLOAD = {"required": True, "content": {
    "application/json": {"schema": obj({"psbt": STRING}, {"channel": {"enum": ["upload", "qr"]}})},
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["psbt"],
                                       "properties": {"psbt": {"type": "string", "format": "binary"}}}}}}
PATHS = {
    "/wallets/{wallet_id}/proposals/{proposal_id}/ceremony": {"get": op(
        "The signing ceremony: its state, who signed which input, the combined PSBT, and agents_online (the "
        "keyholders whose signer agent is connected now)", "viewer", params=_P,
        errors=(404,))},
    "/wallets/{wallet_id}/proposals/{proposal_id}/signatures": {"post": {**op(
        "Add signatures: a signed PSBT as JSON (base64 or hex), a binary body or a multipart file (token "
        "callers); only verified signatures of the wallet's keys over this proposal's transaction are kept",
        "keyholder", ok=201, params=_P, errors=(404, 409, 422)), "requestBody": _UPLOAD}},
    "/wallets/{wallet_id}/proposals/{proposal_id}/broadcast": {"post": op(
        "Broadcast once the threshold is reached (the group's explicit confirmation)", "keyholder", params=_P,
        errors=(404, 409, 502))},
    "/wallets/{wallet_id}/proposals/{proposal_id}/sign-requests": {"post": op(
        "Ask a keyholder's agents to sign (Socket.IO sign_request in /agent)", "keyholder", obj({"user": INTEGER}),
        201, params=_P, errors=(404, 409, 422))},
    "/wallets/{wallet_id}/proposals/{proposal_id}/psbt": {"get": op(
        "The combined PSBT as a binary file", "viewer", params=_P, errors=(404,))},
    "/wallets/{wallet_id}/ceremony-settings": {
        "get": op("Whether the wallet broadcasts as soon as a ceremony reaches its threshold", "viewer",
                  params=[WALLET_ID], errors=(404,)),
        "put": op("Turn automatic broadcast on or off", "admin", obj({"auto_broadcast": {"type": "boolean", "enum": [False, True]}}),
                  params=[WALLET_ID], errors=(404,))},
}
