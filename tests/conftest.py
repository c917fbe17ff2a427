"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    """The public BIP/UR/BBQr test vectors in ``<repo root>/../shared/vectors``.

    A missing directory fails the test rather than skipping it: a silently
    skipped vector test is a test that proves nothing.
    """
    path = REPO_ROOT.parent / "shared" / "vectors"
    if not path.is_dir():
        pytest.fail(f"test vectors not found at {path}")
    return path
