"""The app behind a real HTTP server on loopback (werkzeug, in a thread):
the API answers, and engine.io itself refuses a Socket.IO handshake from a
foreign Origin, with or without X-Forwarded-Host; Host never widens it."""

from __future__ import annotations

import threading

import httpx
import pytest
from werkzeug.serving import make_server

from coordinator.web import WebConfig, create_app

from .conftest import ORIGIN

HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = create_app(WebConfig(tmp_path_factory.mktemp("http") / "h.sqlite3", "s" * 32, ORIGIN))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=5)


def test_the_api_answers_over_http_with_its_headers(server):
    response = httpx.get(f"{server}/api/v1/openapi.json", timeout=10)

    assert response.status_code == 200 and response.json()["openapi"].startswith("3.1")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_handshake_from_the_pinned_origin_is_accepted(server):
    response = httpx.get(server + HANDSHAKE, headers={"Origin": ORIGIN}, timeout=10)

    assert response.status_code == 200 and response.text.startswith("0{")


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "https://evil.example", "X-Forwarded-Host": "evil.example"},
    {"Origin": "https://evil.example", "X-Forwarded-Host": "localhost:5000", "X-Forwarded-Proto": "http"},
    {"Origin": "http://evil.example", "Host": "evil.example"},
], ids=["foreign", "forwarded host to match", "forwarded host of ours", "host to match"])
def test_a_handshake_from_another_origin_is_refused(server, headers):
    response = httpx.get(server + HANDSHAKE, headers=headers, timeout=10)

    assert response.status_code == 400
    assert "sid" not in response.text


@pytest.mark.parametrize("namespace, reason", [("/agent", "bad_token"), ("/wallets", "not_signed_in")])
def test_a_refused_socket_tells_the_client_why(server, namespace, reason):
    import socketio

    client = socketio.Client(reconnection=False, websocket_extra_options={"suppress_origin": True})  # as the agent
    told: list = []
    client.on("connect_error", told.append, namespace=namespace)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server, namespaces=[namespace], transports=["websocket"], wait_timeout=10,
                       auth={"token": "hdl_" + "0" * 16 + "_" + "a" * 43} if namespace == "/agent" else None)
    client.disconnect()

    assert reason in str(told), told
