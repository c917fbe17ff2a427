"""Fixtures for chain tests: a sandbox chain served over loopback HTTP, a real
SQLite database in tmp_path, and the test 2-of-3 wallet stored in it.

Test modules import the fixtures they use from here.
"""

from __future__ import annotations

import pytest

from coordinator.chain.esplora import EsploraClient
from coordinator.chain.model import WalletUtxo
from coordinator.chain.sandbox import faucet
from coordinator.chain.sandbox.chain import Chain
from coordinator.chain.sandbox.server import serve
from coordinator.store import wallets

from .. import keys

DESC = keys.descriptor(2, 3)
OUTSIDE = bytes.fromhex("0014" + "42" * 20)  # someone else's P2WPKH


@pytest.fixture
def sandbox():
    server = serve(Chain())
    yield server
    server.stop()


@pytest.fixture
def chain(sandbox) -> Chain:
    return sandbox.chain


@pytest.fixture
def client(sandbox):
    with EsploraClient(sandbox.url, "regtest", retries=1) as backend:
        yield backend


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
