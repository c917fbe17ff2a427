"""A small Bitcoin Core JSON-RPC server on 127.0.0.1 for tests.

Shapes and messages are Core's own, from the RPC help and the code that fills it:
- envelope: ``src/httprpc.cpp`` / ``src/rpc/request.cpp`` (v28.0, PR #27101): a
  request with ``"jsonrpc": "2.0"`` gets HTTP 200 and only one of result/error;
  any other request gets the legacy reply with both keys, and errors come with
  HTTP 500 (400 for -32600, 404 for -32601). A missing wallet (-18) is a 500 too.
  Bad credentials: 401 with ``WWW-Authenticate`` and no body.
- createwallet/loadwallet: ``src/wallet/rpc/wallet.cpp`` (v28 era: ``warnings`` is an
  optional array); messages from ``src/wallet/walletdb.cpp`` MakeDatabase.
- importdescriptors/listdescriptors: ``src/wallet/rpc/backup.cpp``.
- listunspent: ``src/wallet/rpc/coins.cpp``; listtransactions/gettransaction:
  ``src/wallet/rpc/transactions.cpp``.
- testmempoolaccept/sendrawtransaction: ``src/rpc/mempool.cpp`` (v28: vsize, fees
  base/effective-feerate/effective-includes; -27 "Transaction outputs already in utxo set").
- estimatesmartfee: ``src/rpc/fees.cpp``; getblockchaininfo/getblockhash:
  ``src/rpc/blockchain.cpp``; getrawtransaction: ``src/rpc/rawtransaction.cpp``
  (verbosity 2 adds vin[].prevout and fee, Core >= 25).
Amounts are written as Core writes them: JSON numbers with 8 decimals.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from embit.descriptor.checksum import checksum as desc_checksum
from embit.networks import NETWORKS
from embit.script import Script
from embit.transaction import Transaction, TransactionInput, TransactionOutput

PARAMS = {  # positional order, from each RPC's help
    "createwallet": ["wallet_name", "disable_private_keys", "blank", "passphrase", "avoid_reuse",
                     "descriptors", "load_on_startup", "external_signer"],
    "loadwallet": ["filename", "load_on_startup"], "importdescriptors": ["requests"],
    "listdescriptors": ["private"], "listunspent": ["minconf", "maxconf", "addresses", "include_unsafe"],
    "listtransactions": ["label", "count", "skip", "include_watchonly"],
    "gettransaction": ["txid", "include_watchonly", "verbose"],
    "getrawtransaction": ["txid", "verbosity", "blockhash"], "estimatesmartfee": ["conf_target"],
    "testmempoolaccept": ["rawtxs", "maxfeerate"], "sendrawtransaction": ["hexstring", "maxfeerate"],
    "getblockchaininfo": [], "getblockhash": ["height"],
}
WALLET_RPCS = {"importdescriptors", "listdescriptors", "listunspent", "listtransactions", "gettransaction"}
NOT_LOADED = "Requested wallet does not exist or is not loaded"
NO_MEMPOOL_TX = ("No such mempool transaction. Use -txindex or provide a block hash to enable blockchain "
                 "transaction queries. Use gettransaction for wallet transactions.")


class Amount(int):
    """Satoshis that serialize as Core's BTC JSON number (ValueFromAmount)."""

    def json(self) -> str:
        return f"{'-' if self < 0 else ''}{abs(self) // 100_000_000}.{abs(self) % 100_000_000:08d}"


class RPCFail(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def dump(obj: Any) -> str:
    if isinstance(obj, Amount):
        return obj.json()
    if isinstance(obj, dict):
        return "{" + ",".join(json.dumps(k) + ":" + dump(v) for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(dump(v) for v in obj) + "]"
    return str(obj) if isinstance(obj, Decimal) else json.dumps(obj)


@dataclass
class Wallet:
    name: str
    private_keys: bool = False
    descriptors: list[dict] = field(default_factory=list)
    scripts: set[bytes] = field(default_factory=set)


class FakeCore:
    """State: wallets (on disk / loaded), a chain of blocks, a mempool, fee rates."""

    def __init__(self, datadir: Path, rpcauth: tuple[str, str] | None = None) -> None:
        self.cookie_path = datadir / ".cookie"
        self.cookie_path.write_text("__cookie__:" + hashlib.sha256(str(datadir).encode()).hexdigest())
        self.rpcauth, self.walletdir = rpcauth, datadir / "wallets"
        self.wallets: dict[str, Wallet] = {}
        self.loaded: set[str] = set()
        self.blocks: list[tuple[str, list[str]]] = [(_hash("genesis"), [])]
        self.txs: dict[str, Transaction] = {}
        self.mempool: list[str] = []
        self.fee_rates: dict[int, int] = {}  # target -> sat/kvB; absent: "Insufficient data"
        self.calls: list[tuple[str | None, str, dict]] = []
        self.warmup_calls, self.delay, self.min_relay = 0, 0.0, 1000
        self.send_error: tuple[int, str] | None = None
        self.legacy_only = False  # answer like Core <= 27, which ignores "jsonrpc": "2.0"
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads, self.server.block_on_close = True, False  # slow answers don't block
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeCore:
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def methods(self) -> list[str]:
        return [method for _, method, _ in self.calls]

    # -- test setup: a chain with real transactions ---------------------------

    def mine(self, n: int = 1) -> None:
        for _ in range(n):
            self.blocks.append((_hash(f"block {len(self.blocks)}"), self.mempool))
            self.mempool = []

    def add_tx(self, tx: Transaction, confirmed: bool = True) -> str:
        txid = tx.txid().hex()
        self.txs[txid] = tx
        self.mempool.append(txid)
        if confirmed:
            self.mine()
        return txid

    def fund(self, wallet: str, script: Script, sats: int, confirmed: bool = True) -> tuple[str, int]:
        """A coinbase to a stranger, then a payment from it to ``script``; (txid, vout)."""
        tag = Script(b"\x04" + len(self.txs).to_bytes(4, "little"))  # makes each coinbase unique
        coinbase = Transaction(vin=[TransactionInput(bytes(32), 0xFFFFFFFF, tag)],
                               vout=[TransactionOutput(sats + 10_000, _STRANGER)])
        parent = self.add_tx(coinbase)
        pay = Transaction(vin=[TransactionInput(bytes.fromhex(parent), 0)],
                          vout=[TransactionOutput(sats, script)])
        self.wallets[wallet].scripts.add(script.data)
        return self.add_tx(pay, confirmed), 0

    # -- chain queries ----------------------------------------------------------

    def height_of(self, txid: str) -> int | None:
        return next((h for h, (_, txids) in enumerate(self.blocks) if txid in txids), None)

    def entry_status(self, txid: str) -> dict:
        height = self.height_of(txid)
        if height is None:
            return {"confirmations": 0, "trusted": False}
        block_hash, txids = self.blocks[height]
        return {"confirmations": len(self.blocks) - height, "blockhash": block_hash, "blockheight": height,
                "blockindex": txids.index(txid), "blocktime": 1_700_000_000}

    def spender(self, txid: str, vout: int, skip: str | None = None) -> str | None:
        return next((t for t, tx in self.txs.items() if t != skip and any(
            i.txid.hex() == txid and i.vout == vout for i in tx.vin)), None)

    def prevout(self, vin: TransactionInput) -> TransactionOutput | None:
        parent = self.txs.get(vin.txid.hex())
        return parent.vout[vin.vout] if parent and vin.vout < len(parent.vout) else None

    # -- RPC dispatch ----------------------------------------------------------------

    def handle(self, path: str, method: str, params: Any) -> Any:
        if self.warmup_calls > 0:
            self.warmup_calls -= 1
            raise RPCFail(-28, "Loading block index…")
        if method not in PARAMS:
            raise RPCFail(-32601, "Method not found")
        args = _named(method, params)
        wallet = self._wallet_for(path) if method in WALLET_RPCS else None
        self.calls.append((wallet.name if wallet else None, method, args))
        implementation = getattr(self, "rpc_" + method)
        return implementation(args, wallet) if wallet else implementation(args)

    def _wallet_for(self, path: str) -> Wallet:
        if path.startswith("/wallet/"):
            name = unquote(path[len("/wallet/"):])
            if name not in self.loaded:
                raise RPCFail(-18, NOT_LOADED)
            return self.wallets[name]
        if len(self.loaded) != 1:
            raise RPCFail(-19, "Wallet file not specified (must request wallet RPC through "
                               "/wallet/<filename> uri-path).")
        return self.wallets[next(iter(self.loaded))]

    def rpc_createwallet(self, a: dict) -> dict:
        name = a["wallet_name"]
        if name in self.wallets:
            raise RPCFail(-4, f"Wallet file verification failed. Failed to create database path "
                              f"'{self.walletdir / name}'. Database already exists.")
        self.wallets[name] = Wallet(name, private_keys=not a.get("disable_private_keys", False))
        self.loaded.add(name)
        return {"name": name}

    def rpc_loadwallet(self, a: dict) -> dict:
        name = a["filename"]
        if name in self.loaded:
            raise RPCFail(-35, f'Wallet "{name}" is already loaded.')
        if name not in self.wallets:
            raise RPCFail(-18, f"Wallet file verification failed. Failed to load database path "
                               f"'{self.walletdir / name}'. Path does not exist.")
        self.loaded.add(name)
        return {"name": name}

    def rpc_importdescriptors(self, a: dict, w: Wallet) -> list:
        for req in a["requests"]:
            if "timestamp" not in req:
                raise RPCFail(-3, "Missing required timestamp field for key")
        return [_import_one(w, req) for req in a["requests"]]

    def rpc_listdescriptors(self, a: dict, w: Wallet) -> dict:
        return {"wallet_name": w.name, "descriptors": w.descriptors}

    def rpc_listunspent(self, a: dict, w: Wallet) -> list:
        rows = []
        for txid, tx in self.txs.items():
            status = self.entry_status(txid)
            if txid not in self.mempool and status["confirmations"] == 0:
                continue
            for n, out in enumerate(tx.vout):
                if out.script_pubkey.data in w.scripts and not self.spender(txid, n):
                    rows.append({"txid": txid, "vout": n, "address": out.script_pubkey.address(REGTEST),
                                 "scriptPubKey": out.script_pubkey.data.hex(), "amount": Amount(out.value),
                                 "confirmations": status["confirmations"], "spendable": True,
                                 "solvable": True,
                                 "parent_descs": [d["desc"] for d in w.descriptors[:1]],
                                 "safe": status["confirmations"] > 0})
        return rows

    def _wallet_entries(self, w: Wallet) -> list[dict]:
        entries = []
        for txid in [t for _, txids in self.blocks for t in txids] + self.mempool:
            tx = self.txs[txid]
            base = {**self.entry_status(txid), "txid": txid, "walletconflicts": [], "mempoolconflicts": [],
                    "time": 1_700_000_000, "timereceived": 1_700_000_000, "bip125-replaceable": "no"}
            prevs = [self.prevout(i) for i in tx.vin]
            mine_in = any(p and p.script_pubkey.data in w.scripts for p in prevs)
            fee = sum(p.value for p in prevs) - sum(o.value for o in tx.vout) if mine_in else None
            for n, out in enumerate(tx.vout):
                address = out.script_pubkey.address(REGTEST)
                if out.script_pubkey.data in w.scripts:
                    entries.append({"address": address, "category": "receive", "amount": Amount(out.value),
                                    "vout": n, **base})
                elif mine_in:
                    entries.append({"address": address, "category": "send", "amount": Amount(-out.value),
                                    "vout": n, "fee": Amount(-fee), "abandoned": False, **base})
        return entries

    def rpc_listtransactions(self, a: dict, w: Wallet) -> list:
        entries = self._wallet_entries(w)
        end = max(len(entries) - a.get("skip", 0), 0)
        return entries[max(end - a.get("count", 10), 0):end]

    def rpc_gettransaction(self, a: dict, w: Wallet) -> dict:
        entries = [e for e in self._wallet_entries(w) if e["txid"] == a["txid"]]
        if not entries:
            raise RPCFail(-5, "Invalid or non-wallet transaction id")
        return {"amount": Amount(sum(e["amount"] for e in entries)), **self.entry_status(a["txid"]),
                "txid": a["txid"], "details": entries, "hex": self.txs[a["txid"]].serialize().hex()}

    def rpc_getrawtransaction(self, a: dict) -> Any:
        txid, verbosity, block = a["txid"], int(a.get("verbosity") or 0), a.get("blockhash")
        if block is not None:
            found = [txids for h, txids in self.blocks if h == block]
            if not found:
                raise RPCFail(-5, "Block hash not found")
            if txid not in found[0]:
                raise RPCFail(-5, "No such transaction found in the provided block. "
                                  "Use gettransaction for wallet transactions.")
        elif txid not in self.mempool:
            raise RPCFail(-5, NO_MEMPOOL_TX)
        tx = self.txs[txid]
        if verbosity == 0:
            return tx.serialize().hex()
        vout = [{"value": Amount(o.value), "n": n, "scriptPubKey": {"hex": o.script_pubkey.data.hex()}}
                for n, o in enumerate(tx.vout)]
        return {"txid": txid, "hash": _wtxid(tx), "hex": tx.serialize().hex(),
                "vin": [self._vin(i, verbosity) for i in tx.vin], "vout": vout,
                **({"blockhash": block} if block else {})}

    def _vin(self, vin: TransactionInput, verbosity: int) -> dict:
        if vin.txid == bytes(32) and vin.vout == 0xFFFFFFFF:
            return {"coinbase": vin.script_sig.data.hex(), "sequence": vin.sequence}
        entry = {"txid": vin.txid.hex(), "vout": vin.vout, "sequence": vin.sequence}
        prev = self.prevout(vin)
        if verbosity >= 2 and prev is not None:
            entry["prevout"] = {"generated": False, "height": self.height_of(vin.txid.hex()),
                                "value": Amount(prev.value),
                                "scriptPubKey": {"hex": prev.script_pubkey.data.hex()}}
        return entry

    def rpc_estimatesmartfee(self, a: dict) -> dict:
        target = a["conf_target"]
        if not 1 <= target <= 1008:
            raise RPCFail(-8, "Invalid conf_target, must be between 1 and 1008")
        if target not in self.fee_rates:
            return {"errors": ["Insufficient data or no feerate found"], "blocks": 0}
        return {"feerate": Amount(self.fee_rates[target]), "blocks": max(target, 2)}

    def _verdict(self, tx: Transaction) -> tuple[str | None, int]:
        """(reject-reason or None, fee in sats), as validation's PreChecks order them."""
        txid = tx.txid().hex()
        if txid in self.mempool:
            return "txn-already-in-mempool", 0
        if txid in self.txs:
            return "txn-already-known", 0
        prevs = [self.prevout(i) for i in tx.vin]
        if any(p is None for p in prevs):
            return "missing-inputs", 0
        if any(self.spender(i.txid.hex(), i.vout) for i in tx.vin):
            return "txn-mempool-conflict", 0
        fee = sum(p.value for p in prevs) - sum(o.value for o in tx.vout)
        if fee < 0:
            return "bad-txns-in-belowout", 0
        if fee * 1000 < self.min_relay * len(tx.serialize()):
            return "min relay fee not met", fee
        return None, fee

    def rpc_testmempoolaccept(self, a: dict) -> list:
        tx = _decode(a["rawtxs"][0], "TX decode failed for tx 0. Make sure the tx has at least one input.")
        reason, fee = self._verdict(tx)
        out = {"txid": tx.txid().hex(), "wtxid": _wtxid(tx)}
        if reason:
            return [{**out, "allowed": False, "reject-reason": reason}]
        size = len(tx.serialize())
        fees = {"base": Amount(fee), "effective-feerate": Amount(fee * 1000 // size),
                "effective-includes": [out["wtxid"]]}
        return [{**out, "allowed": True, "vsize": size, "fees": fees}]

    def rpc_sendrawtransaction(self, a: dict) -> str:
        tx = _decode(a["hexstring"], "TX decode failed. Make sure the tx has at least one input.")
        if self.send_error:
            raise RPCFail(*self.send_error)
        reason, _ = self._verdict(tx)
        txid = tx.txid().hex()
        if reason == "txn-already-in-mempool":
            return txid  # node/transaction.cpp: already in our mempool → just re-announce
        if reason == "txn-already-known":
            raise RPCFail(-27, "Transaction outputs already in utxo set")
        if reason in ("missing-inputs", "txn-mempool-conflict"):
            raise RPCFail(-25, "bad-txns-inputs-missingorspent")
        if reason:
            raise RPCFail(-26, reason)
        self.add_tx(tx, confirmed=False)
        return txid

    def rpc_getblockchaininfo(self, a: dict) -> dict:
        return {"chain": "regtest", "blocks": len(self.blocks) - 1, "headers": len(self.blocks) - 1,
                "bestblockhash": self.blocks[-1][0], "difficulty": Decimal("4.656542373906925e-10"),
                "time": 1_700_000_000, "mediantime": 1_700_000_000, "verificationprogress": 1,
                "initialblockdownload": False, "chainwork": "00" * 32, "size_on_disk": 293,
                "pruned": False, "warnings": []}

    def rpc_getblockhash(self, a: dict) -> str:
        if not 0 <= a["height"] < len(self.blocks):
            raise RPCFail(-8, "Block height out of range")
        return self.blocks[a["height"]][0]


def _import_one(w: Wallet, req: dict) -> dict:
    """backup.cpp ProcessDescriptorImport: per-request success or error object."""
    desc = req.get("desc", "")
    body, _, given = desc.partition("#")
    try:
        if not given:
            raise RPCFail(-5, "Missing checksum")
        if given != desc_checksum(body):
            raise RPCFail(-5, f"Provided checksum '{given}' does not match computed checksum "
                              f"'{desc_checksum(body)}'")
        if not w.private_keys and ("prv" in body):
            raise RPCFail(-4, "Cannot import private keys to a wallet with private keys disabled")
        if w.private_keys:
            raise RPCFail(-4, "Cannot import descriptor without private keys to a wallet with private keys "
                              "enabled")
        if req.get("active") and "*" not in body:
            raise RPCFail(-8, "Active descriptors must be ranged")
    except RPCFail as e:
        return {"success": False, "error": {"code": e.code, "message": e.message}}
    lo, hi = req.get("range", [0, 999])
    w.descriptors = [d for d in w.descriptors if d["desc"] != desc] + [{
        "desc": desc, "timestamp": req["timestamp"], "active": bool(req.get("active")),
        "internal": bool(req.get("internal")), "range": [lo, hi], "next": lo, "next_index": lo}]
    return {"success": True}


def _named(method: str, params: Any) -> dict:
    names = PARAMS[method]
    if isinstance(params, dict):
        for key in params:
            if key not in names:
                raise RPCFail(-8, f"Unknown named parameter {key}")
        return dict(params)
    if len(params or []) > len(names):
        raise RPCFail(-1, f"{method} takes at most {len(names)} arguments")
    return dict(zip(names, params or []))


def _decode(hex_tx: str, message: str) -> Transaction:
    try:
        return Transaction.parse(bytes.fromhex(hex_tx))
    except Exception:  # embit raises assorted errors on garbage
        raise RPCFail(-22, message) from None


def _wtxid(tx: Transaction) -> str:
    return hashlib.sha256(hashlib.sha256(tx.serialize()).digest()).digest()[::-1].hex()


def _hash(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


REGTEST = NETWORKS["regtest"]
_STRANGER = Script(b"\x00\x14" + bytes(range(20)))  # someone else's P2WPKH


def _handler(core: FakeCore) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not self._authorized():
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="jsonrpc"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            time.sleep(core.delay)
            status, reply = self._dispatch(body)
            data = reply.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                return False
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            allowed = [tuple(core.cookie_path.read_text().split(":", 1)), core.rpcauth]
            return (user, password) in allowed

        def _dispatch(self, body: bytes) -> tuple[int, str]:
            request = json.loads(body)
            v2, rid = request.get("jsonrpc") == "2.0" and not core.legacy_only, request.get("id")
            try:
                with core._lock:
                    result = core.handle(self.path, request["method"], request.get("params"))
            except RPCFail as e:
                error = {"code": e.code, "message": e.message}
                if v2:
                    return 200, dump({"jsonrpc": "2.0", "error": error, "id": rid})
                status = {-32600: 400, -32601: 404}.get(e.code, 500)
                return status, dump({"result": None, "error": error, "id": rid})
            if v2:
                return 200, dump({"jsonrpc": "2.0", "result": result, "id": rid})
            return 200, dump({"result": result, "error": None, "id": rid})

    return Handler
