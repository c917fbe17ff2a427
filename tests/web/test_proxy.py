"""Behind a reverse proxy: X-Forwarded-For is believed only for the configured
number of hops, so rate limits count each real client, and a client cannot pick
its own address; HSTS is sent only when the pinned origin is https."""

from __future__ import annotations

import dataclasses

import pytest

from coordinator import config as settings
from coordinator.accounts import tokens
from coordinator.errors import InvalidInput
from coordinator.web import WebConfig, create_app

from .conftest import Browser

PROXY = {"REMOTE_ADDR": "127.0.0.1"}  # Caddy on the same machine
ALLOWED = int(WebConfig.auth_limit.split()[0])


def _guess(browser: Browser, forwarded: str) -> int:
    return browser.post("/session/recovery", {"code": tokens.new_secret()},
                        headers={"X-Forwarded-For": forwarded}, environ_base=PROXY).status_code


def test_without_trusted_proxies_a_forwarded_address_is_ignored(app):
    guesser = Browser(app.test_client())

    statuses = [_guess(guesser, f"198.51.100.{i}") for i in range(ALLOWED + 1)]

    assert statuses == [401] * ALLOWED + [429]  # varying the header bought no extra guesses


def test_with_one_trusted_proxy_each_forwarded_client_has_its_own_budget(config):
    app = create_app(dataclasses.replace(config, trusted_proxies=1))
    guesser, neighbour = Browser(app.test_client()), Browser(app.test_client())

    statuses = [_guess(guesser, "203.0.113.9") for _ in range(ALLOWED + 1)]

    assert statuses == [401] * ALLOWED + [429]
    assert _guess(neighbour, "203.0.113.77") == 401  # another client behind the same proxy


def test_a_client_cannot_choose_its_address_by_prepending_to_the_header(config):
    app = create_app(dataclasses.replace(config, trusted_proxies=1))
    guesser = Browser(app.test_client())

    # The proxy appends the real address; what the client wrote before it is not trusted.
    statuses = [_guess(guesser, f"198.51.100.{i}, 203.0.113.9") for i in range(ALLOWED + 1)]

    assert statuses == [401] * ALLOWED + [429]


def test_hsts_is_sent_behind_tls_only(config):
    behind_tls = create_app(dataclasses.replace(config, origin="https://huddle.example.org")).test_client()
    local = create_app(config).test_client()

    assert behind_tls.get("/healthz").headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in local.get("/healthz").headers


def test_trusted_proxies_is_read_from_the_environment(tmp_path):
    loaded = settings.load({"HUDDLE_DATA": str(tmp_path), "HUDDLE_TRUSTED_PROXIES": "2"})

    assert loaded.trusted_proxies == 2
    assert settings.load({"HUDDLE_DATA": str(tmp_path)}).trusted_proxies == 0


@pytest.mark.parametrize("value", ["-1", "one", "6", "1.5", "٣"])
def test_a_bad_trusted_proxies_value_is_bad_config(tmp_path, value):
    with pytest.raises(InvalidInput) as caught:
        settings.load({"HUDDLE_DATA": str(tmp_path), "HUDDLE_TRUSTED_PROXIES": value})

    assert caught.value.code == "bad_config" and "HUDDLE_TRUSTED_PROXIES" in caught.value.message
