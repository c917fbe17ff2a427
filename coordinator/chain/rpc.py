"""JSON-RPC to Bitcoin Core: authentication, the two reply shapes, errors.

We send JSON-RPC 2.0 (Core >= 28 answers errors with HTTP 200) and also read
the legacy shape (HTTP 500, ``"result": null``). Credentials never appear in a
message: the cookie is read on every call and redacted from replies.
"""

from __future__ import annotations

import json
import logging
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from .backend import BackendError, Timeout, Unreachable

log = logging.getLogger(__name__)

# src/rpc/protocol.h
RPC_WALLET_ERROR, RPC_INVALID_ADDRESS_OR_KEY, RPC_DESERIALIZATION_ERROR = -4, -5, -22
RPC_VERIFY_ERROR, RPC_VERIFY_REJECTED, RPC_VERIFY_ALREADY_IN_CHAIN, RPC_IN_WARMUP = -25, -26, -27, -28
RPC_WALLET_ALREADY_LOADED, RPC_WALLET_ALREADY_EXISTS = -35, -36
COOKIE_ENV = "HUDDLE_CORE_COOKIE"


def bad(message: str, **details: object) -> BackendError:
    return BackendError("backend_error", message, **details)


class CoreError(BackendError):  # a JSON-RPC error from Core with no better name here
    def __init__(self, rpc_code: int, rpc_message: str) -> None:
        super().__init__("backend_error", f"Bitcoin Core error {rpc_code}: {rpc_message}", rpc_code=rpc_code)
        self.rpc_code, self.rpc_message = rpc_code, rpc_message


class CoreWarmingUp(Unreachable):  # -28 RPC_IN_WARMUP: the node is starting; retry later
    def __init__(self, status: str) -> None:
        super().__init__(f"Bitcoin Core is still starting up ({status}); try again shortly")


class JsonRpc:
    """One Core endpoint; ``call`` once, ``read`` with retries (idempotent calls only)."""

    def __init__(self, url: str, *, user: str | None, password: str | None, cookie_path: Path | None,
                 timeout: float, retries: int, retry_delay: float) -> None:
        self.url, self.timeout, self.retries, self.retry_delay = url, timeout, retries, retry_delay
        self._user, self._password, self._cookie_path = user, password, cookie_path
        self._cookie, self._id = None, 0  # the cookie last read, for redaction
        self._http = httpx.Client(headers={"Content-Type": "application/json"})

    def close(self) -> None:
        self._http.close()

    def _credentials(self) -> tuple[str, str]:
        """Read the cookie on every call: bitcoind writes a new one each time it starts."""
        if self._cookie_path is None:
            return self._user or "", self._password or ""
        try:
            user, sep, password = self._cookie_path.read_text(encoding="utf-8").strip().partition(":")
        except (OSError, UnicodeDecodeError) as e:
            raise bad(f"cannot read the Bitcoin Core cookie file {self._cookie_path} ({type(e).__name__});"
                       f" is bitcoind running? Set {COOKIE_ENV}, or put user:password in the URL") from None
        if not sep:
            raise bad(f"the cookie file {self._cookie_path} does not hold user:password")
        self._cookie = (user, password)
        return self._cookie

    def _redact(self, text: str) -> str:
        for secret in (self._password, self._cookie[1] if self._cookie else None):
            text = text.replace(secret, "***") if secret else text
        return text

    def _post(self, path: str, body: bytes, timeout: float) -> httpx.Response:
        try:
            return self._http.post(self.url + path, content=body, auth=self._credentials(), timeout=timeout)
        except httpx.TimeoutException:
            raise Timeout(f"Bitcoin Core at {self.url} did not answer within {timeout:g} s") from None
        except httpx.TransportError as e:
            reason = self._redact(str(e)) or type(e).__name__
            raise Unreachable(f"cannot reach Bitcoin Core at {self.url}: {reason}") from None

    def call(self, method: str, params: Any, wallet: str | None = None,
             timeout: float | None = None) -> Any:
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}).encode()
        path = "" if wallet is None else "/wallet/" + quote(wallet, safe="")
        log.debug("core rpc %s %s", method, path)
        return self._reply(method, self._post(path, body, timeout or self.timeout))

    def _reply(self, method: str, resp: httpx.Response) -> Any:
        status = resp.status_code
        if status == 401:
            hint = (f"check that {self._cookie_path} is the cookie of the node at {self.url}"
                    if self._cookie_path else "check the user and password in the core: URL")
            raise bad(f"Bitcoin Core refused Huddle's RPC credentials (HTTP 401); {hint}")
        if status == 403:
            raise bad(f"this RPC user may not call {method} (HTTP 403; see -rpcwhitelist)")
        if status == 503:
            raise Unreachable("Bitcoin Core is busy (HTTP 503, work queue full); try again shortly")
        try:
            reply = json.loads(resp.content, parse_float=Decimal)  # exact BTC amounts
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            raise bad(f"Bitcoin Core answered {method} with HTTP {status} and no JSON-RPC reply")
        if reply.get("error") is not None:
            error = reply["error"] if isinstance(reply["error"], dict) else {"message": reply["error"]}
            code, message = error.get("code"), self._redact(str(error.get("message", "")))
            raise CoreWarmingUp(message) if code == RPC_IN_WARMUP else CoreError(
                code if isinstance(code, int) else 0, message)
        if status != 200 or "result" not in reply:
            raise bad(f"Bitcoin Core answered {method} with HTTP {status} and no result")
        return reply["result"]

    def read(self, method: str, params: Any, wallet: str | None = None) -> Any:
        """An idempotent call: retried when the node is unreachable, slow or warming up."""
        delay = self.retry_delay
        for _ in range(self.retries):
            try:
                return self.call(method, params, wallet)
            except (Unreachable, Timeout) as e:
                log.info("core rpc %s failed (%s); retrying in %.1f s", method, e.code, delay)
                time.sleep(delay)
                delay *= 2
        return self.call(method, params, wallet)
