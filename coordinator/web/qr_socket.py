"""Scanning over the socket (issue 13 item 4; docs/pwa.md "Scanning").

The camera reads the same parts again and again; the app sends each new distinct
part once, as ``qr_part`` in the /wallets namespace, to a ``StreamDecoder`` this
process keeps for the socket, and gets the progress back as the ack. Re-posting
every part to ``POST .../qr/decode`` decodes from scratch at each call, so a scan
of n parts costs n^2/2 part decodes there and n here. The REST route stays for
uploads and for a client without a socket.

Bounded: one scan per socket (a new proposal starts afresh), ``MAX_PARTS``
distinct parts per scan, a part at most ``MAX_FRAME_LEN`` characters, at most
``MAX_SCANS`` scans per process (the scans of closed sockets go first), and the
same per-user character bucket as the REST route."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import current_app, request

from ..accounts import roles
from ..errors import HuddleError, InvalidInput
from ..governance import proposals
from ..psbt import codec
from ..qr import StreamDecoder
from ..qr.stream import MAX_FRAME_LEN
from .api.qr import MAX_PARTS, _charge
from .db import get_db

MAX_SCANS = 1000
_lock = threading.Lock()


@dataclass
class Scan:
    proposal: int
    decoder: StreamDecoder = field(default_factory=StreamDecoder)
    seen: set = field(default_factory=set)
    refused: dict = field(default_factory=dict)


def register(socketio, namespace: str) -> None:
    """Add ``qr_part`` to ``namespace`` (called once from the app factory)."""

    def on_qr_part(data):
        try:
            return _receive(socketio, namespace, data)
        except HuddleError as err:
            return err.to_dict()

    socketio.on("qr_part", namespace=namespace)(on_qr_part)


def _receive(socketio, namespace: str, data: object) -> dict:
    wallet_id, proposal_id, part = _request(data)
    user_id = current_app.extensions.get("huddle_socket_users", {}).get(request.sid)
    if user_id is None:
        raise InvalidInput("bad_socket_request", "this socket is not signed in")
    roles.require(get_db(), user_id, wallet_id, "keyholder")
    proposals.get(get_db(), wallet_id, proposal_id)
    scan = _scan_for(socketio, namespace, request.sid, proposal_id)
    if part not in scan.seen and not scan.decoder.complete:
        if len(scan.seen) >= MAX_PARTS:
            raise InvalidInput("bad_socket_request", f"a scan takes at most {MAX_PARTS} distinct parts")
        _charge(user_id, len(part))
        scan.seen.add(part)
        try:
            scan.decoder.receive(part)
        except HuddleError as err:
            scan.refused[err.code] = scan.refused.get(err.code, 0) + 1
    body = {"progress": scan.decoder.progress().to_dict(), "refused": dict(scan.refused), "psbt": None}
    if scan.decoder.complete:
        body["psbt"] = codec.to_base64(codec.parse(scan.decoder.psbt))
        _scans().pop(request.sid, None)  # done: the next part starts a new scan
    return body


def _request(data: object) -> tuple[int, int, str]:
    fields = data if isinstance(data, dict) else {}
    wallet_id, proposal_id, part = fields.get("wallet_id"), fields.get("proposal"), fields.get("part")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (wallet_id, proposal_id)) \
            or not isinstance(part, str) or not 0 < len(part) <= MAX_FRAME_LEN:
        raise InvalidInput("bad_socket_request", "qr_part needs {\"wallet_id\": <integer>, \"proposal\": <integer>, "
                           f"\"part\": <text of at most {MAX_FRAME_LEN} characters>}}")
    return wallet_id, proposal_id, part


def _scan_for(socketio, namespace: str, sid: str, proposal_id: int) -> Scan:
    scans = _scans()
    with _lock:
        scan = scans.get(sid)
        if scan is None or scan.proposal != proposal_id:
            if sid not in scans and len(scans) >= MAX_SCANS:
                _evict(socketio, namespace, scans)
            scan = scans[sid] = Scan(proposal_id)
        return scan


def _evict(socketio, namespace: str, scans: dict) -> None:
    """Drop the scans of closed sockets; if every socket is open, the oldest scan."""
    for sid in [s for s in scans if not socketio.server.manager.is_connected(s, namespace)]:
        del scans[sid]
    if len(scans) >= MAX_SCANS:
        del scans[next(iter(scans))]


def _scans() -> dict[str, Scan]:
    return current_app.extensions.setdefault("huddle_qr_scans", {})
