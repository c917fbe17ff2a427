"""Saving the sandbox chain to a JSON file (for ``huddle demo``), atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .blocks import Block
from .tx import Reader, Tx

if TYPE_CHECKING:
    from .chain import Chain

FORMAT = 1


def save(chain: "Chain", path: Path) -> None:
    data = {
        "format": FORMAT,
        "network": "regtest",
        "blocks": [b.serialize().hex() for b in chain.blocks[1:]],
        "mempool": [e.tx.serialize().hex() for e in chain.mempool.values()],
        "fee_estimates": chain.fee_estimates,
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def load(chain: "Chain", path: Path) -> None:
    """Replay saved blocks (already verified when they were made), then re-verify the mempool."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT or data.get("network") != "regtest":
        raise ValueError(f"{path} is not a regtest sandbox file of format {FORMAT}")
    for height, raw in enumerate(data["blocks"], start=1):
        chain._connect(parse_block(bytes.fromhex(raw), height))
    chain.fee_estimates = data.get("fee_estimates", chain.fee_estimates)
    for raw in data["mempool"]:
        chain._accept(Tx.parse(bytes.fromhex(raw)))


def parse_block(raw: bytes, height: int) -> Block:
    r = Reader(raw)
    version, prev, root = r.int(4), r.take(32)[::-1].hex(), r.take(32)
    time, bits, nonce = r.int(4), r.int(4), r.int(4)
    txs = [Tx.read_from(r) for _ in range(r.varint())]
    if not r.done():
        raise ValueError("trailing bytes after a saved block")
    return Block(version, prev, root, time, bits, nonce, txs, height)
