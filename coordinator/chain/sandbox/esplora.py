"""The sandbox chain in Esplora's JSON shapes (Blockstream esplora API.md, as electrs serves it).

Every function reads the chain under its lock and returns plain data, or
None when the thing asked for does not exist (the server answers 404).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from embit.networks import NETWORKS
from embit.script import Script

from .blocks import REGTEST_TARGET, Block, merkle_branch
from .policy import output_type
from .tx import Tx, TxOut, asm, scripthash

if TYPE_CHECKING:
    from .chain import Chain

PAGE = 25  # confirmed transactions per page
MEMPOOL_MAX = 50
DIFF1 = 0xFFFF << 208
REGTEST_DIFFICULTY = DIFF1 / REGTEST_TARGET


def address_of(spk: bytes) -> str | None:
    if output_type(spk) not in ("p2pkh", "p2sh", "v0_p2wpkh", "v0_p2wsh", "v1_p2tr"):
        return None
    return Script(spk).address(NETWORKS["regtest"])


def txout_json(out: TxOut) -> dict:
    body = {"scriptpubkey": out.script_pubkey.hex(), "scriptpubkey_asm": asm(out.script_pubkey),
            "scriptpubkey_type": output_type(out.script_pubkey)}
    address = address_of(out.script_pubkey)
    if address:
        body["scriptpubkey_address"] = address
    body["value"] = out.value
    return body


def _vin_json(tx: Tx, n: int, prevouts: list[TxOut]) -> dict:
    txin = tx.vin[n]
    coinbase = tx.is_coinbase()
    prev = None if coinbase else prevouts[n]
    body = {"txid": txin.prev_txid, "vout": txin.prev_vout, "prevout": txout_json(prev) if prev else None,
            "scriptsig": txin.script_sig.hex(), "scriptsig_asm": asm(txin.script_sig)}
    if txin.witness:
        body["witness"] = [w.hex() for w in txin.witness]
    body.update(is_coinbase=coinbase, sequence=txin.sequence)
    kind = output_type(prev.script_pubkey) if prev else ""
    if kind == "p2sh" and txin.script_sig:
        body["inner_redeemscript_asm"] = asm(txin.script_sig[1:])
    if txin.witness and (kind == "v0_p2wsh" or (kind == "p2sh" and len(txin.script_sig) == 35)):
        body["inner_witnessscript_asm"] = asm(txin.witness[-1])
    return body


def status_of(chain: "Chain", txid: str) -> dict | None:
    if txid in chain.confirmed:
        block = chain.blocks[chain.confirmed[txid][1]]
        return {"confirmed": True, "block_height": block.height, "block_hash": block.hash,
                "block_time": block.time}
    return {"confirmed": False} if txid in chain.mempool else None


def _find(chain: "Chain", txid: str) -> tuple[Tx, list[TxOut], int] | None:
    if txid in chain.confirmed:
        return chain.confirmed[txid][0], chain.prevouts[txid], chain.fees[txid]
    entry = chain.mempool.get(txid)
    return (entry.tx, entry.prevouts, entry.fee) if entry else None


def tx_json(chain: "Chain", txid: str, with_status: bool = True) -> dict | None:
    found = _find(chain, txid)
    if found is None:
        return None
    tx, prevouts, fee = found
    body = {"txid": tx.txid, "version": tx.version, "locktime": tx.locktime,
            "vin": [_vin_json(tx, n, prevouts) for n in range(len(tx.vin))],
            "vout": [txout_json(o) for o in tx.vout], "size": tx.size, "weight": tx.weight, "fee": fee}
    if with_status:
        body["status"] = status_of(chain, txid)
    return body


def tx_raw(chain: "Chain", txid: str) -> bytes | None:
    found = _find(chain, txid)
    return found[0].serialize() if found else None


def outspend(chain: "Chain", txid: str, vout: int) -> dict | None:
    found = _find(chain, txid)
    if found is None or vout >= len(found[0].vout):
        return None
    spender = chain.mempool_spends.get((txid, vout)) or chain.spends.get((txid, vout))
    if spender is None:
        return {"spent": False}
    return {"spent": True, "txid": spender[0], "vin": spender[1], "status": status_of(chain, spender[0])}


def outspends(chain: "Chain", txid: str) -> list | None:
    found = _find(chain, txid)
    return None if found is None else [outspend(chain, txid, n) for n in range(len(found[0].vout))]


def merkle_proof(chain: "Chain", txid: str) -> dict | None:
    if txid not in chain.confirmed:
        return None
    _, height, pos = chain.confirmed[txid]
    hashes = [bytes.fromhex(t.txid)[::-1] for t in chain.blocks[height].txs]
    return {"block_height": height, "merkle": [h[::-1].hex() for h in merkle_branch(hashes, pos)], "pos": pos}


# --- blocks ---

def block_json(chain: "Chain", block: Block) -> dict:
    body = {"id": block.hash, "height": block.height, "version": block.version, "timestamp": block.time,
            "tx_count": len(block.txs), "size": block.size, "weight": block.weight,
            "merkle_root": block.merkle_root[::-1].hex()}
    if block.height:
        body["previousblockhash"] = block.prev_hash
    body.update(mediantime=chain.median_time_past(block.height) if in_best_chain(chain, block) else block.time,
                nonce=block.nonce, bits=block.bits, difficulty=REGTEST_DIFFICULTY)
    return body


def find_block(chain: "Chain", block_hash: str) -> Block | None:
    return chain.by_hash.get(block_hash) or chain.stale.get(block_hash)


def in_best_chain(chain: "Chain", block: Block) -> bool:
    return block.height <= chain.height and chain.blocks[block.height].hash == block.hash


def block_status(chain: "Chain", block: Block) -> dict:
    if not in_best_chain(chain, block):
        return {"in_best_chain": False}
    nxt = chain.blocks[block.height + 1].hash if block.height < chain.height else None
    return {"in_best_chain": True, "height": block.height, "next_best": nxt}


def blocks_from(chain: "Chain", start: int | None) -> list[dict]:
    top = chain.height if start is None else min(start, chain.height)
    return [block_json(chain, chain.blocks[h]) for h in range(top, max(top - 10, -1), -1)]


def block_txs(chain: "Chain", block: Block, start: int) -> list[dict]:
    return [tx_json(chain, t.txid) for t in block.txs[start:start + PAGE]]


# --- scripthashes ---

def _touches(sh: str, tx: Tx, prevouts: list[TxOut]) -> bool:
    return any(scripthash(o.script_pubkey) == sh for o in [*tx.vout, *prevouts])


def mempool_history(chain: "Chain", sh: str) -> list[str]:
    """Mempool txids touching ``sh``, newest first."""
    return [t for t, e in reversed(chain.mempool.items()) if _touches(sh, e.tx, e.prevouts)]


def _stats(txids: list[str], sh: str, lookup) -> dict:
    stats = dict(funded_txo_count=0, funded_txo_sum=0, spent_txo_count=0, spent_txo_sum=0, tx_count=len(txids))
    for txid in txids:
        tx, prevouts = lookup(txid)
        for out in tx.vout:
            if scripthash(out.script_pubkey) == sh:
                stats["funded_txo_count"] += 1
                stats["funded_txo_sum"] += out.value
        for prev in prevouts:
            if scripthash(prev.script_pubkey) == sh:
                stats["spent_txo_count"] += 1
                stats["spent_txo_sum"] += prev.value
    return stats


def scripthash_stats(chain: "Chain", sh: str) -> dict:
    confirmed = chain.history.get(sh, [])
    return {
        "chain_stats": _stats(confirmed, sh, lambda t: (chain.confirmed[t][0], chain.prevouts[t])),
        "mempool_stats": _stats(mempool_history(chain, sh), sh,
                                lambda t: (chain.mempool[t].tx, chain.mempool[t].prevouts)),
    }


def txs(chain: "Chain", sh: str) -> list[dict]:
    """Up to 50 mempool transactions, then the newest 25 confirmed ones."""
    return txs_mempool(chain, sh) + txs_chain(chain, sh, None)


def txs_mempool(chain: "Chain", sh: str) -> list[dict]:
    return [tx_json(chain, t) for t in mempool_history(chain, sh)[:MEMPOOL_MAX]]


def txs_chain(chain: "Chain", sh: str, last_seen: str | None) -> list[dict]:
    """25 confirmed transactions, newest first, after ``last_seen`` if given."""
    newest_first = list(reversed(chain.history.get(sh, [])))
    if last_seen is not None:
        if last_seen not in newest_first:
            return []
        newest_first = newest_first[newest_first.index(last_seen) + 1:]
    return [tx_json(chain, t) for t in newest_first[:PAGE]]


def utxo(chain: "Chain", sh: str) -> list[dict]:
    found = []
    for txid in dict.fromkeys(chain.history.get(sh, [])):
        for n, out in enumerate(chain.confirmed[txid][0].vout):
            if (txid, n) in chain.utxos and (txid, n) not in chain.mempool_spends and \
                    scripthash(out.script_pubkey) == sh:
                found.append({"txid": txid, "vout": n, "status": status_of(chain, txid), "value": out.value})
    for txid in reversed(mempool_history(chain, sh)):
        for n, out in enumerate(chain.mempool[txid].tx.vout):
            if (txid, n) not in chain.mempool_spends and scripthash(out.script_pubkey) == sh:
                found.append({"txid": txid, "vout": n, "status": {"confirmed": False}, "value": out.value})
    return found


# --- mempool ---

def mempool_summary(chain: "Chain") -> dict:
    entries = list(chain.mempool.values())
    histogram: dict[float, int] = {}
    for e in entries:
        rate = round(e.fee / e.vsize, 2)
        histogram[rate] = histogram.get(rate, 0) + e.vsize
    return {"count": len(entries), "vsize": sum(e.vsize for e in entries),
            "total_fee": sum(e.fee for e in entries),
            "fee_histogram": [[r, v] for r, v in sorted(histogram.items(), reverse=True)]}


def mempool_recent(chain: "Chain") -> list[dict]:
    return [{"txid": t, "fee": e.fee, "vsize": e.vsize, "value": sum(o.value for o in e.tx.vout)}
            for t, e in list(reversed(chain.mempool.items()))[:10]]

