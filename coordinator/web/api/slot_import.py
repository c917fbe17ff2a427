"""Keyholders with only a QR device (docs/setup-ceremony.md, "Filling a slot from
a QR device"; docs/qr.md): a thin adapter over the core.

- A slot owner fills their slot from what their device showed or wrote: the
  scanned UR or BBQr parts, or an exported file's text. The core reads the key
  (coordinator/qr/account_export.py) for the draft's network and script type,
  and the one slot-filling function (governance/wallet_setup.fill) does the rest,
  so the checks and the audit entry are those of a pasted key.
- The registration is shown back as QR frame strings in the device's own format
  (coordinator/qr/registration.py), for a draft once its descriptor is built and
  for an active wallet.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from ...errors import Conflict, InvalidInput, NotFound
from ...governance import wallet_setup
from ...qr import PRESETS, density
from ...qr.account_export import MAX_EXPORT_LEN, MAX_PARTS, read_export
from ...qr.registration import FORMATS, registration_frames
from ...wallet.descriptor import MultisigDescriptor
from ..auth import signed_in
from ..db import get_db
from ..openapi import INTEGER, STRING, WALLET_ID, obj, op
from .body import json_body
from .wallets import wallet_for

bp = Blueprint("slot_import", __name__)
_MAX_ID = 2**62  # larger path numbers cannot be rows (SQLite integers are 64-bit)


def _draft(draft_id: int) -> wallet_setup.Draft:
    if draft_id > _MAX_ID:
        raise NotFound("draft_not_found", "no such wallet draft")
    draft = wallet_setup.get(get_db(), draft_id, signed_in().user.id)
    g.audit_chain = wallet_setup.setup_chain(draft.id)
    return draft


@bp.post("/drafts/<int:draft_id>/slots/<int:position>/qr")
def fill_from_qr(draft_id: int, position: int):
    """The slot owner's key from their device's QR parts or exported file."""
    draft = _draft(draft_id)
    parts = json_body({"parts": list})["parts"]
    if not 1 <= len(parts) <= MAX_PARTS or not all(isinstance(p, str) for p in parts) \
            or sum(len(p) for p in parts) > MAX_EXPORT_LEN:
        raise InvalidInput("bad_json", f"parts are 1 to {MAX_PARTS} texts, at most {MAX_EXPORT_LEN} "
                           "characters in all")
    cosigner = read_export(parts, draft.network, draft.script_type)
    filled = wallet_setup.fill(get_db(), draft.id, position, signed_in().user.id, cosigner.key_expression())
    return jsonify({"draft": filled.to_dict(), "key": cosigner.key_expression()})


def _name(default: str) -> str:
    """``?name=``: the name to register under (Coldcard takes 1-20 printable ASCII
    characters and Huddle refuses rather than cuts, as ``wallet export --as-name``)."""
    name = request.args.get("name", default)
    if not 1 <= len(name) <= 64:
        raise InvalidInput("bad_request", "name is 1 to 64 characters")
    return name


def _format_and_density() -> tuple[str, object]:
    fmt = request.args.get("format", "descriptor")
    if fmt not in FORMATS:
        raise InvalidInput("bad_request", f"format is one of {', '.join(FORMATS)}")
    name = request.args.get("density", "medium")
    if name not in PRESETS:
        raise InvalidInput("bad_request", f"density is one of {', '.join(PRESETS)}")
    return fmt, density(name)


@bp.get("/drafts/<int:draft_id>/registration/qr")
def draft_registration(draft_id: int):
    """The built descriptor as QR frames, for each keyholder to register before confirming."""
    draft = _draft(draft_id)
    fmt, preset = _format_and_density()
    if draft.descriptor is None:
        raise Conflict("setup_not_ready", "the descriptor is built once every slot holds a key")
    shown = registration_frames(MultisigDescriptor.from_string(draft.descriptor), draft.network,
                                _name(draft.name), fmt, preset)
    return jsonify({**shown.to_dict(), "density": preset.name, "first_address": draft.first_address})


@bp.get("/wallets/<int:wallet_id>/registration/qr")
def wallet_registration(wallet_id: int):
    """An active wallet's registration as QR frames (a replaced or reset device)."""
    wallet = wallet_for(wallet_id, "viewer")
    fmt, preset = _format_and_density()
    shown = registration_frames(wallet.descriptor, wallet.network, _name(wallet.name), fmt, preset)
    return jsonify({**shown.to_dict(), "density": preset.name,
                    "first_address": wallet.descriptor.address(0, 0, wallet.network)})


_DRAFT = [{"name": "draft_id", "in": "path", "required": True, "schema": INTEGER}]
_SLOT = [*_DRAFT, {"name": "position", "in": "path", "required": True, "schema": INTEGER}]
_Q = [{"name": "format", "in": "query", "required": False, "schema": {"enum": list(FORMATS)}},
      {"name": "density", "in": "query", "required": False, "schema": {"enum": list(PRESETS)}},
      {"name": "name", "in": "query", "required": False, "schema": {"type": "string", "minLength": 1,
                                                                      "maxLength": 64}}]
PATHS = {
    "/drafts/{draft_id}/slots/{position}/qr": {"post": op(
        "Fill the caller's slot from their QR-only device: the scanned UR (crypto-account, account-descriptor, "
        "crypto-hdkey, hdkey) or BBQr parts, or the exported file's text (Coldcard xpub JSON, "
        "[fingerprint/path]xpub); the key for the draft's script type and network is read and filled as a "
        "pasted one", "setup_member", obj({"parts": {"type": "array", "maxItems": MAX_PARTS, "items": STRING}}),
        params=_SLOT, errors=(404, 409))},
    "/drafts/{draft_id}/registration/qr": {"get": op(
        "The built descriptor as QR frame strings in a signer's own format (descriptor text, crypto-output or "
        "output-descriptor UR, Coldcard file as BBQr), with the first address to compare", "setup_member",
        params=_DRAFT + _Q, errors=(404, 409))},
    "/wallets/{wallet_id}/registration/qr": {"get": op(
        "The wallet's registration as QR frame strings in a signer's own format (descriptor text, crypto-output "
        "or output-descriptor UR, Coldcard file as BBQr), with the first address to compare", "viewer",
        params=[WALLET_ID] + _Q, errors=(404,))},
}
