"""Running the real ``huddle`` console script in tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import VECTORS

HUDDLE = Path(sys.executable).parent / "huddle"
EXPORTS = VECTORS / "wallet_exports"
CC_FILE = EXPORTS / "coldcard-multisig-2of4-p2wsh-testnet.txt"
CC_NAME = "CC-2-of-4"
CC_FINGERPRINTS = ["0f056943", "6ba6cfd0", "747b698e", "7bb026be"]
ERROR_LINE = re.compile(r"^huddle: error: .+ \[(?P<code>[a-z_]+)\]$")


@pytest.fixture(scope="session")
def huddle() -> Path:
    if not HUDDLE.exists():
        pytest.fail(f"the huddle console script is not installed next to {sys.executable}; "
                    "run `pip install -e .` in this environment")
    if not CC_FILE.exists():
        pytest.fail(f"wallet export vectors not found at {EXPORTS}")
    return HUDDLE


class Huddle:
    """Runs the real ``huddle`` script against one data directory."""

    def __init__(self, exe: Path, data_dir: Path, network: str = "testnet") -> None:
        self.exe, self.data_dir, self.network = exe, data_dir, network

    def __call__(self, *args: str, input: str | bytes | None = None,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
        full_env.update(HUDDLE_DATA=str(self.data_dir), HUDDLE_NETWORK=self.network)
        full_env.update(env or {})
        return subprocess.run([str(self.exe), *args], env=full_env, input=input,
                              capture_output=True, text=not isinstance(input, bytes), timeout=60)

    @property
    def database(self) -> Path:
        return self.data_dir / "huddle.sqlite3"


@pytest.fixture
def run(huddle, tmp_path) -> Huddle:
    return Huddle(huddle, tmp_path / "data")


@pytest.fixture
def imported(run) -> Huddle:
    result = run("wallet", "import", str(CC_FILE))
    assert result.returncode == 0, result.stderr
    return run


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr}"
    return result.stdout


def fails(result: subprocess.CompletedProcess, exit_code: int, code: str) -> str:
    """Assert the one-line error contract; return the line."""
    stderr = result.stderr if isinstance(result.stderr, str) else result.stderr.decode()
    assert result.returncode == exit_code, f"exit {result.returncode}, stderr: {stderr}"
    assert "Traceback" not in stderr
    lines = stderr.strip("\n").splitlines()
    assert len(lines) == 1, stderr
    match = ERROR_LINE.match(lines[0])
    assert match and match["code"] == code, lines[0]
    return lines[0]
