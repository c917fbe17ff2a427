"""Real, fully signed spends of the test 2-of-3 wallet, for the sandbox.

Assembled by ``coordinator/psbt/build.py``, signed with the test seeds, and
finalized by bdkpython (an independent finalizer).
"""

from __future__ import annotations

from typing import Sequence

import bdkpython

from coordinator.chain.model import WalletUtxo
from coordinator.psbt.build import Output, assemble
from coordinator.psbt.model import Utxo
from coordinator.wallet.descriptor import MultisigDescriptor

from ..psbt.chain import sign

SIGNERS = (0, 1)


def finalize(psbt_b64: str) -> bytes:
    result = bdkpython.Psbt(psbt_b64).finalize()
    if not result.could_finalize:
        raise RuntimeError(f"bdk could not finalize: {result.errors}")
    return bytes(result.psbt.extract_tx().serialize())


def spend(desc: MultisigDescriptor, coins: Sequence[tuple[WalletUtxo, bytes]],
          outputs: Sequence[Output], locktime: int = 0) -> bytes:
    """The raw signed transaction spending ``coins`` ((utxo, prev raw tx)) to ``outputs``."""
    inputs = [Utxo.from_prev_tx(raw, u.vout, u.branch, u.index) for u, raw in coins]
    psbt = assemble(desc, inputs, outputs, locktime)
    return finalize(sign(psbt, SIGNERS).to_string())


def send_back(desc: MultisigDescriptor, coin: WalletUtxo, prev_raw: bytes, pay_to: bytes,
              fee: int = 500, change_index: int | None = None) -> bytes:
    """Spend one coin: half to ``pay_to``, the rest (minus fee) to our change."""
    half = coin.value // 2
    outputs = [Output(pay_to, half)]
    if change_index is not None:
        outputs.append(Output(desc.script_pubkey(1, change_index).data, coin.value - half - fee,
                              change_index))
    else:
        outputs[0] = Output(pay_to, coin.value - fee)
    return spend(desc, [(coin, prev_raw)], outputs)
