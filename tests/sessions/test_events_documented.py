"""Every ceremony and chain event the sockets send is described in docs/events.md."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from coordinator.chain import events as chain_events
from coordinator.sessions.events import EVENTS

from ..conftest import REPO_ROOT

CHAIN_EVENTS = typing.get_args(chain_events.ChainEvent)


@pytest.mark.parametrize("event", EVENTS + CHAIN_EVENTS, ids=lambda e: e.__name__)
def test_every_event_is_documented(event):
    text = (REPO_ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    kind = event(**{f.name: 0 for f in dataclasses.fields(event)}).type
    assert f"### {kind}" in text
