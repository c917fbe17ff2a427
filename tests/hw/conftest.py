"""Fixtures for the signer agent: a pinned wallet in a temporary agent directory."""

from __future__ import annotations

import pytest

from coordinator.hw.pinned import PinStore

from .. import keys


@pytest.fixture
def store(tmp_path) -> PinStore:
    return PinStore(tmp_path / "agent")


@pytest.fixture
def pinned(store):
    wallet, _ = store.pin("family", "testnet", keys.descriptor(2, 3))
    return wallet
