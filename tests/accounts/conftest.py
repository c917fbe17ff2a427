"""Accounts tests run on a real SQLite file with one stored wallet."""

from __future__ import annotations

import pytest

from coordinator.store import wallets

from .. import keys

T0 = 1_767_225_600  # 2026-01-01 00:00 UTC: the tests' clock


@pytest.fixture
def wallet_id(db) -> int:
    return wallets.add(db, "Co-op vault", "testnet", keys.descriptor(2, 3)).id
