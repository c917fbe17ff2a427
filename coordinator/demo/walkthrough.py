"""``huddle demo``: a whole spend on the regtest sandbox, with demo signers.

Everything real but the chain and the devices: the wallet file is imported,
coins arrive from the sandbox faucet, Huddle syncs over HTTP, builds the PSBT,
takes in each signer's PSBT with verified signatures, finalizes, broadcasts
crash-safely and syncs again. The two "devices" are software signers holding
BIP-39 *test* mnemonics that anyone can look up: the only private keys Huddle
ever touches, and only here, on regtest.

``run`` yields (title, lines) steps; the CLI prints them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from importlib import resources

from embit import bip32, bip39

from .. import config
from ..chain import broadcast as broadcasting
from ..chain.esplora import EsploraClient
from ..chain.sandbox import faucet
from ..chain.sandbox.chain import Chain
from ..chain.sandbox.esplora import address_of
from ..chain.sandbox.server import serve
from ..chain.sync import sync_wallet
from ..psbt import codec
from ..psbt.checks import change_index_limit, check
from ..psbt.finalize import finalize
from ..psbt.merge import merge
from ..psbt.model import Recipient, Utxo
from ..psbt.spend import plan_spend
from ..psbt.summary import format_btc
from ..store import open_database, wallets
from ..wallet import addresses
from ..wallet.descriptor import CHANGE

NETWORK = "regtest"
# Public BIP-39 test vectors; they match the keys in examples/demo-2of3.txt.
DEMO_SIGNERS = {
    "member 1": "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
    "member 3": "letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
}
FUNDING = 50_000_000  # 0.5 regtest BTC
PAYMENT = 12_345_678
FEE_RATE = 2_000  # sat/kvB = 2 sat/vB

Step = tuple[str, list[str]]


def demo_file() -> str:
    return resources.files("coordinator.examples").joinpath("demo-2of3.txt").read_text("utf-8")


def run() -> Iterator[Step]:
    """The demo, step by step, in a throwaway data dir and an in-memory chain."""
    with tempfile.TemporaryDirectory(prefix="huddle-demo-") as data_dir, serve(Chain()) as sandbox:
        cfg = config.load({"HUDDLE_DATA": data_dir, "HUDDLE_NETWORK": NETWORK})
        db = open_database(cfg.database)
        try:
            with EsploraClient(sandbox.url, NETWORK) as backend:
                yield from _steps(db, sandbox, backend)
        finally:
            db.close()


def _steps(db, sandbox, backend) -> Iterator[Step]:
    yield "Start a regtest chain (the built-in sandbox)", [f"Esplora API at {sandbox.url}"]
    wallet = wallets.import_text(db, demo_file(), NETWORK)
    yield "Import the group's 2-of-3 wallet file (Coldcard format)", [
        wallet.descriptor.to_string(),
        "First address: " + addresses.derive(wallet.descriptor, NETWORK, 0, 0, 1)[0].address]
    address = addresses.issue(db, wallet)
    txid = faucet.pay(sandbox.chain, wallet.descriptor.script_pubkey(0, address.index).data, FUNDING, True)
    yield "Receive coins at a fresh address", [f"{format_btc(FUNDING)} to {address.address}", f"txid {txid}"]
    result = sync_wallet(db, wallet, backend)
    yield "Sync over HTTP", [f"confirmed balance {format_btc(result.balance.confirmed)}"]
    spend = _propose(db, wallet, backend, result)
    summary = check(spend.psbt, wallet.descriptor, NETWORK,
                    max_change_index=change_index_limit(addresses.last_used(db, wallet, CHANGE)))
    yield "Build the spend; every check a signer's agent runs passes", summary.to_lines()
    stored, lines = _collect_signatures(spend.psbt, wallet)
    yield "Two members sign on their (demo) devices; Huddle verifies each signature", lines
    final = finalize(stored, wallet.descriptor)
    sent = broadcasting.broadcast(db, backend, final.tx)
    sandbox.chain.mine(1)
    after = sync_wallet(db, wallet, backend)
    yield "Finalize, broadcast (saved first, sent once), mine a block, sync", [
        f"txid {sent.txid}: {sent.state}",
        f"balance now {format_btc(after.balance.confirmed)}"
        f" ({len(after.history)} transactions in the ledger)"]


def _propose(db, wallet, backend, synced):
    coins = [Utxo.from_prev_tx(backend.raw_transaction(u.txid), u.vout, u.branch, u.index)
             for u in synced.utxos]
    change = addresses.issue(db, wallet, CHANGE).index
    payee = address_of(faucet.FAUCET_SCRIPT)
    return plan_spend(wallet.descriptor, NETWORK, coins, [Recipient(payee, PAYMENT)], FEE_RATE, change,
                      synced.tip_height)


def _collect_signatures(unsigned, wallet) -> tuple[object, list[str]]:
    stored, lines = unsigned, []
    for name, words in DEMO_SIGNERS.items():
        device = codec.parse(unsigned.serialize())
        device.sign_with(bip32.HDKey.from_seed(bip39.mnemonic_to_seed(words)))
        merged = merge(stored, device.serialize(), wallet.descriptor)
        stored = merged.psbt
        for fingerprint, inputs in merged.added.items():
            lines.append(f"{name} ({fingerprint}) signed {len(inputs)} input(s);"
                         f" {merged.status.needed} more needed")
    return stored, lines
