"""Animated QR for a proposal's ceremony (docs/qr.md, docs/pwa.md): the frame
strings to show, and the scanned parts read back, both by the core's own
encoders and bounded decoder (coordinator/qr/) so there is one implementation,
already hardened, instead of a second one in the browser.

The PWA renders each frame string as a QR code and sends the distinct part
strings it has scanned so far; the decoding is stateless (every call decodes
what it is given), so any server process can answer and nothing is held
between calls. A complete PSBT goes back to the PWA, which submits it through
the ceremony's signature route with ``"channel": "qr"``, so the verified merge
and the audit entry are the ones every channel uses."""

from __future__ import annotations

import threading
import time

from flask import Blueprint, current_app, jsonify, request

from ...errors import HuddleError, InvalidInput, RateLimited
from ...governance import proposals
from ...psbt import codec
from ...qr import PRESETS, StreamDecoder, density, encoder_for_psbt
from ...qr.compact import COMPACT, compact_psbt, require_documented
from ...qr.sequence import FORMATS, psbt_frames
from ...qr.stream import MAX_FRAME_LEN
from ...sessions import signatures
from ..auth import signed_in
from ..db import get_db
from ..openapi import PROPOSAL_ID, STRING, WALLET_ID, obj, op
from .body import json_body
from .wallets import wallet_for

bp = Blueprint("qr", __name__)
BASE = "/wallets/<int:wallet_id>/proposals/<int:proposal_id>/qr"
MAX_FRAMES = 1000  # a display loops; more frames than this only cost the server
MAX_PARTS = 2000  # distinct parts per decode call: a 100-input PSBT at `low` needs about 900
MAX_PART_CHARS = 1_000_000  # across the parts of one call
# Per user, per process: characters decoded, as a bucket. The app resends every part it
# has at each call, so an honest 100-input scan at `low` stays under 1 MB/s.
BURST_CHARS = 8_000_000
CHARS_PER_SECOND = 2_000_000
_lock = threading.Lock()


def _count() -> int | None:
    raw = request.args.get("frames")
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_FRAMES:
        raise InvalidInput("bad_request", f"frames is a whole number from 1 to {MAX_FRAMES}")
    return int(raw)


@bp.get(BASE)
def frames(wallet_id: int, proposal_id: int):
    """The combined PSBT as frame strings. UR: the plain fragments, then fountain mixes in
    Huddle's order (docs/qr.md, "Which mixes to show"), ``frames`` in all (default: two
    full cycles). BBQr: every part, once. ``compact=<device kind>``: the compact PSBT
    for a device documented to sign without ``non_witness_utxo`` (qr/compact.py)."""
    wallet = wallet_for(wallet_id, "viewer")
    fmt = request.args.get("format", "ur")
    if fmt not in FORMATS:
        raise InvalidInput("bad_request", f"format is one of {', '.join(FORMATS)}")
    name = request.args.get("density", "medium")
    if name not in PRESETS:
        raise InvalidInput("bad_request", f"density is one of {', '.join(PRESETS)}")
    preset, device = density(name), request.args.get("compact") or None
    if device is not None:
        require_documented(device)
    proposal = proposals.get(get_db(), wallet_id, proposal_id)
    psbt = signatures.combined(get_db(), wallet, proposal)
    full = len(codec.serialize(psbt))
    # Shown only: signatures from it come back through the merge against the stored PSBT.
    raw = codec.serialize(compact_psbt(psbt, device) if device else psbt)
    count = _count()
    if fmt == "ur" and count is None:
        count = min(MAX_FRAMES, 2 * encoder_for_psbt(raw, preset.ur_fragment_len).seq_len)
    found = psbt_frames(raw, fmt, preset, count=count)
    return jsonify({"format": found.format, "density": preset.name, "version": found.version,
                    "compact": device, "psbt_bytes": len(raw), "full_psbt_bytes": full,
                    "frames": list(found.frames)})


@bp.post(f"{BASE}/decode")
def decode(wallet_id: int, proposal_id: int):
    """The distinct parts scanned so far, decoded by the core's StreamDecoder: progress,
    and the PSBT once complete. A refused part is counted and skipped, as the camera
    misreads; it never stops the transfer."""
    wallet_for(wallet_id, "keyholder")
    proposals.get(get_db(), wallet_id, proposal_id)
    parts = json_body({"parts": list})["parts"]
    if len(parts) > MAX_PARTS or not all(isinstance(p, str) and len(p) <= MAX_FRAME_LEN for p in parts):
        raise InvalidInput("bad_json", f"parts are at most {MAX_PARTS} texts of at most "
                           f"{MAX_FRAME_LEN} characters")
    chars = sum(len(p) for p in parts)
    if chars > MAX_PART_CHARS:
        raise InvalidInput("bad_json", f"parts hold at most {MAX_PART_CHARS} characters per call")
    _charge(signed_in().user.id, chars)
    decoder, refused = StreamDecoder(), {}
    for part in dict.fromkeys(parts):
        if decoder.complete:
            break
        try:
            decoder.receive(part)
        except HuddleError as err:
            refused[err.code] = refused.get(err.code, 0) + 1
    body = {"progress": decoder.progress().to_dict(), "refused": refused, "psbt": None}
    if decoder.complete:
        body["psbt"] = codec.to_base64(codec.parse(decoder.psbt))
    return jsonify(body)


def _charge(user_id: int, chars: int) -> None:
    """Take ``chars`` from the user's bucket, or refuse with ``rate_limited`` (429)."""
    buckets = current_app.extensions.setdefault("huddle_qr_buckets", {})
    now = time.monotonic()
    with _lock:
        level, at = buckets.get(user_id, (BURST_CHARS, now))
        level = min(BURST_CHARS, level + (now - at) * CHARS_PER_SECOND)
        if chars > level:
            buckets[user_id] = (level, now)
            raise RateLimited("rate_limited", "too many QR parts decoded in a short time; wait a second and "
                              "send them again", retry_after=round((chars - level) / max(CHARS_PER_SECOND, 1), 1) + 0.1)
        buckets[user_id] = (level - chars, now)


_P = [WALLET_ID, PROPOSAL_ID]
_Q = [{"name": "format", "in": "query", "required": False, "schema": {"enum": list(FORMATS)}},
      {"name": "density", "in": "query", "required": False, "schema": {"enum": list(PRESETS)}},
      {"name": "compact", "in": "query", "required": False, "schema": {"enum": sorted(COMPACT)}},
      {"name": "frames", "in": "query", "required": False,
       "schema": {"type": "integer", "minimum": 1, "maximum": MAX_FRAMES}}]
PATHS = {
    "/wallets/{wallet_id}/proposals/{proposal_id}/qr": {"get": op(
        "The combined PSBT as animated-QR frame strings (UR crypto-psbt or BBQr) at a density preset, made by the "
        "core's encoders; the PWA draws each string as a QR code. compact=<device kind> shows the compact PSBT "
        "(without non_witness_utxo) to a device documented to sign without it", "viewer", params=_P + _Q,
        errors=(404,))},
    "/wallets/{wallet_id}/proposals/{proposal_id}/qr/decode": {"post": op(
        "Decode the distinct QR parts scanned so far with the core's bounded decoder: progress, refused parts by "
        "code, and the PSBT (base64) once complete", "keyholder",
        obj({"parts": {"type": "array", "maxItems": MAX_PARTS, "items": STRING}}), params=_P, errors=(404, 429))},
}
