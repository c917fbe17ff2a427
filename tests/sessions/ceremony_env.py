"""A funded, synced wallet on a sandbox chain that stays up, and a proposal to sign:
the ceremony tests broadcast to it and mine it."""

from __future__ import annotations

import base64

from embit.ec import PrivateKey
from embit.psbt import PSBT

from coordinator.chain.esplora import EsploraClient
from coordinator.chain.sandbox import faucet
from coordinator.chain.sandbox.chain import Chain
from coordinator.chain.sandbox.server import serve
from coordinator.chain.sync import sync_wallet
from coordinator.store import open_database, wallets

from ..psbt.chain import sign


def start_sandbox():
    return serve(Chain())


def fund(sandbox, database, wallet_id: int, amount: int = 100_000, index: int = 0) -> None:
    """A confirmed coin at the wallet's next receive address, synced into ``database``."""
    db = open_database(database)
    try:
        name = db.execute("SELECT name FROM wallets WHERE id = ?", [wallet_id]).fetchone()[0]
        wallet = wallets.get(db, name)
        faucet.pay(sandbox.chain, wallet.descriptor.script_pubkey(0, index).data, amount, confirm=True)
        with EsploraClient(sandbox.url, "regtest", retries=1) as backend:
            sync_wallet(db, wallet, backend)
    finally:
        db.close()


def signed_by(psbt_b64: str, *signers: int) -> str:
    """The proposal's PSBT signed by test seeds ``signers``, base64."""
    return base64.b64encode(sign(PSBT.from_string(psbt_b64), signers).serialize()).decode()


def foreign_signature(psbt_b64: str) -> str:
    """Cosigner 1's real signature, filed under a key that is not the wallet's."""
    psbt = sign(PSBT.from_string(psbt_b64), [1])
    scope = psbt.inputs[0]
    (_, sig), = scope.partial_sigs.items()
    scope.partial_sigs.clear()
    scope.partial_sigs[PrivateKey(b"\x07" * 32).get_public_key()] = sig
    return base64.b64encode(psbt.serialize()).decode()


def broken_signature(psbt_b64: str) -> str:
    """Cosigner 1's signature with one byte changed: it does not verify."""
    psbt = sign(PSBT.from_string(psbt_b64), [1])
    scope = psbt.inputs[0]
    (pub, sig), = scope.partial_sigs.items()
    scope.partial_sigs[pub] = sig[:10] + bytes([sig[10] ^ 1]) + sig[11:]
    return base64.b64encode(psbt.serialize()).decode()

