"""A database with a 2-of-3 wallet funded on a sandbox chain, its members, and a proposal."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from coordinator.accounts import roles, users
from coordinator.governance import proposals
from coordinator.psbt.model import Recipient
from coordinator.store import open_database, wallets

from .. import keys
from ..web.funding import faucet_address
from .ceremony_env import fund, start_sandbox


@dataclass
class Setting:
    db: object
    wallet: object
    proposal: object
    bob: int  # a keyholder
    carol: int  # a keyholder
    sandbox: object
    database: object

    def propose(self, amount: int = 20_000):
        return proposals.create(self.db, self.wallet, self.bob, [Recipient(faucet_address(), amount)], "paint", 2_000)


@pytest.fixture
def sandbox():
    server = start_sandbox()
    yield server
    server.stop()


@pytest.fixture
def setting(tmp_path, sandbox) -> Setting:
    database = tmp_path / "huddle.sqlite3"
    db = open_database(database)
    wallet = wallets.add(db, "Co-op vault", "regtest", keys.descriptor(2, 3))
    bob, carol = users.create(db, "Bob").id, users.create(db, "Carol").id
    for user in (bob, carol):
        roles.grant(db, user, wallet.id, "keyholder")
    fund(sandbox, database, wallet.id)
    made = Setting(db, wallet, None, bob, carol, sandbox, database)
    made.proposal = made.propose()
    yield made
    db.close()
