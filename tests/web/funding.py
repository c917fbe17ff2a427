"""Coins for a server's wallet: a confirmed sandbox coin, synced into its database."""

from __future__ import annotations

from embit.networks import NETWORKS
from embit.script import Script

from coordinator.chain.esplora import EsploraClient
from coordinator.chain.sandbox import faucet
from coordinator.chain.sandbox.chain import Chain
from coordinator.chain.sandbox.server import serve
from coordinator.chain.sync import sync_wallet
from coordinator.store import open_database, wallets


def fund_and_sync(config, wallet_id: int) -> None:
    """A confirmed 100,000 sat coin at the wallet's first receive address, synced."""
    server = serve(Chain())
    try:
        db = open_database(config.database)
        name = db.execute("SELECT name FROM wallets WHERE id = ?", [wallet_id]).fetchone()[0]
        wallet = wallets.get(db, name)
        faucet.pay(server.chain, wallet.descriptor.script_pubkey(0, 0).data, 100_000, confirm=True)
        with EsploraClient(server.url, "regtest", retries=1) as backend:
            sync_wallet(db, wallet, backend)
        db.close()
    finally:
        server.stop()


def faucet_address() -> str:
    """Somebody else's regtest address to pay."""
    return Script(bytes.fromhex("0014" + "42" * 20)).address(NETWORKS["regtest"])
