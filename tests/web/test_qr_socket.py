"""Scanning over the socket (issue 13 item 4): each distinct part sent once as
``qr_part`` reaches a decoder kept for the socket, the ack carries the progress, and
the last part's ack carries the PSBT, which the QR channel then takes. Bounded and
keyholders only."""

from __future__ import annotations

import base64

from coordinator.qr import density
from coordinator.qr.sequence import psbt_frames
from coordinator.web.realtime import NAMESPACE, socketio

from ..sessions.ceremony_env import signed_by
from .conftest import member


def _socket(app, browser):
    return socketio.test_client(app, namespace=NAMESPACE, flask_test_client=browser.client)


def _part(sock, wallet_id, proposal_id, part):
    return sock.emit("qr_part", {"wallet_id": wallet_id, "proposal": proposal_id, "part": part},
                     namespace=NAMESPACE, callback=True)


def test_parts_sent_one_by_one_decode_to_the_signed_psbt(app, proposal):
    bob, path = proposal
    wallet_id, proposal_id = int(path.split("/")[2]), int(path.split("/")[4])
    signed = base64.b64decode(signed_by(bob.get(path).get_json()["psbt"], 1))
    frames = list(psbt_frames(signed, "ur", density("low")).frames)
    sock = _socket(app, bob)

    first = _part(sock, wallet_id, proposal_id, frames[0])
    assert first["psbt"] is None and first["progress"]["parts_seen"] == 1
    assert first["progress"]["parts_total"] == len(frames)
    again = _part(sock, wallet_id, proposal_id, frames[0])  # the camera reads it again: nothing new
    assert again["progress"]["parts_seen"] == 1
    assert _part(sock, wallet_id, proposal_id, "not a qr part")["refused"] == {"qr_unknown_format": 1}
    answers = [_part(sock, wallet_id, proposal_id, frame) for frame in frames[1:]]
    assert [a["psbt"] is None for a in answers] == [True] * (len(frames) - 2) + [False]
    assert answers[-1]["progress"]["complete"] and base64.b64decode(answers[-1]["psbt"]) == signed
    added = bob.post(f"{path}/signatures", {"psbt": answers[-1]["psbt"], "channel": "qr"})
    assert added.status_code == 201
    assert _part(sock, wallet_id, proposal_id, frames[0])["progress"]["parts_seen"] == 1  # a new scan
    sock.disconnect(namespace=NAMESPACE)


def test_a_viewer_and_a_malformed_part_are_refused(app, admin, wallet_id, proposal):
    bob, path = proposal
    proposal_id = int(path.split("/")[4])
    viewer = _socket(app, member(app, admin, wallet_id, "viewer", "Vic"))
    assert _part(viewer, wallet_id, proposal_id, "UR:CRYPTO-PSBT/1-2/X")["error"]["code"] == "forbidden"
    sock = _socket(app, bob)
    assert _part(sock, wallet_id, proposal_id, "x" * 7090)["error"]["code"] == "bad_socket_request"
    assert _part(sock, wallet_id, 999, "UR:CRYPTO-PSBT/1-2/X")["error"]["code"] == "proposal_not_found"
    assert sock.emit("qr_part", "text", namespace=NAMESPACE, callback=True)["error"]["code"] == "bad_socket_request"
