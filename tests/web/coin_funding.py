"""Several coins for a server's wallet on one sandbox chain, synced into its database
(tests/web/funding.py makes one coin per fresh chain; coin control needs a choice)."""

from __future__ import annotations

from coordinator.chain.esplora import EsploraClient
from coordinator.chain.sandbox import faucet
from coordinator.chain.sandbox.chain import Chain
from coordinator.chain.sandbox.server import serve
from coordinator.chain.sync import sync_wallet
from coordinator.store import chain as chain_store
from coordinator.store import open_database, wallets


def fund_coins_and_sync(config, wallet_id: int, amounts: tuple[int, ...] = (60_000, 90_000)) -> list[str]:
    """Confirmed coins of ``amounts`` sat at the wallet's receive addresses 0, 1, ...,
    synced; their outpoints ("txid:vout"), in that order."""
    server = serve(Chain())
    try:
        db = open_database(config.database)
        name = db.execute("SELECT name FROM wallets WHERE id = ?", [wallet_id]).fetchone()[0]
        wallet = wallets.get(db, name)
        scripts = [wallet.descriptor.script_pubkey(0, i).data for i in range(len(amounts))]
        txids = [faucet.pay(server.chain, spk, amount, confirm=True) for spk, amount in zip(scripts, amounts)]
        with EsploraClient(server.url, "regtest", retries=1) as backend:
            sync_wallet(db, wallet, backend)
        found = {(u.txid, u.index): u.outpoint for u in chain_store.utxos(db, wallet_id)}
        db.close()
        return [found[(txid, i)] for i, txid in enumerate(txids)]
    finally:
        server.stop()

