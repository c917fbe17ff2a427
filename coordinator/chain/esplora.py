"""The Esplora HTTP API (mempool.space, blockstream.info, your own electrs).

Polite by construction: one ``httpx.Client`` with at most ``concurrency``
connections (default 4) and a thread pool of the same size for per-script
requests. GETs are retried with exponential backoff and full jitter on
connection errors, timeouts, 429 and 5xx. ``POST /tx`` is retried only when the
connection could not be opened (the request never left this machine); a POST
that times out may have been accepted, so it is reported as ``Timeout`` and
the caller (``broadcast.py``) checks before sending again.

httpx exceptions are translated here into the typed errors of ``backend.py``.
Scripthashes are ``sha256(scriptPubKey)`` in plain hex, not byte-reversed.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import ROUND_CEILING, Decimal
from typing import Callable, Sequence

import httpx

from .. import networks
from ..errors import InvalidInput
from ..psbt.model import parse_tx
from .backend import (
    BadResponse,
    ChainTx,
    ChainUtxo,
    Rejected,
    Timeout,
    TxNotFound,
    TxStatus,
    Unreachable,
    unspent,
)
from .esplora_json import tx_from_json

PAGE_CONFIRMED = 25  # /scripthash/:h/txs and /txs/chain/:last pages
DEFAULT_TIMEOUT = 20.0
DEFAULT_CONCURRENCY = 4
MAX_RETRIES = 4
BACKOFF_BASE = 0.25  # seconds; attempt k waits uniform(0, base * 2**k)
BACKOFF_CAP = 8.0
_RETRY_STATUS = {429, 500, 502, 503, 504}
_HEADERS = {"User-Agent": "huddle", "Accept-Encoding": "gzip, deflate"}


class EsploraClient:
    """``ChainBackend`` over an Esplora base URL such as ``https://mempool.space/api``."""

    def __init__(self, base_url: str, network: str = "bitcoin", *, proxy: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, concurrency: int = DEFAULT_CONCURRENCY,
                 retries: int = MAX_RETRIES, sleep: Callable[[float], None] = time.sleep) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.network = networks.check(network)
        self.base_url = base_url.rstrip("/")
        self.concurrency = concurrency
        self.retries = retries
        self.requests = 0  # HTTP requests sent, retries included (for benchmarks)
        self._count_lock = threading.Lock()
        self._sleep = sleep
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        # The transport, not httpx.Client: no cookie jar (a public server must not be
        # able to tag us across sessions), no redirects, and half the CPU per request.
        self._http = httpx.HTTPTransport(proxy=proxy, limits=limits, retries=0)
        self._timeout = httpx.Timeout(timeout, pool=timeout * 3).as_dict()
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="esplora")

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._http.close()

    def __enter__(self) -> "EsploraClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- ChainBackend --------------------------------------------------------

    def tip(self) -> tuple[int, str]:
        """Hash first, then its height: the pair always names one block."""
        block_hash = _hex32(self._text("/blocks/tip/hash"))
        block = self._json(f"/block/{block_hash}")
        if not isinstance(block, dict) or block.get("id", block_hash) != block_hash:
            raise BadResponse(f"/block/{block_hash} is not that block")
        return _int(block.get("height")), block_hash

    def block_hash(self, height: int) -> str:
        return _hex32(self._text(f"/block-height/{int(height)}"))

    def fee_estimates(self) -> dict[int, int]:
        """Target → sat/kvB, rounded up from Esplora's sat/vB floats."""
        body = self._json("/fee-estimates")
        if not isinstance(body, dict):
            raise BadResponse("/fee-estimates did not return an object")
        try:
            return {int(k): int((Decimal(str(v)) * 1000).to_integral_value(ROUND_CEILING))
                    for k, v in body.items()}
        except (ArithmeticError, ValueError, TypeError):
            raise BadResponse("/fee-estimates returned a non-numeric rate") from None

    def script_history(self, script_pubkeys: Sequence[bytes]) -> dict[bytes, list[ChainTx]]:
        """Every transaction of each script, fetched ``concurrency`` at a time."""
        unique = list(dict.fromkeys(bytes(s) for s in script_pubkeys))
        parsed: dict[tuple, ChainTx] = {}  # a transaction touching several scripts is checked once
        return dict(zip(unique, self._pool.map(lambda s: self.one_script_history(s, parsed), unique)))

    def utxos(self, script_pubkeys: Sequence[bytes]) -> dict[bytes, list[ChainUtxo]]:
        return unspent(self.script_history(script_pubkeys))

    def one_script_history(self, script_pubkey: bytes, parsed: dict | None = None) -> list[ChainTx]:
        """Mempool plus confirmed transactions of one script, newest first, all pages."""
        parsed = {} if parsed is None else parsed
        path = f"/scripthash/{hashlib.sha256(script_pubkey).hexdigest()}/txs"
        found = [_parse_once(item, parsed) for item in self._json_list(path)]
        confirmed = [t for t in found if t.status.confirmed]
        while len(confirmed) == PAGE_CONFIRMED:
            page = self._json_list(f"{path}/chain/{confirmed[-1].txid}")
            confirmed = [_parse_once(item, parsed) for item in page]
            if {t.txid for t in confirmed} & {t.txid for t in found}:
                raise BadResponse(f"{path}/chain pages repeat themselves")
            found += confirmed
        return list({t.txid: t for t in found}.values())

    def transaction(self, txid: str) -> ChainTx:
        """One transaction with status and prevouts; raises TxNotFound."""
        return tx_from_json(self._json(f"/tx/{_txid_arg(txid)}", txid=txid))

    def tx_status(self, txid: str) -> TxStatus:
        """Where ``txid`` is now; raises TxNotFound if neither mempool nor chain has it."""
        body = self._json(f"/tx/{_txid_arg(txid)}/status", txid=txid)
        if not isinstance(body, dict):
            raise BadResponse(f"/tx/{txid}/status is not an object")
        return TxStatus(bool(body.get("confirmed")), body.get("block_height"), body.get("block_hash"))

    def raw_transaction(self, txid: str) -> bytes:
        text = self._text(f"/tx/{_txid_arg(txid)}/hex", txid=txid)
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise BadResponse(f"/tx/{txid}/hex is not hex") from None
        if _txid(raw) != txid.lower():
            raise BadResponse(f"the backend sent a different transaction for {txid}")
        return raw

    def broadcast(self, raw_tx: bytes) -> str:
        """POST /tx. Returns the txid; Rejected carries the node's reason."""
        txid = _txid(raw_tx)
        if txid is None:
            raise Rejected("the transaction does not parse; nothing was sent")
        response = self._send("POST", "/tx", content=raw_tx.hex().encode(), idempotent=False)
        if response.status_code == 200:
            answer = response.text.strip()
            if answer != txid:
                raise BadResponse(f"the backend answered {answer[:80]!r} for our transaction {txid}")
            return txid
        if 400 <= response.status_code < 500:
            raise Rejected(response.text.strip()[:500] or f"HTTP {response.status_code}")
        raise BadResponse(f"POST /tx answered HTTP {response.status_code}")

    # -- HTTP ------------------------------------------------------------------

    def _text(self, path: str, txid: str | None = None) -> str:
        return self._get(path, txid).text.strip()

    def _json(self, path: str, txid: str | None = None):
        try:
            return self._get(path, txid).json()
        except ValueError:
            raise BadResponse(f"{path} did not return JSON") from None

    def _json_list(self, path: str) -> list:
        body = self._json(path)
        if not isinstance(body, list):
            raise BadResponse(f"{path} did not return a list")
        return body

    def _get(self, path: str, txid: str | None) -> httpx.Response:
        response = self._send("GET", path, idempotent=True)
        if response.status_code == 404 and txid is not None:
            raise TxNotFound(txid)
        if response.status_code != 200:
            raise BadResponse(f"GET {path} answered HTTP {response.status_code}")
        return response

    def _send(self, method: str, path: str, *, idempotent: bool, content: bytes | None = None) -> httpx.Response:
        """One request with retries; translate httpx's errors into ours."""
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            with self._count_lock:
                self.requests += 1
            try:
                response = self._exchange(method, path, content)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as err:
                # never reached the server: safe to retry even a POST
                if last:
                    raise Unreachable(f"{self.base_url}: {err or type(err).__name__}") from None
            except httpx.TimeoutException as err:
                if last or not idempotent:
                    raise Timeout(f"{method} {path}: no answer in time ({type(err).__name__})") from None
            except httpx.HTTPError as err:  # reset, protocol error, proxy error...
                if last or not idempotent:
                    raise Unreachable(f"{method} {path}: {type(err).__name__}: {err}") from None
            else:
                if not (idempotent and response.status_code in _RETRY_STATUS) or last:
                    return response
                wait = _retry_after(response)
                if wait is not None:
                    self._sleep(wait)
                    continue
            self._sleep(_backoff(attempt))
        raise Unreachable(f"{method} {path}: gave up")  # not reached: the last attempt returns or raises

    def _exchange(self, method: str, path: str, content: bytes | None) -> httpx.Response:
        request = httpx.Request(method, self.base_url + path, content=content, headers=_HEADERS,
                                extensions={"timeout": self._timeout})
        response = self._http.handle_request(request)
        try:
            response.read()
        finally:
            response.close()
        return response


def _parse_once(item: object, parsed: dict) -> ChainTx:
    """``tx_from_json``, remembered by (txid, status) for the rest of one scan."""
    status = item.get("status") if isinstance(item, dict) else None
    key = (item.get("txid"), repr(status)) if isinstance(item, dict) else None
    tx = parsed.get(key) if key else None
    if tx is None:
        tx = tx_from_json(item)
        if key:
            parsed[key] = tx
    return tx


def _backoff(attempt: int) -> float:
    """Full jitter (AWS architecture blog): uniform(0, min(cap, base * 2**attempt))."""
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** attempt))


def _retry_after(response: httpx.Response) -> float | None:
    """A 429/503's ``Retry-After`` in seconds, if given as a small number."""
    value = response.headers.get("Retry-After", "")
    if not value.isdigit():
        return None
    return min(float(value), BACKOFF_CAP * 4)


def _txid(raw: bytes) -> str | None:
    """txid of a serialized transaction, or None if it does not parse."""
    tx = parse_tx(raw)
    return None if tx is None else tx.txid().hex()


def _hex32(text: str) -> str:
    value = text.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise BadResponse(f"{text[:80]!r} is not a 32-byte hex hash")
    return value


def _txid_arg(txid: str) -> str:
    """A txid given by our caller (not the server): 64 hex digits."""
    value = txid.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise InvalidInput("bad_input", f"{txid[:80]!r} is not a txid (64 hex digits)")
    return value


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadResponse(f"expected an integer, got {value!r}")
    return value
