"""The regtest sandbox: a verifying stand-in for bitcoind + Esplora, for tests and ``huddle demo``.

``Chain`` holds blocks, UTXOs and a mempool and verifies every transaction
for real; ``serve(chain)`` puts an Esplora-compatible HTTP API in front of
it on loopback. Regtest only. See docs/sandbox.md.
"""

from .chain import Chain, script_for
from .faucet import pay as faucet_pay
from .policy import Rejected
from .server import Sandbox, serve

__all__ = ["Chain", "Rejected", "Sandbox", "faucet_pay", "script_for", "serve"]
