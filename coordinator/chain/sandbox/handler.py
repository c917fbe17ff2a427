"""The HTTP request handler behind ``server.py``: routing, bodies, the ``/sandbox`` dev endpoints."""

from __future__ import annotations

import json
import re
from http.server import BaseHTTPRequestHandler

from ...errors import HuddleError
from . import faucet
from .chain import script_for
from .policy import Rejected
from .routes import MAX_BODY, ROUTES, BadRequest, NotFound, broadcast_error, route_name


class Handler(BaseHTTPRequestHandler):
    sandbox = None  # set on the subclass made by Sandbox
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, every keep-alive
    # answer would then wait ~40 ms for a delayed ACK. Real servers don't stall.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 (the stdlib's name)
        return

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        if path.startswith("/sandbox/"):
            return self._dev("GET", path)
        for method, pattern, fn in ROUTES:
            match = re.match(pattern, path) if method == "GET" else None
            if match:
                self.sandbox.count(route_name(pattern))
                try:
                    with self.sandbox.chain.lock:
                        return self._answer(200, fn(self.sandbox.chain, *match.groups()))
                except NotFound as exc:
                    return self._answer(404, str(exc))
                except BadRequest as exc:
                    return self._answer(400, str(exc))
        self.sandbox.count("unknown")
        self._answer(404, "Not Found")

    def do_POST(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0].rstrip("/")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self._answer(413, "Payload Too Large")
        body = self.rfile.read(length)
        if path.startswith("/sandbox/"):
            return self._dev("POST", path, body)
        self.sandbox.count("POST /tx" if path == "/tx" else "unknown")
        if path != "/tx":
            return self._answer(404, "Not Found")
        try:
            txid = self.sandbox.chain.submit(body.decode("utf-8", "replace").strip())
        except Rejected as exc:
            return self._answer(400, broadcast_error(exc, self.sandbox.error_style))
        self._answer(200, txid)

    def _dev(self, method: str, path: str, body: bytes = b"") -> None:
        """The non-Esplora endpoints; JSON in, JSON out, Huddle's error shape."""
        self.sandbox.count(f"{method} {path}")
        chain = self.sandbox.chain
        try:
            args = json.loads(body or b"{}")
            if not isinstance(args, dict):
                raise ValueError("body must be a JSON object")
            result = _dev_action(chain, method, path, args)
        except (ValueError, TypeError, KeyError) as exc:
            return self._answer(400, {"error": {"code": "bad_input", "message": str(exc)}})
        except HuddleError as exc:
            return self._answer(400, exc.to_dict())
        except Rejected as exc:
            return self._answer(400, {"error": {"code": "tx_rejected", "message": exc.message}})
        if result is None:
            return self._answer(404, "Not Found")
        self._answer(200, result)

    def _answer(self, status: int, payload) -> None:
        if isinstance(payload, bytes):
            data, kind = payload, "application/octet-stream"
        elif isinstance(payload, str):
            data, kind = payload.encode(), "text/plain"
        else:
            data, kind = json.dumps(payload).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("X-Huddle-Sandbox", "regtest")
        self.end_headers()
        self.wfile.write(data)


def _dev_action(chain, method: str, path: str, args: dict):
    if (method, path) == ("GET", "/sandbox/info"):
        return {"network": "regtest", "sandbox": True, "height": chain.height, "tip": chain.tip.hash,
                "mempool": len(chain.mempool), "faucet_address": _faucet_address()}
    if method != "POST":
        return None
    if path == "/sandbox/mine":
        blocks = int(args.get("blocks", 1))
        if not 1 <= blocks <= 1000:
            raise ValueError("blocks must be between 1 and 1000")
        return {"hashes": chain.mine(blocks, args.get("address")), "height": chain.height}
    if path == "/sandbox/faucet":
        amount = int(args["amount"])
        txid = faucet.pay(chain, script_for(args["address"]), amount, bool(args.get("confirm", False)))
        return {"txid": txid}
    if path == "/sandbox/invalidate":
        returned = chain.invalidate(int(args["height"]))
        return {"height": chain.height, "returned_to_mempool": returned}
    if path == "/sandbox/evict":
        return {"evicted": chain.evict(str(args["txid"]))}
    if path == "/sandbox/fee-estimates":
        with chain.lock:
            chain.fee_estimates = {str(int(k)): float(v) for k, v in args.items()}
        return chain.fee_estimates
    return None


def _faucet_address() -> str:
    from .esplora import address_of
    return address_of(faucet.FAUCET_SCRIPT)
