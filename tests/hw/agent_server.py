"""TEST ONLY: the server's side of the agent protocol (contracts §2), played by a test.

``ServerSide`` is a python-socketio server behind werkzeug on a loopback port, with
the namespace ``/agent``: it lets an agent with the right token in, welcomes it,
emits the ``sign_request`` a test builds, records every ``head``, ``sign_step`` and
``sign_result`` the agent sends, and acknowledges results as the server does.

``Group`` builds what a real server would hand an agent, from deterministic keys:
a wallet's pinned roster (version 2) with each member's agent key, its audit chain
(real hash links), an intent rebuilt from a real PSBT, agent approvals signed with
the members' agent keys, and signed heads.
"""

from __future__ import annotations

import base64
import hashlib
import queue
import threading

import socketio
from embit import ec
from embit.psbt import PSBT
from werkzeug.serving import make_server

from coordinator.governance import agent_keys
from coordinator.governance.audit import GENESIS, Entry
from coordinator.governance.intent import Intent, Recipient, memo_hash
from coordinator.governance.roster import Member, PinnedRoster
from coordinator.hw.pairing import Link
from coordinator.psbt.checks import is_change

from .. import keys
from ..psbt.test_checks import make

NAMESPACE = "/agent"
TOKEN = "hdl_agent_test_token"
CREATED = 1_800_000_000


class ServerSide:
    """A loopback Socket.IO server speaking the server's half of the /agent protocol."""

    def __init__(self, user: int = 2, name: str = "Bob") -> None:
        self.sio = socketio.Server(async_mode="threading", always_connect=True)
        self.received: queue.Queue = queue.Queue()
        self.sids: queue.Queue = queue.Queue()
        self.user, self.name = user, name
        self.sio.on("connect", self._connect, namespace=NAMESPACE)
        for event in ("head", "sign_step"):
            self.sio.on(event, self._recorder(event), namespace=NAMESPACE)
        self.sio.on("sign_result", self._result, namespace=NAMESPACE)
        self.httpd = make_server("127.0.0.1", 0, socketio.WSGIApp(self.sio), threaded=True)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def link(self) -> Link:
        return Link(self.url, TOKEN, "tok_test", self.user, self.name, "2026-01-01T00:00:00+00:00")

    def _connect(self, sid, environ, auth=None):
        if not isinstance(auth, dict) or auth.get("token") != TOKEN:
            return False
        self.sio.start_background_task(self._welcome, sid)
        return True

    def _welcome(self, sid) -> None:
        self.sio.emit("welcome", {"user": {"id": self.user, "name": self.name}, "wallets": [1]},
                      to=sid, namespace=NAMESPACE)
        self.sids.put(sid)

    def _recorder(self, event: str):
        def record(sid, data=None):
            self.received.put((event, data))
        return record

    def _result(self, sid, data=None):
        """Recorded, and acknowledged as the server does: how many signatures it carries."""
        self.received.put(("sign_result", data))
        psbt = data.get("psbt") if isinstance(data, dict) else None
        added = 0 if psbt is None else sum(len(s.partial_sigs) for s in PSBT.from_string(psbt).inputs)
        return {"ok": True, "added": added}

    def send(self, sid: str, request: dict) -> None:
        self.sio.emit("sign_request", request, to=sid, namespace=NAMESPACE)

    def next(self, event: str, timeout: float = 30) -> object:
        """The next ``event`` the agent sent (others before it are kept in ``skipped``)."""
        while True:
            name, data = self.received.get(timeout=timeout)
            if name == event:
                return data

    def until_result(self, timeout: float = 60) -> tuple[list[tuple[str, object]], dict]:
        """Everything the agent sent up to its ``sign_result``, and the result."""
        seen = []
        while True:
            name, data = self.received.get(timeout=timeout)
            if name == "sign_result":
                return seen, data
            seen.append((name, data))

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def agent_private_key(user: int) -> ec.PrivateKey:
    """Member ``user``'s agent key (tests only)."""
    return ec.PrivateKey(hashlib.sha256(b"huddle-test-agent-key" + bytes([user])).digest())


class Group:
    """A wallet of ``n`` members (users 1..n, seeds 0..n-1), every one with an agent key."""

    def __init__(self, m: int = 2, n: int = 3, script_type: str = "wsh", threshold: int = 2,
                 wallet_id: int = 1) -> None:
        self.descriptor = keys.descriptor(m, n, True, script_type)
        self.network, self.wallet_id, self.chain = "testnet", wallet_id, f"wallet:{wallet_id}"
        members = tuple(Member(u, "keyholder", u - 1, {}, agent_keys.public_key(agent_private_key(u)))
                        for u in range(1, n + 1))
        self.roster = PinnedRoster(self.network, self.descriptor.policy_id, self.descriptor.to_string(), m,
                                   "localhost", "http://localhost", False, members, threshold,
                                   tuple(range(1, n + 1))).to_dict()
        self.entries: list[Entry] = []
        self.append("wallet_created", {"policy_id": self.descriptor.policy_id, "network": self.network,
                                       "name": "family"}, "system")

    def append(self, type_: str, body: dict, actor: str = "user:1") -> Entry:
        prev = self.entries[-1] if self.entries else None
        entry = Entry(self.chain, (prev.seq if prev else 0) + 1, prev.hash if prev else GENESIS,
                      CREATED + len(self.entries), actor, type_, body, "")
        entry = Entry(**{**entry.__dict__, "hash": entry.computed_hash()})
        self.entries.append(entry)
        return entry

    def change_roster(self, threshold: int, confirmers, apply: bool = True) -> dict:
        """A roster change to ``threshold`` in the chain, confirmed by ``confirmers``' agents."""
        import dataclasses

        from coordinator.hw.pinned import roster_hash

        base = roster_hash(self.roster)
        new = dataclasses.replace(PinnedRoster.from_dict(self.roster), threshold=threshold).to_dict()
        to = roster_hash(new)
        self.append("roster_change_proposed", {"change": 1, "from": base, "to": to, "roster": new, "summary": []})
        body = agent_keys.roster_change_body(self.wallet_id, base, to)
        for user in confirmers:
            self.append("roster_change_confirmed", {"change": 1, "from": base, "to": to, "member": user,
                                                    "agent_key": agent_keys.public_key(agent_private_key(user)),
                                                    "signature": agent_keys.sign(agent_private_key(user),
                                                                                 "roster-change", body)},
                        f"user:{user}")
        if apply:
            self.append("roster_changed", {"change": 1, "version": 2, "from": base, "to": to}, "system")
        return new

    def psbt(self, **kw) -> bytes:
        return make(self.descriptor, **kw).serialize()

    def intent(self, psbt: bytes, memo: str = "rent", fee_ceiling: int = 20_000, expires_at: int = 2**40,
               family: str = "fam-1") -> Intent:
        from coordinator.psbt import codec

        outs = [o for o in codec.parse(psbt).outputs if not is_change(o, self.descriptor)]
        recipients = tuple(Recipient(o.script_pubkey.data.hex(), o.value) for o in outs)
        return Intent(self.network, self.descriptor.policy_id, family, recipients, memo_hash(memo), fee_ceiling,
                      CREATED, expires_at)

    def approvals(self, intent: Intent, users) -> list[dict]:
        return [{"kind": "agent", "member": u, "signature": agent_keys.sign(agent_private_key(u), "approval",
                                                                             intent.to_dict())} for u in users]

    def signed_head(self, user: int, seq: int | None = None, key_of: int | None = None) -> dict:
        entry = self.entries[(seq or len(self.entries)) - 1]
        body = agent_keys.head_body(self.wallet_id, entry.seq, entry.hash)
        signature = agent_keys.sign(agent_private_key(key_of or user), "head", body)
        return {"user": user, "seq": entry.seq, "hash": entry.hash, "signature": signature}

    def request(self, psbt: bytes, intent: Intent, *, memo: str = "rent", approvals=None, after: int = 0,
                signed_heads=(), fingerprint: str | None = None, request_id: str = "req-1") -> dict:
        """The sign_request a server sends: the entries after ``after``, the head, and the rest."""
        head = self.entries[-1]
        return {"request_id": request_id, "wallet_id": self.wallet_id, "proposal_id": 7,
                "policy_id": intent.policy_id, "psbt": base64.b64encode(psbt).decode(),
                "intent": intent.to_dict(), "memo": memo,
                "approvals": self.approvals(intent, (1, 3)) if approvals is None else approvals,
                "audit": [e.to_dict() for e in self.entries if e.seq > after],
                "audit_head": {"seq": head.seq, "hash": head.hash}, "signed_heads": list(signed_heads),
                "fingerprint": fingerprint}
