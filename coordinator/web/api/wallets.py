"""Wallets as members see them, and the wallet's audit chain. A wallet a caller
is not a member of answers exactly as a missing one does (404)."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, g, jsonify, request

from ...accounts import roles
from ...errors import InvalidInput
from ...governance import audit
from ...store import wallets
from ...store.db import write
from ..auth import server_admin, signed_in
from ..db import get_db
from ..openapi import STRING, WALLET_ID, obj, op
from .body import json_body

bp = Blueprint("wallets", __name__)


def wallet_for(wallet_id: int, at_least: str) -> wallets.Wallet:
    """The wallet, if the caller's role in it is at least ``at_least``; its
    chain head then rides on the response (``Huddle-Audit-Head``)."""
    caller = signed_in()
    db = get_db()
    roles.require(db, caller.user.id, wallet_id, at_least)
    g.audit_chain = audit.wallet_chain(wallet_id)
    name = db.execute("SELECT name FROM wallets WHERE id = ?", [wallet_id]).fetchone()[0]
    return wallets.get(db, name)


def _summary(wallet: wallets.Wallet, role: str) -> dict:
    d = wallet.descriptor
    return {"id": wallet.id, "name": wallet.name, "network": wallet.network, "role": role,
            "threshold": d.threshold, "n": d.n, "script_type": d.script_type, "policy_id": d.policy_id}


@bp.get("/wallets")
def list_mine():
    caller = signed_in()
    db = get_db()
    mine = []
    for wallet_id, role in roles.wallets_of(db, caller.user.id):
        name = db.execute("SELECT name FROM wallets WHERE id = ?", [wallet_id]).fetchone()[0]
        mine.append({**_summary(wallets.get(db, name), role), "balance": _balance(db, wallet_id)})
    return jsonify({"wallets": mine})


def _balance(db, wallet_id: int) -> dict:
    """Integer sats from the synced coins, as the ledger counts them (docs/ledger.md)."""
    from ...governance import ledger

    found = ledger.build(db, wallet_id)
    return {"confirmed": found.confirmed, "pending": found.pending, "total": found.confirmed + found.pending,
            "synced_at": found.synced_at}


@bp.post("/wallets/import")
def import_wallet():
    """A wallet file in any format ``huddle wallet import`` reads; the importer
    becomes its admin, and its chain starts with the policy id."""
    caller = server_admin()
    data = json_body({"text": str}, {"name": str})
    db, network = get_db(), current_app.config["HUDDLE"].network
    with write(db):
        wallet = wallets.import_text(db, data["text"], network, data.get("name"))
        roles.grant(db, caller.user.id, wallet.id, "admin")
        audit.start_wallet_chain(db, wallet.id, actor=f"user:{caller.user.id}")
    g.audit_chain = audit.wallet_chain(wallet.id)
    return jsonify({"wallet": _summary(wallet, "admin")}), 201


@bp.get("/wallets/<int:wallet_id>")
def show(wallet_id: int):
    wallet = wallet_for(wallet_id, "viewer")
    role = roles.role_of(get_db(), signed_in().user.id, wallet_id)
    body = _summary(wallet, role)
    body["descriptor"] = wallet.descriptor.to_string()
    body["cosigners"] = _cosigners(get_db(), wallet)
    return jsonify({"wallet": body})


def _cosigners(db, wallet: wallets.Wallet) -> list[dict]:
    """Each cosigner slot: fingerprint, label, device kind (the PWA's QR profile), and its
    owner when the wallet was set up on this server (None for an imported one)."""
    owners = dict(db.execute("SELECT s.position, s.user_id FROM draft_slots s JOIN wallet_drafts d ON "
                             "d.id = s.draft_id WHERE d.wallet_id = ?", [wallet.id]).fetchall())
    rows = db.execute("SELECT position, fingerprint, label, device FROM cosigners WHERE wallet_id = ? "
                      "ORDER BY position", [wallet.id]).fetchall()
    return [{"position": p, "fingerprint": f, "label": label, "device": device, "owner": owners.get(p)}
            for p, f, label, device in rows]


@bp.post("/wallets/<int:wallet_id>/addresses")
def receive(wallet_id: int):
    """A fresh receive address, never handed out before (gap-limited, like ``huddle wallet
    receive``), labelled, with who asked recorded on the label (DESIGN, "Coins, locks and
    replacements"). Unverified until a device shows it."""
    from ...governance import labels
    from ...wallet import addresses

    wallet = wallet_for(wallet_id, "keyholder")
    label = json_body({"label": str})["label"].strip()
    if not 1 <= len(label) <= 255:
        raise InvalidInput("bad_json", "label is 1 to 255 characters: what the address is for")
    db, user = get_db(), signed_in().user
    with write(db):  # the address and its label together, or neither
        address = addresses.issue(db, wallet)
        line = json.dumps({"type": "addr", "ref": address.address, "label": label})
        labels.import_labels(db, wallet_id, wallet.network, line, user.id)
    return jsonify({"address": {**address.to_dict(), "label": label, "asked_by": user.id,
                                "verified": False}}), 201


@bp.get("/wallets/<int:wallet_id>/fee-estimates")
def fee_estimates(wallet_id: int):
    """The chain backend's estimates, confirmation target in blocks -> sat/kvB."""
    from ..ceremony_socket import chain_backend

    wallet_for(wallet_id, "viewer")
    backend = chain_backend()
    try:
        found = backend.fee_estimates()
    finally:
        getattr(backend, "close", lambda: None)()
    return jsonify({"estimates": [{"target": t, "fee_rate": r} for t, r in sorted(found.items())]})


@bp.get("/wallets/<int:wallet_id>/backup")
def backup(wallet_id: int):
    """The wallet as a file for another tool: descriptor text, BSMS, Coldcard,
    Caravan or Sparrow/Specter JSON (docs/wallet-formats.md)."""
    from ...wallet.formats import FORMATS

    wallet = wallet_for(wallet_id, "viewer")
    fmt = request.args.get("format", "descriptor")
    if fmt not in FORMATS:
        raise InvalidInput("unknown_format", f"format is one of {', '.join(FORMATS)}")
    return jsonify({"format": fmt, "filename": f"{wallet.name}-{fmt}.txt",
                    "text": wallets.export_text(wallet, fmt)})


@bp.get("/wallets/<int:wallet_id>/audit")
def audit_entries(wallet_id: int):
    wallet_for(wallet_id, "viewer")
    after = request.args.get("after", "0")
    if not after.isdigit() or len(after) > 15:
        raise InvalidInput("bad_request", "after must be a sequence number")
    entries = audit.entries(get_db(), audit.wallet_chain(wallet_id), after=int(after))
    return jsonify({"entries": [e.to_dict() for e in entries]})


PATHS = {
    "/wallets/{wallet_id}/addresses": {"post": op(
        "Hand out a fresh receive address (never handed out twice, gap-limited) with its label; who asked is "
        "recorded on the label. Unverified until a device shows it", "keyholder",
        obj({"label": STRING}), 201, params=[WALLET_ID], errors=(404, 409))},
    "/wallets/{wallet_id}/fee-estimates": {"get": op(
        "The chain backend's fee estimates: confirmation target in blocks and sat/kvB", "viewer",
        params=[WALLET_ID], errors=(404, 502))},
}
