"""Starting ``huddle`` loads only what the command needs: ``--help`` and
``import coordinator.cli`` touch no part of the core (bench/cli_start.py
measures the time; this checks the cause)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ..conftest import REPO_ROOT

# The core and the libraries behind it: none is needed to list the commands.
HEAVY = ("embit", "sqlite_utils", "httpx", "segno", "cbor2", "platformdirs", "coordinator.psbt",
         "coordinator.wallet", "coordinator.qr", "coordinator.chain", "coordinator.store",
         "coordinator.config", "coordinator.networks", "coordinator.demo",
         # the server (issue 10): only `huddle serve` needs it
         "flask", "flask_socketio", "flask_limiter", "socketio", "engineio", "werkzeug", "webauthn",
         "cryptography", "coordinator.web", "coordinator.accounts", "coordinator.governance",
         "coordinator.canonical",
         # the signer agent (issue 12): only `huddle agent ...` loads HWI and the USB libraries
         "hwilib", "usb1", "hid", "coordinator.hw")

PROBE = """
import contextlib, io, json, sys
import coordinator.cli
loaded = {"import": sorted(sys.modules)}
for argv in ARGVS:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = coordinator.cli.main(argv, "huddle", standalone_mode=False)
    assert code == 0 and "Usage:" in out.getvalue(), (argv, code)
    loaded[" ".join(argv)] = sorted(sys.modules)
print(json.dumps(loaded))
"""


def _loaded_after(argvs: list[list[str]]) -> dict[str, list[str]]:
    code = "ARGVS = " + repr(argvs) + PROBE
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


@pytest.mark.parametrize("argv", [["--help"], ["wallet", "--help"], ["psbt", "create", "--help"],
                                  ["qr", "encode", "--help"], ["tx", "broadcast", "--help"],
                                  ["serve", "--help"], ["audit", "verify", "--help"],
                                  ["agent", "--help"], ["agent", "sign", "--help"]],
                         ids=" ".join)
def test_help_loads_none_of_the_core(argv):
    loaded = _loaded_after([argv])

    assert _heavy(loaded["import"]) == []
    assert _heavy(loaded[" ".join(argv)]) == []


def test_the_qr_option_choices_are_the_cores():
    from coordinator.cli import qr as qr_cli
    from coordinator.qr import capacity, presets, sequence

    assert qr_cli.FORMATS == sequence.FORMATS
    assert qr_cli.DENSITIES == tuple(presets.PRESETS) and qr_cli.DEFAULT_DENSITY == presets.DEFAULT_DENSITY
    assert qr_cli.ECC_LEVELS == capacity.ECC_LEVELS
