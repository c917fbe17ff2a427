"""The sandbox's faucet: a P2WPKH key of its own, funded by mining, paying by real signed transactions.

A payment is an ordinary transaction: it goes through ``Chain.submit`` and
is verified like any other, and it waits in the mempool until a block is
mined (``confirm=True`` mines one). The faucet mines 101 blocks to itself
when it has no mature coins, and one more block when its own chain of
unconfirmed change grows long; both are documented side effects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from embit.util import secp256k1

from .policy import COINBASE_MATURITY, Rejected, dust_threshold
from .tx import Tx, TxIn, TxOut, hash160, sha256
from .verify import Precomputed, p2wpkh_script_code, sighash_v0

if TYPE_CHECKING:
    from .chain import Chain

FAUCET_SECRET = sha256(b"huddle regtest sandbox faucet; never use on a real network")
FAUCET_PUBKEY = secp256k1.ec_pubkey_serialize(secp256k1.ec_pubkey_create(FAUCET_SECRET))
FAUCET_SCRIPT = b"\x00\x14" + hash160(FAUCET_PUBKEY)
FEE_RATE = 2  # sat/vB
P2WPKH_INPUT_VBYTES = 68
BASE_VBYTES = 11 + 31 + 43  # header, change output, one P2WSH-sized payment output
MAX_OWN_CHAIN = 20


def pay(chain: "Chain", script_pubkey: bytes, amount: int, confirm: bool = False) -> str:
    """Pay ``amount`` sat to ``script_pubkey``; the txid."""
    if amount < dust_threshold(TxOut(amount, script_pubkey)):
        raise Rejected("dust")
    with chain.lock:
        coins = _coins(chain, amount)
        tx = _build(coins, script_pubkey, amount)
        txid = chain.submit(tx.serialize())
        if confirm:
            chain.mine(1)
        return txid


def _spendable(chain: "Chain") -> list[tuple[str, int, int]]:
    """(txid, vout, value) of the faucet's coins that can be spent in the next block."""
    spend_height = chain.height + 1
    coins = []
    for (txid, n), coin in chain.utxos.items():
        if coin.script_pubkey != FAUCET_SCRIPT or (txid, n) in chain.mempool_spends:
            continue
        if chain.is_coinbase(txid) and spend_height - coin.height < COINBASE_MATURITY:
            continue
        coins.append((txid, n, coin.value))
    for txid, entry in chain.mempool.items():
        for n, out in enumerate(entry.tx.vout):
            if out.script_pubkey == FAUCET_SCRIPT and (txid, n) not in chain.mempool_spends:
                if len(chain.mempool_ancestors(entry.tx)) < MAX_OWN_CHAIN:
                    coins.append((txid, n, out.value))
    return sorted(coins, key=lambda c: -c[2])


def _coins(chain: "Chain", amount: int) -> list[tuple[str, int, int]]:
    for attempt in range(3):
        coins, total = [], 0
        for coin in _spendable(chain):
            coins.append(coin)
            total += coin[2]
            if total >= amount + FEE_RATE * (BASE_VBYTES + P2WPKH_INPUT_VBYTES * len(coins)):
                return coins
        chain.mine(COINBASE_MATURITY + 1 if attempt == 0 and not coins else 1)
    raise Rejected("faucet-insufficient-funds", f"the faucet cannot pay {amount} sat")


def _build(coins: list[tuple[str, int, int]], script_pubkey: bytes, amount: int) -> Tx:
    fee = FEE_RATE * (BASE_VBYTES + P2WPKH_INPUT_VBYTES * len(coins))
    change = sum(c[2] for c in coins) - amount - fee
    vout = [TxOut(amount, script_pubkey)]
    if change >= dust_threshold(TxOut(change, FAUCET_SCRIPT)):
        vout.append(TxOut(change, FAUCET_SCRIPT))
    tx = Tx(2, [TxIn(txid, n, b"", 0xFFFFFFFD) for txid, n, _ in coins], vout, 0)
    pre = Precomputed.of(tx)
    code = p2wpkh_script_code(FAUCET_PUBKEY)
    for index, (_, _, value) in enumerate(coins):
        digest = sighash_v0(tx, index, code, value, 1, pre)
        sig = secp256k1.ecdsa_signature_serialize_der(secp256k1.ecdsa_sign(digest, FAUCET_SECRET))
        tx.vin[index].witness = [sig + b"\x01", FAUCET_PUBKEY]
    return tx
