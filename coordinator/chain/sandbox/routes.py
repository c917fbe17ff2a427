"""Esplora's routes for the sandbox server: path patterns, answers and error texts.

Paths and shapes follow Blockstream esplora's API.md as electrs serves them;
errors are electrs's plain-text answers ("Transaction not found", ...).
"""

from __future__ import annotations

import json
import re

from ...errors import InvalidInput
from . import esplora as E
from .chain import Chain, script_for
from .policy import Rejected
from .tx import scripthash

HEX64 = r"([0-9a-f]{64})"
MAX_BODY = 4_000_000 * 2 + 1024  # a hex transaction of maximum weight, and some


class NotFound(Exception):
    """Answer 404 with this text (Esplora's plain-text errors)."""


class BadRequest(Exception):
    """Answer 400 with this text."""


def _tx_or_404(found, what: str = "Transaction not found"):
    if found is None:
        raise NotFound(what)
    return found


def _block(chain: Chain, block_hash: str):
    return _tx_or_404(E.find_block(chain, block_hash), "Block not found")


def _script_hash(chain: Chain, kind: str, value: str) -> str:
    if kind == "scripthash":
        if not re.fullmatch(HEX64, value):
            raise BadRequest("Invalid scripthash")
        return value
    try:
        return scripthash(script_for(value))
    except InvalidInput:
        raise BadRequest("Invalid Bitcoin address") from None


def _address_routes():
    base = r"/(address|scripthash)/([^/]+)"
    return [
        ("GET", base + r"$", lambda c, k, v: {("address" if k == "address" else "scripthash"): v,
                                              **E.scripthash_stats(c, _script_hash(c, k, v))}),
        ("GET", base + r"/txs$", lambda c, k, v: E.txs(c, _script_hash(c, k, v))),
        ("GET", base + r"/txs/chain$", lambda c, k, v: E.txs_chain(c, _script_hash(c, k, v), None)),
        ("GET", base + r"/txs/chain/" + HEX64 + "$",
         lambda c, k, v, last: E.txs_chain(c, _script_hash(c, k, v), last)),
        ("GET", base + r"/txs/mempool$", lambda c, k, v: E.txs_mempool(c, _script_hash(c, k, v))),
        ("GET", base + r"/utxo$", lambda c, k, v: E.utxo(c, _script_hash(c, k, v))),
    ]


def _height_hash(chain: Chain, height: str) -> str:
    h = int(height)
    if h > chain.height:
        raise NotFound("Block not found")
    return chain.blocks[h].hash


ROUTES = [
    ("GET", r"/blocks/tip/height$", lambda c: str(c.height)),
    ("GET", r"/blocks/tip/hash$", lambda c: c.tip.hash),
    ("GET", r"/blocks$", lambda c: E.blocks_from(c, None)),
    ("GET", r"/blocks/(\d+)$", lambda c, h: E.blocks_from(c, int(h))),
    ("GET", r"/block-height/(\d+)$", _height_hash),
    ("GET", r"/block/" + HEX64 + "$", lambda c, h: E.block_json(c, _block(c, h))),
    ("GET", r"/block/" + HEX64 + "/header$", lambda c, h: _block(c, h).header().hex()),
    ("GET", r"/block/" + HEX64 + "/status$", lambda c, h: E.block_status(c, _block(c, h))),
    ("GET", r"/block/" + HEX64 + "/raw$", lambda c, h: _block(c, h).serialize()),
    ("GET", r"/block/" + HEX64 + "/txids$", lambda c, h: [t.txid for t in _block(c, h).txs]),
    ("GET", r"/block/" + HEX64 + "/txs$", lambda c, h: E.block_txs(c, _block(c, h), 0)),
    ("GET", r"/block/" + HEX64 + r"/txs/(\d+)$", lambda c, h, s: E.block_txs(c, _block(c, h), int(s))),
    ("GET", r"/block/" + HEX64 + r"/txid/(\d+)$",
     lambda c, h, i: _tx_or_404(dict(enumerate(t.txid for t in _block(c, h).txs)).get(int(i)))),
    ("GET", r"/tx/" + HEX64 + "$", lambda c, t: _tx_or_404(E.tx_json(c, t))),
    ("GET", r"/tx/" + HEX64 + "/status$", lambda c, t: _tx_or_404(E.status_of(c, t))),
    ("GET", r"/tx/" + HEX64 + "/hex$", lambda c, t: _tx_or_404(E.tx_raw(c, t)).hex()),
    ("GET", r"/tx/" + HEX64 + "/raw$", lambda c, t: _tx_or_404(E.tx_raw(c, t))),
    ("GET", r"/tx/" + HEX64 + "/merkle-proof$", lambda c, t: _tx_or_404(E.merkle_proof(c, t))),
    ("GET", r"/tx/" + HEX64 + r"/outspend/(\d+)$", lambda c, t, n: _tx_or_404(E.outspend(c, t, int(n)))),
    ("GET", r"/tx/" + HEX64 + "/outspends$", lambda c, t: _tx_or_404(E.outspends(c, t))),
    *_address_routes(),
    ("GET", r"/mempool$", E.mempool_summary),
    ("GET", r"/mempool/txids$", lambda c: list(c.mempool)),
    ("GET", r"/mempool/recent$", E.mempool_recent),
    ("GET", r"/fee-estimates$", lambda c: {k: float(v) for k, v in c.fee_estimates.items()}),
]


def route_name(pattern: str) -> str:
    """A readable name for request counts, e.g. ``GET /tx/:txid/raw``."""
    name = pattern.replace(HEX64, ":hash").replace(r"(\d+)", ":n").replace("([^/]+)", ":id")
    return "GET " + name.replace("(address|scripthash)", ":kind").rstrip("$")


def broadcast_error(exc: Rejected, style: str) -> str:
    """What Esplora (electrs) answers when bitcoind refuses a transaction.

    ``electrs``: Blockstream electrs since Dec 2024 (PR #133); ``legacy``: the
    older form, still served by some deployments.
    """
    if style == "legacy":
        return "sendrawtransaction RPC error: " + json.dumps({"code": exc.code, "message": exc.message},
                                                              separators=(",", ":"))
    return f"sendrawtransaction RPC error {exc.code}: {exc.message}"
