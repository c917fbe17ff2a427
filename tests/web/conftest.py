"""Web tests: the app from the factory on a real SQLite file, Flask's test
client as each member's browser, and a software passkey per member."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from coordinator.accounts import setup
from coordinator.store import open_database
from coordinator.web import WebConfig, create_app

from .. import keys
from ..authenticator import SoftAuthenticator
from .funding import faucet_address, fund_and_sync

ORIGIN = "http://localhost:5000"
API = "/api/v1"


@pytest.fixture
def config(tmp_path) -> WebConfig:
    return WebConfig(tmp_path / "huddle.sqlite3", "s" * 32, ORIGIN, network="regtest")


@pytest.fixture
def app(config):
    return create_app(config)


@dataclass
class Browser:
    """One member's browser: cookies (the test client), the CSRF token, a passkey."""

    client: object
    passkey: SoftAuthenticator = field(default_factory=lambda: SoftAuthenticator(ORIGIN, "localhost"))
    csrf: str = "none-yet"
    user: dict = field(default_factory=dict)
    recovery_codes: list = field(default_factory=list)

    def get(self, path: str, **kw):
        return self.client.get(API + path, **kw)

    def send(self, method: str, path: str, json: object = None, **kw):
        headers = {"X-Huddle-CSRF": self.csrf, **kw.pop("headers", {})}
        return self.client.open(API + path, method=method, json=json, headers=headers, **kw)

    def post(self, path: str, json: object = None, **kw):
        return self.send("POST", path, json, **kw)

    def signed_in(self, response) -> "Browser":
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        self.csrf, self.user = body["csrf_token"], body["user"]
        self.recovery_codes = body.get("recovery_codes", self.recovery_codes)
        return self

    def register(self, prefix: str, **fields) -> "Browser":
        """The setup or invite ceremony: options, the passkey, then the final call."""
        options = self.post(f"{prefix}/options", fields)
        assert options.status_code == 200, options.get_json()
        final = "/setup" if prefix == "/setup" else "/invites/accept"
        return self.signed_in(self.post(final, {**fields, "credential": self.passkey.create(options.get_json())}))

    def login(self):
        options = self.post("/session/options").get_json()
        return self.post("/session", {"credential": self.passkey.get(options)})


def setup_token(config: WebConfig) -> str:
    """What `huddle serve` prints on the first run."""
    db = open_database(config.database)
    try:
        return setup.issue_token(db)
    finally:
        db.close()


@pytest.fixture
def admin(app, config) -> Browser:
    return Browser(app.test_client()).register("/setup", token=setup_token(config), name="Ada")


WALLET_TEXT = keys.descriptor(2, 3).to_string()


@pytest.fixture
def wallet_id(admin) -> int:
    response = admin.post("/wallets/import", {"text": WALLET_TEXT, "name": "Co-op vault"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["wallet"]["id"]


def invite(admin: Browser, wallet_id: int, role: str, **extra) -> str:
    response = admin.post(f"/wallets/{wallet_id}/invites", {"role": role, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def member(app, admin: Browser, wallet_id: int, role: str, name: str) -> Browser:
    return Browser(app.test_client()).register("/invites", token=invite(admin, wallet_id, role), name=name)


@pytest.fixture
def proposal(app, config, admin, wallet_id):
    """Bob, a keyholder, proposes paying 20,000 sat from a funded, synced wallet."""
    bob = member(app, admin, wallet_id, "keyholder", "Bob")
    fund_and_sync(config, wallet_id)
    made = bob.post(f"/wallets/{wallet_id}/proposals", {
        "payments": [{"address": faucet_address(), "amount": 20_000}], "memo": "paint", "fee_rate": 2_000})
    assert made.status_code == 201, made.get_json()
    return bob, f"/wallets/{wallet_id}/proposals/{made.get_json()['proposal']['id']}"
