"""The message_queue setting: off by default, a Redis URL or a clear bad_config,
never its password on display."""

from __future__ import annotations

import pytest

from coordinator import config
from coordinator.errors import InvalidInput


def _load(tmp_path, **env):
    return config.load({"HUDDLE_DATA": str(tmp_path), "HUDDLE_SECRET_KEY": "s" * 40, **env})


def test_one_process_without_redis_is_the_default(tmp_path):
    assert _load(tmp_path).message_queue == ""
    assert _load(tmp_path).public()["message_queue"] == "(none)"


def test_a_redis_url_is_taken_and_its_password_never_shown(tmp_path):
    settings = _load(tmp_path, HUDDLE_MESSAGE_QUEUE="redis://:hunter2@127.0.0.1:6379/0")

    assert settings.message_queue == "redis://:hunter2@127.0.0.1:6379/0"
    assert settings.public()["message_queue"] == "redis://:***@127.0.0.1:6379/0"


@pytest.mark.parametrize("text", ["127.0.0.1:6379", "amqp://localhost", "redis:// spaced"])
def test_anything_but_a_redis_url_is_bad_config(tmp_path, text):
    with pytest.raises(InvalidInput) as err:
        _load(tmp_path, HUDDLE_MESSAGE_QUEUE=text)

    assert err.value.code == "bad_config" and "docs/scaling.md" in str(err.value)
