"""The server never loads HWI or device code: creating the app and answering a
request imports neither hwilib nor coordinator.hw (DESIGN.md, "What stays out
of the server"), and neither does the production path: the `huddle serve`
command, gunicorn's master and worker classes, and the app as the worker builds it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ..conftest import REPO_ROOT

PROBE = """
import json, sys, tempfile, pathlib
from coordinator.web import WebConfig, create_app
app = create_app(WebConfig(pathlib.Path(tempfile.mkdtemp()) / "h.sqlite3", "s" * 32, "http://localhost:5000"))
assert app.test_client().get("/api/v1/openapi.json").status_code == 200
print(json.dumps(sorted(sys.modules)))
"""
GUNICORN_PROBE = """
import json, sys, tempfile, pathlib
from coordinator.cli import main
from coordinator.cli.serve_cmd import _app
from coordinator.web import WebConfig, logs, production
server = production.Server(lambda: logs.init_app(_app(WebConfig(pathlib.Path(tempfile.mkdtemp()) / "h.sqlite3",
                                                                 "s" * 32, "http://localhost:5000")), emit=False),
                           production.options("127.0.0.1", 5000))
assert server.cfg.worker_class is production.Worker and server.cfg.logger_class is production.Logs
assert server.load().test_client().get("/api/v1/openapi.json").status_code == 200
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("probe", [PROBE, GUNICORN_PROBE], ids=["create_app", "huddle serve under gunicorn"])
def test_the_server_imports_no_hwi_and_no_device_code(probe):
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)

    assert [m for m in loaded if m.split(".")[0] == "hwilib" or m.startswith("coordinator.hw")] == []
