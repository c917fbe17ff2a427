"""The server never loads HWI or device code: creating the app and answering a
request imports neither hwilib nor coordinator.hw (DESIGN.md, "What stays out
of the server")."""

from __future__ import annotations

import json
import subprocess
import sys

from ..conftest import REPO_ROOT

PROBE = """
import json, sys, tempfile, pathlib
from coordinator.web import WebConfig, create_app
app = create_app(WebConfig(pathlib.Path(tempfile.mkdtemp()) / "h.sqlite3", "s" * 32, "http://localhost:5000"))
assert app.test_client().get("/api/v1/openapi.json").status_code == 200
print(json.dumps(sorted(sys.modules)))
"""


def test_the_server_imports_no_hwi_and_no_device_code():
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)

    assert [m for m in loaded if m.split(".")[0] == "hwilib" or m.startswith("coordinator.hw")] == []
