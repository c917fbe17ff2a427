"""Real multisig spends for sandbox tests: funded by the sandbox faucet, built by
``coordinator.psbt.build.assemble``, signed with the test seeds, finalized by
bdkpython (an independent finalizer), and tampered with where a test needs a
bad one."""

from __future__ import annotations

import bdkpython as bdk
from embit.ec import PrivateKey
from embit.psbt import PSBT
from embit.script import Script
from embit.transaction import Transaction

from coordinator.chain.sandbox import Chain, faucet_pay
from coordinator.chain.sandbox.tx import Tx
from coordinator.psbt.build import Output, assemble
from coordinator.psbt.model import Utxo

from .. import keys
from ..psbt.chain import sign

PAYEE = bytes.fromhex("0014" + "22" * 20)  # someone else's P2WPKH
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def fund(chain: Chain, desc, amount: int, index: int = 0, confirm: bool = True) -> Utxo:
    """A faucet payment to the wallet's receive address ``index``, as a Utxo."""
    spk = desc.script_pubkey(0, index).data
    txid = faucet_pay(chain, spk, amount, confirm=confirm)
    raw = chain.confirmed[txid][0] if txid in chain.confirmed else chain.mempool[txid].tx
    vout = [o.script_pubkey for o in raw.vout].index(spk)
    return Utxo.from_prev_tx(raw.serialize(), vout, 0, index)


def unsigned(chain: Chain, desc, utxos, fee: int = 1_000, pay_to: bytes = PAYEE, extra_out: int = 0,
             locktime: int | None = None) -> PSBT:
    total = sum(u.value for u in utxos)
    return assemble(desc, utxos, [Output(pay_to, total - fee + extra_out)],
                    chain.height if locktime is None else locktime)


def finalize(psbt: PSBT) -> bytes:
    """bdkpython's finalizer; the raw signed transaction."""
    result = bdk.Psbt(psbt.to_string()).finalize()
    if not result.could_finalize:
        raise AssertionError(f"bdk could not finalize: {result.errors}")
    # unchecked: some tests need a transaction whose outputs exceed its inputs
    return bytes(result.psbt.extract_tx_unchecked_fee_rate().serialize())


def signed_spend(chain: Chain, desc, signers, script_type: str = "wsh", **kw) -> tuple[bytes, list[Utxo]]:
    utxo = fund(chain, desc, 1_000_000)
    psbt = unsigned(chain, desc, [utxo], **kw)
    return finalize(sign(psbt, signers, True, script_type)), [utxo]


def with_witness(raw: bytes, index: int, witness: list[bytes]) -> bytes:
    tx = Tx.parse(raw)
    tx.vin[index].witness = witness
    return tx.serialize()


def foreign_signature(raw: bytes, index: int, witness_script: bytes, amount: int, seed: int = 9) -> bytes:
    """A valid-looking SIGHASH_ALL signature by a key that is not in the wallet."""
    tx = Transaction.parse(raw)
    digest = tx.sighash_segwit(index, Script(witness_script), amount, 1)
    key = PrivateKey(keys.root(seed).derive("m/48h/1h/0h/2h/0/0").key.secret)
    return key.sign(digest).serialize() + b"\x01"


def high_s(sig: bytes) -> bytes:
    """The same signature with S replaced by N - S (valid, but not low-S)."""
    der, hashtype = sig[:-1], sig[-1:]
    len_r = der[3]
    r = der[4:4 + len_r]
    s = int.from_bytes(der[6 + len_r:], "big")
    s_bytes = (N - s).to_bytes(33, "big").lstrip(b"\x00")
    if s_bytes[0] & 0x80:
        s_bytes = b"\x00" + s_bytes
    body = b"\x02" + bytes([len(r)]) + r + b"\x02" + bytes([len(s_bytes)]) + s_bytes
    return b"\x30" + bytes([len(body)]) + body + hashtype
