"""The server starts without the packages it needs only later (issue 14, footprint):
webauthn (with pyOpenSSL and pyasn1) until a passkey is used, httpx until a chain
backend is configured, redis until HUDDLE_MESSAGE_QUEUE is set, python-socketio's
client packages (requests, aiohttp) until a client is used, and never HWI.

Each check runs in a fresh interpreter, as ``huddle serve``'s worker does: it builds
the app, answers a first request, and reports which of these modules it loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WATCHED = ["webauthn", "OpenSSL", "pyasn1", "httpx", "redis", "requests", "aiohttp", "hwilib"]
BUILD = """
import json, sys
from pathlib import Path
from coordinator.web import WebConfig, create_app

app = create_app(WebConfig(Path({database!r}), "s" * 32, "http://localhost:5000", network="regtest",
                           message_queue={queue!r}))
client = app.test_client()
assert client.get("/healthz").status_code == 200
{then}
socketio_redis = sys.modules["socketio.redis_manager"].redis
print(json.dumps({{"loaded": [m for m in {watched!r} if m in sys.modules],
                  "socketio_has_redis": socketio_redis is not None}}))
"""

# The first call of a passkey sign-in, as the PWA makes it (any CSRF header will do before a session).
SIGN_IN = ('options = client.post("/api/v1/session/options", headers={"X-Huddle-CSRF": "none-yet"}).get_json()\n'
           'assert "challenge" in options')


def _start(tmp_path: Path, queue: str = "", then: str = "") -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUDDLE_", "PYTHON"))}
    code = BUILD.format(database=str(tmp_path / "huddle.sqlite3"), queue=queue, then=then, watched=WATCHED)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**env, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_server_answers_its_first_request_without_webauthn_httpx_redis_or_hwi(tmp_path):
    started = _start(tmp_path)
    assert started == {"loaded": [], "socketio_has_redis": False}


def test_socketio_clients_get_requests_on_first_use(tmp_path):
    # A Socket.IO client in a process that built the app (a test's, say) still finds requests.
    started = _start(tmp_path, then="import engineio.client\nassert engineio.client.requests.Session")
    assert "requests" in started["loaded"]


def test_webauthn_is_loaded_when_a_passkey_sign_in_starts(tmp_path):
    started = _start(tmp_path, then=SIGN_IN)
    assert "webauthn" in started["loaded"]
    assert not {"httpx", "redis", "hwilib"} & set(started["loaded"])


def test_socketio_gets_redis_back_when_a_message_queue_is_set(tmp_path):
    # Nothing listens on port 1: the queue is only set up here, never reached.
    started = _start(tmp_path, queue="redis://127.0.0.1:1/0")
    assert "redis" in started["loaded"]
    assert started["socketio_has_redis"] is True
