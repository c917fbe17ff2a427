"""The group ledger and its labels (docs/ledger.md): every member, viewers too,
reads the ledger and exports it as CSV or BIP-329 labels; keyholders and admins
import labels. A wallet the caller is not a member of answers 404, as a missing one."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ...governance import labels, ledger, ledger_csv
from ..auth import signed_in
from ..db import get_db
from ..openapi import INTEGER, STRING, WALLET_ID, obj, op
from .body import json_body
from .wallets import wallet_for

bp = Blueprint("ledger", __name__)
BASE = "/wallets/<int:wallet_id>"


@bp.get(f"{BASE}/ledger")
def show(wallet_id: int):
    wallet_for(wallet_id, "viewer")
    return jsonify({"ledger": ledger.build(get_db(), wallet_id).to_dict()})


@bp.get(f"{BASE}/ledger.csv")
def csv_export(wallet_id: int):
    wallet_for(wallet_id, "viewer")
    text = ledger_csv.to_string(ledger.build(get_db(), wallet_id))
    return _download(text, "text/csv; charset=utf-8; header=present", f"wallet-{wallet_id}-ledger.csv")


@bp.get(f"{BASE}/labels")
def labels_export(wallet_id: int):
    wallet_for(wallet_id, "viewer")
    text = labels.export(get_db(), wallet_id)
    return _download(text, "application/jsonl; charset=utf-8", f"wallet-{wallet_id}-labels.jsonl")


@bp.post(f"{BASE}/labels")
def labels_import(wallet_id: int):
    wallet = wallet_for(wallet_id, "keyholder")
    text = json_body({"text": str})["text"]
    result = labels.import_labels(get_db(), wallet_id, wallet.network, text, signed_in().user.id)
    return jsonify({"imported": result.to_dict()})


def _download(text: str, mimetype: str, filename: str) -> Response:
    response = Response(text, mimetype=mimetype.split(";")[0])
    response.headers["Content-Type"] = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _text_op(summary: str, media: str) -> dict:
    """An operation whose success is a file (not JSON): its media type says which."""
    found = op(summary, "viewer", params=[WALLET_ID], errors=(404,))
    found["responses"]["200"]["content"] = {media: {"schema": {"type": "string"}}}
    return found


_RESULT = {"type": "object", "required": ["imported"], "properties": {"imported": obj(
    {"records": INTEGER, "applied": INTEGER, "unchanged": INTEGER})}}
PATHS = {
    "/wallets/{wallet_id}/ledger": {"get": op(
        "The group ledger: each transaction touching the wallet (net sats, fee, height or pending, memo, label, "
        "proposer, approvers, signers) and the confirmed balance after each; pending last", "viewer",
        params=[WALLET_ID], errors=(404,))},
    "/wallets/{wallet_id}/ledger.csv": {"get": _text_op(
        "The ledger as CSV (RFC 4180; sats and BTC columns; text cells guarded against formula injection)",
        "text/csv")},
    "/wallets/{wallet_id}/labels": {
        "get": _text_op("BIP-329 labels as JSON Lines: memos as tx labels, then the imported labels",
                        "application/jsonl"),
        "post": op("Import BIP-329 labels (JSON Lines in `text`): every line checked, then all written or none; "
                   "memos are never changed", "keyholder", obj({"text": STRING}), params=[WALLET_ID],
                   errors=(404,))},
}
PATHS["/wallets/{wallet_id}/labels"]["post"]["responses"]["200"]["content"]["application/json"]["schema"] = _RESULT
