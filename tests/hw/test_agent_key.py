"""The agent's own key: made from the CSPRNG on first need, kept private (0600 in 0700),
the same key every time after, and shown by ``huddle agent key``."""

from __future__ import annotations

import json
import re
import stat

import pytest

from coordinator.errors import StorageError
from coordinator.governance import agent_keys
from coordinator.hw import agent_key

from ..cli.runner import fails, huddle, ok  # noqa: F401  (huddle is a fixture)
from .test_agent_ceremony import AgentCli


def test_the_key_is_made_once_kept_private_and_signs_verifiably(tmp_path):
    made = agent_key.load_or_create(tmp_path / "agent")
    again = agent_key.load_or_create(tmp_path / "agent")
    path = tmp_path / "agent" / agent_key.FILE

    assert again.public == made.public and re.fullmatch(r"[0-9a-f]{64}", made.public)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    body = agent_keys.head_body(1, 3, "ab" * 32)
    assert agent_keys.verify(made.public, "head", body, made.sign("head", body))
    assert made.registered_at is None


def test_two_agents_get_two_different_keys(tmp_path):
    keys = {agent_key.load_or_create(tmp_path / f"agent{i}").public for i in range(8)}
    assert len(keys) == 8


def test_a_key_file_whose_public_key_is_not_its_private_keys_is_refused(tmp_path):
    agent_key.load_or_create(tmp_path / "agent")
    path = tmp_path / "agent" / agent_key.FILE
    data = json.loads(path.read_text())
    data["public_key"] = agent_keys.public_key(agent_key.load_or_create(tmp_path / "other").private)
    path.write_text(json.dumps(data))

    with pytest.raises(StorageError) as err:
        agent_key.load(tmp_path / "agent")
    assert err.value.code == "agent_dir_error"


def test_huddle_agent_key_shows_the_public_key_and_that_it_is_not_registered(tmp_path, huddle):  # noqa: F811
    agent = AgentCli(tmp_path, 0, "http://127.0.0.1:9")
    shown = agent("key")
    assert ok(shown).strip() == agent_key.load(agent.dir).public
    assert "not registered with a server yet" in shown.stderr
    fails(agent("key", "--register"), 4, "not_paired")
