"""Fixtures for the QR tests: the shared UR/BBQr vectors and sample PSBTs.

``vectors_dir`` (tests/conftest.py) fails, never skips, when
``tests/vectors`` is missing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def ur_vectors(vectors_dir: Path) -> dict:
    return json.loads((vectors_dir / "ur.json").read_text())


@pytest.fixture(scope="session")
def bbqr_dir(vectors_dir: Path) -> Path:
    path = vectors_dir / "bbqr"
    if not path.is_dir():
        pytest.fail(f"BBQr vectors not found at {path}")
    return path


@pytest.fixture(scope="session")
def make_message(ur_vectors: dict):
    """make_message(n) of both reference suites: a prefix of the 1024 bytes."""
    full = bytes.fromhex(ur_vectors["crc32"][2]["input_hex"])

    def make(length: int) -> bytes:
        if length > len(full):
            raise ValueError("vectors hold only 1024 bytes of make_message")
        return full[:length]

    return make
