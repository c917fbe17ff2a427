"""The agent's own key: what it signs its approvals, roster confirmations and audit
heads with (DESIGN.md "The roster is pinned", "Approvals"; governance/agent_keys.py).

A secp256k1 key from the operating system's CSPRNG (``secrets``), made at pairing
or on first need, kept in ``agent_key.json`` in the agent's private directory
(0600 in 0700, files.write_json). Its public form, the BIP-340 x-only key, is
registered with the server (``POST /api/v1/agent/keys``) so the roster can pin it;
the private key never leaves this machine.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path

from embit import ec

from ..errors import HuddleError, StorageError
from ..governance import agent_keys
from . import files
from .pairing import Link, call

FILE = "agent_key.json"
_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # secp256k1's n


@dataclass(frozen=True)
class AgentKey:
    private: ec.PrivateKey
    created_at: str
    registered_at: str | None = None

    @property
    def public(self) -> str:
        return agent_keys.public_key(self.private)

    def sign(self, purpose: str, body: object) -> str:
        return agent_keys.sign(self.private, purpose, body)

    def to_dict(self) -> dict:
        return {"version": 1, "private_key": self.private.secret.hex(), "public_key": self.public,
                "created_at": self.created_at, "registered_at": self.registered_at}


def _fresh_secret() -> bytes:
    while True:  # rejection sampling: a uniform key in [1, n-1]
        candidate = secrets.token_bytes(32)
        if 0 < int.from_bytes(candidate, "big") < _ORDER:
            return candidate


def load(directory: Path) -> AgentKey | None:
    path = directory / FILE
    if not path.exists():
        return None
    data = files.read_json(path)
    try:
        key = AgentKey(ec.PrivateKey(bytes.fromhex(data["private_key"])), str(data["created_at"]),
                       data.get("registered_at"))
        if key.public != data["public_key"]:
            raise ValueError("the public key does not match the private key")
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise StorageError("agent_dir_error", f"{path} is not this agent's key file ({err})") from None
    return key


def load_or_create(directory: Path) -> AgentKey:
    existing = load(directory)
    if existing is not None:
        return existing
    key = AgentKey(ec.PrivateKey(_fresh_secret()), _now())
    files.write_json(directory / FILE, key.to_dict())
    return key


def register(directory: Path, link: Link) -> AgentKey:
    """Send the public key to the server (once; again is harmless) and remember that it was."""
    key = load_or_create(directory)
    call("POST", link.url, "/agent/keys", {"public_key": key.public}, token=link.token)
    registered = AgentKey(key.private, key.created_at, _now())
    files.write_json(directory / FILE, registered.to_dict())
    return registered


def try_register(directory: Path, link: Link) -> tuple[AgentKey, HuddleError | None]:
    """Register, or say why not: pairing must not fail because of it."""
    try:
        return register(directory, link), None
    except HuddleError as err:
        return load_or_create(directory), err


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
