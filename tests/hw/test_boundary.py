"""HWI stays in the agent: the server's packages never import it (DESIGN: "What stays out
of the server"), and nothing but the agent's CLI modules import coordinator.hw."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ..conftest import REPO_ROOT
from ..test_architecture import PKG, _imports

AGENT_CLI = (PKG / "cli" / "agent_cmd.py", PKG / "cli" / "agent_roster_cmd.py", PKG / "cli" / "agent_pair_cmd.py")


def _modules():
    return sorted(p for p in PKG.rglob("*.py") if (PKG / "hw") not in p.parents)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_only_the_agent_imports_hwi(path):
    imported = list(_imports(path))
    assert not [m for m in imported if m == "hwilib" or m.startswith("hwilib.")], path
    if path not in AGENT_CLI:
        assert not [m for m in imported if m == "coordinator.hw" or m.startswith("coordinator.hw.")], path


def test_the_server_app_loads_no_hwi():
    probe = ("import sys, coordinator.web, coordinator.accounts, coordinator.governance, coordinator.cli.serve_cmd;"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('hwilib', 'usb1', 'hid')"
             " or m.startswith('coordinator.hw')))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_server_lock_carries_no_hwi_and_the_agent_lock_does():
    app = (REPO_ROOT / "requirements" / "app.lock").read_text()
    agent = (REPO_ROOT / "requirements" / "agent.lock").read_text()
    assert "\nhwi==" not in app and "\nhidapi==" not in app and "\nlibusb1==" not in app
    assert "\nhwi==3.2." in agent
