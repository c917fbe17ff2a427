"""Bitcoin Core JSON-RPC backend: one watch-only descriptor wallet per Huddle wallet.

``core:http://127.0.0.1:8332`` (cookie) or ``core:http://user:pass@host:8332``.
BTC amounts are parsed as Decimal and become integer satoshis here; no float
touches money. The JSON-RPC transport is rpc.py. See docs/chain.md#bitcoin-core.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping, Sequence
from urllib.parse import unquote, urlsplit, urlunsplit

from .. import networks
from ..errors import InvalidInput
from ..psbt.model import MAX_MONEY, parse_tx
from ..wallet.descriptor import CHANGE, RECEIVE, MultisigDescriptor
from .backend import (
    ChainTx,
    ChainUtxo,
    Rejected,
    TxIn,
    TxNotFound,
    TxOut,
    TxStatus,
    unspent,
)
from .rpc import (  # noqa: F401
    COOKIE_ENV,
    RPC_DESERIALIZATION_ERROR,
    RPC_INVALID_ADDRESS_OR_KEY,
    RPC_VERIFY_ALREADY_IN_CHAIN,
    RPC_VERIFY_ERROR,
    RPC_VERIFY_REJECTED,
    RPC_WALLET_ALREADY_EXISTS,
    RPC_WALLET_ALREADY_LOADED,
    RPC_WALLET_ERROR,
    CoreError,
    CoreWarmingUp,
    JsonRpc,
    bad,
)

ALREADY_KNOWN = frozenset({"txn-already-in-mempool", "txn-already-known"})  # testmempoolaccept reasons
FEE_TARGETS = (1, 2, 3, 6, 12, 24, 144, 504, 1008)
IMPORT_RANGE = (0, 999)
WALLET_PREFIX = "huddle-"
_PAGE = 1000
_TX_CACHE = 5_000  # wallet transactions kept between sync rounds (~1 KB each)
_SATS = Decimal(100_000_000)
_COOKIE_DIRS = {"bitcoin": "", "testnet": "testnet3", "testnet4": "testnet4", "signet": "signet",
                "regtest": "regtest"}
_CHAINS = {"main": "bitcoin", "test": "testnet"}  # Core chain names that differ from ours


@dataclass(frozen=True)
class CoreUtxo:
    txid: str
    vout: int
    value: int  # satoshis
    script_pubkey: bytes
    confirmations: int
    address: str | None
    safe: bool


@dataclass(frozen=True)
class CoreWalletTx:  # one listtransactions entry; a transaction may have several
    txid: str
    category: str  # send, receive, generate, immature, orphan
    amount: int  # satoshis, negative for sends
    fee: int | None  # satoshis, negative, sends only
    vout: int | None
    address: str | None
    confirmations: int  # < 0: conflicted
    block_height: int | None
    block_hash: str | None


@dataclass(frozen=True)
class CoreWalletSetup:
    name: str
    created: bool  # createwallet made it now (else it was loaded, or already loaded)
    imported: bool  # importdescriptors ran (else both descriptors were already active)


def core_wallet_name(huddle_wallet: str) -> str:
    return WALLET_PREFIX + huddle_wallet


def default_cookie_path(network: str, home: Path | None = None) -> Path:
    return (home or Path.home()) / ".bitcoin" / _COOKIE_DIRS[networks.check(network)] / ".cookie"


def to_sats(value: Any, what: str, signed: bool = False) -> int:
    """Exact BTC → satoshis for a JSON number parsed as Decimal (or int)."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise bad(f"Bitcoin Core sent a {what} that is not a number: {value!r}")
    sats = Decimal(value) * _SATS
    if sats != sats.to_integral_value():
        raise bad(f"Bitcoin Core sent a {what} finer than 1 satoshi: {value}")
    if abs(sats) > MAX_MONEY or (sats < 0 and not signed):
        raise bad(f"Bitcoin Core sent an impossible {what}: {value}")
    return int(sats)


class CoreClient:
    """``ChainBackend`` over Core's JSON-RPC, plus Core wallet management.

    ``wallet`` (a Core wallet name) is needed for ``script_history`` and lets
    ``raw_transaction`` find wallet transactions without ``-txindex``.
    """

    def __init__(self, url: str, network: str, *, user: str | None = None, password: str | None = None,
                 cookie_path: Path | str | None = None, wallet: str | None = None,
                 timeout: float = 30.0, import_timeout: float = 3600.0, retries: int = 2,
                 retry_delay: float = 0.5) -> None:
        if (user is None) == (cookie_path is None):
            raise ValueError("give either user and password, or a cookie path")
        self.network, self.url = networks.check(network), url.rstrip("/")
        self.wallet, self.import_timeout = wallet, import_timeout
        self.rpc = JsonRpc(self.url, user=user, password=password,
                           cookie_path=Path(cookie_path) if cookie_path is not None else None,
                           timeout=timeout, retries=retries, retry_delay=retry_delay)
        self._txs: dict[tuple[str, TxStatus], ChainTx] = {}

    @classmethod
    def from_spec(cls, spec: str, network: str, env: Mapping[str, str] | None = None,
                  **kw: Any) -> CoreClient:
        """``core:URL``: user:password from the URL, else the cookie file."""
        parts = urlsplit(spec.removeprefix("core:"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput("bad_config", "a Core URL looks like core:http://127.0.0.1:8332")
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        bare = urlunsplit((parts.scheme, host, parts.path, "", ""))
        if parts.username is not None:
            user, password = unquote(parts.username), unquote(parts.password or "")
            return cls(bare, network, user=user, password=password, **kw)
        cookie = (os.environ if env is None else env).get(COOKIE_ENV) or default_cookie_path(network)
        return cls(bare, network, cookie_path=Path(cookie).expanduser(), **kw)

    def __repr__(self) -> str:
        return f"CoreClient({self.url!r}, {self.network!r})"  # never the credentials

    def close(self) -> None:
        self.rpc.close()

    # -- ChainBackend -------------------------------------------------------------

    def tip(self) -> tuple[int, str]:
        """Also checks, every time, that the node runs Huddle's network."""
        info = self.rpc.read("getblockchaininfo", [])
        if _CHAINS.get(info["chain"], info["chain"]) != self.network:
            raise bad(f"Bitcoin Core runs {info['chain']}, but Huddle is set to {self.network}")
        return int(info["blocks"]), str(info["bestblockhash"])

    def block_hash(self, height: int) -> str:
        return str(self.rpc.read("getblockhash", [height]))

    def fee_estimates(self) -> dict[int, int]:
        """Target → sat/kvB for each target Core can estimate (ones with ``errors`` are left out)."""
        answers = {target: self.rpc.read("estimatesmartfee", [target]) for target in FEE_TARGETS}
        return {target: to_sats(a["feerate"], "fee rate") for target, a in answers.items()
                if a.get("feerate") is not None}

    def raw_transaction(self, txid: str) -> bytes:
        """Mempool (or ``-txindex``) first, then the bound wallet's own transactions."""
        calls = [("getrawtransaction", [txid, 0], None)]
        calls += [("gettransaction", [txid], self.wallet)] if self.wallet else []
        for method, params, wallet in calls:
            try:
                found = self.rpc.read(method, params, wallet)
                return bytes.fromhex(found if isinstance(found, str) else found["hex"])
            except CoreError as e:
                if e.rpc_code != RPC_INVALID_ADDRESS_OR_KEY:
                    raise
        raise TxNotFound(txid)

    def broadcast(self, raw_tx: bytes) -> str:
        """``testmempoolaccept`` first; a rejection never reaches ``sendrawtransaction``."""
        hex_tx = raw_tx.hex()
        verdict = self.rpc.read("testmempoolaccept", [[hex_tx]])[0]
        txid = str(verdict["txid"])
        if not verdict.get("allowed", False):
            reason = str(verdict.get("reject-reason") or verdict.get("package-error") or "not accepted")
            if reason in ALREADY_KNOWN:
                return txid
            raise Rejected(reason)
        try:
            return str(self.rpc.call("sendrawtransaction", [hex_tx]))
        except CoreError as e:
            if e.rpc_code == RPC_VERIFY_ALREADY_IN_CHAIN:
                return txid
            if e.rpc_code in (RPC_VERIFY_ERROR, RPC_VERIFY_REJECTED, RPC_DESERIALIZATION_ERROR):
                raise Rejected(e.rpc_message) from None
            raise

    def script_history(self, script_pubkeys: Sequence[bytes]) -> dict[bytes, list[ChainTx]]:
        """From the bound Core wallet's transactions (Core has no script index)."""
        if self.wallet is None:
            raise bad("script history from Bitcoin Core needs the wallet's Core wallet")
        history: dict[bytes, list[ChainTx]] = {bytes(s): [] for s in script_pubkeys}
        statuses = {e.txid: TxStatus(e.confirmations > 0, e.block_height, e.block_hash)
                    for e in self.list_transactions(self.wallet) if e.confirmations >= 0}  # < 0: conflicted
        for txid, status in statuses.items():
            tx = self._chain_tx(txid, status)
            if tx is None:
                continue
            touched = {o.script_pubkey for o in tx.outputs} | {p.script_pubkey for p in tx.prevouts if p}
            for script in touched & history.keys():
                history[script].append(tx)
        return history

    def utxos(self, script_pubkeys: Sequence[bytes]) -> dict[bytes, list[ChainUtxo]]:
        return unspent(self.script_history(script_pubkeys))

    def _chain_tx(self, txid: str, status: TxStatus) -> ChainTx | None:
        """A wallet transaction with prevouts; cached while its status stays the same.

        Sync asks for the history once per discovery round; without the cache
        every round would fetch every transaction again.
        """
        key = (txid, status)
        if key in self._txs:
            return self._txs[key]
        tx = self._fetch_tx(txid, status)
        if tx is not None:  # a transaction gone from the mempool may come back
            if len(self._txs) >= _TX_CACHE:
                self._txs.pop(next(iter(self._txs)))
            self._txs[key] = tx
        return tx

    def _fetch_tx(self, txid: str, status: TxStatus) -> ChainTx | None:
        """``getrawtransaction`` verbosity 2 (Core >= 25) has the prevouts, no txindex needed."""
        try:
            block = [status.block_hash] if status.confirmed else []
            verbose = self.rpc.read("getrawtransaction", [txid, 2, *block])
        except CoreError as e:
            if e.rpc_code == RPC_INVALID_ADDRESS_OR_KEY and not status.confirmed:
                return None  # dropped from the mempool since the wallet saw it
            raise
        raw = bytes.fromhex(verbose["hex"])
        tx = parse_tx(raw)
        if tx is None:
            raise bad(f"Bitcoin Core sent transaction {txid} in a form that does not parse")
        prevouts = tuple(_prevout(vin) for vin in verbose["vin"])
        outputs = tuple(TxOut(o.script_pubkey.data, o.value) for o in tx.vout)
        fee = sum(p.value for p in prevouts if p) - sum(o.value for o in outputs) if all(prevouts) else 0
        inputs = tuple(TxIn(i.txid.hex(), i.vout) for i in tx.vin)
        return ChainTx(txid, inputs, prevouts, outputs, fee, status, raw)

    # -- Core wallets -------------------------------------------------------------

    def ensure_wallet(self, name: str, descriptor: MultisigDescriptor,
                      birth_timestamp: int) -> CoreWalletSetup:
        """A loaded watch-only wallet ``name`` with both branches imported and active."""
        if isinstance(birth_timestamp, bool) or not isinstance(birth_timestamp, int) or birth_timestamp < 0:
            raise ValueError("birth_timestamp is a unix time in seconds")
        requests = [_import_request(descriptor, RECEIVE, birth_timestamp),
                    _import_request(descriptor, CHANGE, birth_timestamp)]
        created = self._create_or_load(name)
        if not created and self._has_descriptors(name, requests):
            return CoreWalletSetup(name, created=False, imported=False)
        results = self.rpc.call("importdescriptors", [requests], wallet=name, timeout=self.import_timeout)
        for branch, result in zip(("receive", "change"), results):
            if not result.get("success"):
                reason = str((result.get("error") or {}).get("message") or "no reason given")
                raise bad(f"Bitcoin Core did not import the {branch} descriptor: {reason}", reason=reason)
        return CoreWalletSetup(name, created=created, imported=True)

    def _create_or_load(self, name: str) -> bool:
        try:
            self.rpc.call("createwallet", {"wallet_name": name, "disable_private_keys": True, "blank": True,
                                        "descriptors": True, "load_on_startup": True})
            return True
        except CoreError as e:  # createwallet says -4 "... Database already exists."; -36 is newer
            if e.rpc_code != RPC_WALLET_ALREADY_EXISTS and not (
                    e.rpc_code == RPC_WALLET_ERROR and "already exists" in e.rpc_message):
                raise
        try:
            self.rpc.call("loadwallet", [name, True])
        except CoreError as e:
            if e.rpc_code != RPC_WALLET_ALREADY_LOADED:
                raise
        return False

    def _has_descriptors(self, name: str, requests: list[dict]) -> bool:
        listed = self.rpc.read("listdescriptors", [], wallet=name)["descriptors"]
        present = {(_desc_key(d["desc"]), bool(d.get("internal", False))) for d in listed if d.get("active")}
        return all((_desc_key(r["desc"]), r["internal"]) in present for r in requests)

    def list_unspent(self, name: str) -> tuple[CoreUtxo, ...]:
        """Every coin, mempool ones included (minconf 0)."""
        rows = self.rpc.read("listunspent", [0, 9_999_999, [], True], wallet=name)
        return tuple(CoreUtxo(str(r["txid"]), int(r["vout"]), to_sats(r["amount"], "amount"),
                              bytes.fromhex(r["scriptPubKey"]), int(r["confirmations"]), r.get("address"),
                              bool(r.get("safe", False))) for r in rows)

    def list_transactions(self, name: str) -> list[CoreWalletTx]:
        """All ``listtransactions`` entries, oldest first, fetched newest page first."""
        entries: list[CoreWalletTx] = []
        for skip in range(0, 1 << 62, _PAGE):
            page = self.rpc.read("listtransactions", ["*", _PAGE, skip, True], wallet=name)
            entries[:0] = [_wallet_tx(e) for e in page]
            if len(page) < _PAGE:
                break
        return entries


def _import_request(descriptor: MultisigDescriptor, branch: int, timestamp: int) -> dict:
    return {"desc": descriptor.to_string(branch=branch), "active": True, "range": list(IMPORT_RANGE),
            "timestamp": timestamp, "internal": branch == CHANGE}


def _desc_key(text: str) -> str:  # descriptor text without checksum, hardened steps written one way
    return text.split("#", 1)[0].replace("'", "h")


def _prevout(vin: dict) -> TxOut | None:
    if "coinbase" in vin:
        return None
    if "prevout" not in vin:
        raise bad("Bitcoin Core gave no prevout (it needs Core >= 25 and the block's undo data)")
    prev = vin["prevout"]
    return TxOut(bytes.fromhex(prev["scriptPubKey"]["hex"]), to_sats(prev["value"], "prevout value"))


def _wallet_tx(e: dict) -> CoreWalletTx:
    fee = None if e.get("fee") is None else to_sats(e["fee"], "fee", signed=True)
    return CoreWalletTx(str(e["txid"]), str(e["category"]), to_sats(e["amount"], "amount", signed=True), fee,
                        e.get("vout"), e.get("address"), int(e["confirmations"]), e.get("blockheight"),
                        e.get("blockhash"))
