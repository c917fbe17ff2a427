"""Fixtures for chain tests: a sandbox chain served over loopback HTTP, a real
SQLite database in tmp_path, and the test 2-of-3 wallet stored in it.

Test modules import the fixtures they use from here.
"""

from __future__ import annotations

import threading

import pytest

from coordinator.chain.esplora import EsploraClient
from coordinator.chain.model import WalletUtxo
from coordinator.chain.sandbox import faucet
from coordinator.chain.sandbox.chain import Chain
from coordinator.chain.sandbox.server import serve
from coordinator.store import wallets
from coordinator.store.db import open_database

from .. import keys

DESC = keys.descriptor(2, 3)
OUTSIDE = bytes.fromhex("0014" + "42" * 20)  # someone else's P2WPKH


def nodelay(server) -> None:
    """Work around the sandbox answering headers and body in two writes with
    Nagle on: over keep-alive every answer then waits ~40 ms for a delayed ACK.
    (Reported to the sandbox's owner; real Esplora servers do not stall.)"""
    server.httpd.RequestHandlerClass.disable_nagle_algorithm = True


@pytest.fixture
def sandbox():
    server = serve(Chain())
    nodelay(server)
    yield server
    # stop() waits out serve_forever's 0.5 s poll; nothing depends on it finishing
    threading.Thread(target=server.stop, daemon=True).start()


@pytest.fixture
def chain(sandbox) -> Chain:
    return sandbox.chain


@pytest.fixture
def client(sandbox):
    with EsploraClient(sandbox.url, "regtest", retries=1) as backend:
        yield backend


@pytest.fixture
def db(tmp_path):
    database = open_database(tmp_path / "huddle.sqlite3")
    yield database
    database.conn.close()


@pytest.fixture
def wallet(db):
    return wallets.add(db, "co-op", "regtest", DESC)


def pay(chain: Chain, branch: int, index: int, amount: int, confirm: bool = False) -> str:
    """The faucet pays the wallet's address (branch, index); the txid."""
    return faucet.pay(chain, DESC.script_pubkey(branch, index).data, amount, confirm)


def raw_of(chain: Chain, txid: str) -> bytes:
    if txid in chain.confirmed:
        return chain.confirmed[txid][0].serialize()
    return chain.mempool[txid].tx.serialize()


def coin(chain: Chain, txid: str, branch: int, index: int) -> WalletUtxo:
    """Our output of ``txid`` at (branch, index), as sync would list it."""
    tx = raw_of(chain, txid)
    from embit.transaction import Transaction

    parsed = Transaction.parse(tx)
    spk = DESC.script_pubkey(branch, index).data
    vout = next(n for n, o in enumerate(parsed.vout) if o.script_pubkey.data == spk)
    height = chain.confirmed[txid][1] if txid in chain.confirmed else None
    return WalletUtxo(txid, vout, parsed.vout[vout].value, branch, index, height)
