"""The wallets an agent has pinned: its own copy of each descriptor, on its own disk.

The agent decides from these alone (DESIGN: "The agent decides from its pinned
roster and its own head alone"); a descriptor a server sends is only ever
compared with them (signing.same_as_pinned). The directory is private (0700),
each wallet one JSON file (0600), written whole through a temporary file and a
rename, so a crash leaves the old file or the new one, never half of one.

A wallet pinned at the setup ceremony also keeps its roster (version 2,
governance/roster.py: members, passkeys, agent keys, approval policy), the
safety code its keyholders read aloud, and the server's id of the wallet; live
sign requests are answered only for such a wallet (sign_request.py).

Where: ``HUDDLE_AGENT_DIR``, else the platform's user config dir + ``huddle-agent``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import platformdirs

from ..errors import Conflict, InvalidInput, NotFound, StorageError
from ..governance import agent_keys
from ..psbt.checks import change_index_limit
from ..store.wallets import check_name
from ..wallet.addresses import GAP_LIMIT
from ..wallet.descriptor import CHANGE, RECEIVE, MultisigDescriptor
from . import files

VERSION = 1
BRANCH_NAMES = {RECEIVE: "receive", CHANGE: "change"}


def roster_hash(roster: object) -> str:
    """The hash a roster is known by (DESIGN: SHA-256 of its canonical encoding)."""
    from .. import canonical

    return canonical.digest(roster).hex()


def agent_dir(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("HUDDLE_AGENT_DIR") or platformdirs.user_config_dir("huddle-agent")).expanduser()


@dataclass(frozen=True)
class PinnedWallet:
    name: str
    network: str
    descriptor: MultisigDescriptor
    pinned_at: str
    # the highest index per branch the agent has seen used (inputs it signed for, change it made)
    last_used: dict[str, int | None] = field(default_factory=lambda: {"receive": None, "change": None})
    roster: dict | None = None  # the pinned roster, version 2, as confirmed at the ceremony
    wallet_id: int | None = None  # the server's id of this wallet, learned with the roster

    @property
    def safety_code(self) -> str | None:
        return agent_keys.safety_code(self.roster) if self.roster is not None else None

    def pinned_roster(self):
        """The roster as governance/roster.PinnedRoster (``agent_roster_missing`` without one)."""
        from ..governance.roster import PinnedRoster

        if self.roster is None:
            raise NotFound("agent_roster_missing", f"no roster is pinned for {self.name!r}: confirm the wallet's "
                           "setup at this agent (huddle agent confirm-setup) before it signs live")
        return PinnedRoster.from_dict(self.roster)

    def index_limit(self, branch: int) -> int:
        """The highest index a signer accepts on ``branch``: the gap limit past the last used one."""
        return change_index_limit(self.last_used.get(BRANCH_NAMES[branch]), GAP_LIMIT)

    def max_change_index(self) -> int:
        return self.index_limit(CHANGE)

    def to_dict(self) -> dict:
        return {"version": VERSION, "name": self.name, "network": self.network,
                "descriptor": self.descriptor.to_string(), "policy_id": self.descriptor.policy_id,
                "pinned_at": self.pinned_at, "last_used": dict(self.last_used), "roster": self.roster,
                "safety_code": self.safety_code, "wallet_id": self.wallet_id}

    @classmethod
    def from_dict(cls, data: dict, where: str) -> "PinnedWallet":
        try:
            if data["version"] != VERSION:
                raise KeyError("version")
            descriptor = MultisigDescriptor.from_string(data["descriptor"])
            wallet = cls(data["name"], data["network"], descriptor, data["pinned_at"],
                         {k: data["last_used"].get(k) for k in ("receive", "change")},
                         data.get("roster"), data.get("wallet_id"))
        except (KeyError, TypeError, AttributeError, InvalidInput) as err:
            raise StorageError("agent_dir_error", f"{where} is not a pinned wallet file ({err})") from None
        if descriptor.policy_id != data.get("policy_id"):
            raise StorageError("agent_dir_error", f"{where}: the descriptor does not match its policy id")
        if wallet.roster is not None and (not _roster_fits(wallet.roster, descriptor, wallet.network)
                                          or data.get("safety_code") != wallet.safety_code):
            raise StorageError("agent_dir_error", f"{where}: the pinned roster does not match its descriptor "
                               "or its safety code")
        return wallet


def _roster_fits(roster: object, descriptor: MultisigDescriptor, network: str) -> bool:
    """The roster names exactly this wallet: its policy, its key origins, its network."""
    try:
        theirs = MultisigDescriptor.from_string(roster["descriptor"])
    except (KeyError, TypeError, InvalidInput):
        return False
    return roster.get("policy_id") == descriptor.policy_id == theirs.policy_id \
        and theirs.to_string() == descriptor.to_string() and roster.get("network") == network


class PinStore:
    """The pinned wallets in one directory."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or agent_dir()
        self.wallets_dir = self.root / "wallets"

    def pin(self, name: str, network: str, descriptor: MultisigDescriptor) -> tuple[PinnedWallet, bool]:
        """Pin a wallet under ``name``; (wallet, True if new). The same wallet again is a no-op;
        another under the same name is refused: re-pinning is a roster change (DESIGN)."""
        name = check_name(name)
        descriptor.check_network(network)
        existing = self._read(name) if self._path(name).exists() else None
        if existing is not None:
            if existing.descriptor.policy_id == descriptor.policy_id and existing.network == network \
                    and existing.descriptor.to_string() == descriptor.to_string():
                return existing, False
            raise Conflict("wallet_pinned_differently", f"another wallet (policy {existing.descriptor.policy_id}, "
                           f"{existing.network}) is pinned as {name!r}; pick another name, or remove "
                           f"{self._path(name)} if you really mean to replace it")
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        wallet = PinnedWallet(name, network, descriptor, now)
        self._write(wallet)
        return wallet, True

    def pin_roster(self, name: str, roster: dict, wallet_id: int | None) -> tuple[PinnedWallet, bool]:
        """Pin the wallet a confirmed roster describes, with the roster; (wallet, True if changed).
        The roster of a pinned wallet is replaced only through ``change_roster``."""
        from ..governance.roster import PinnedRoster

        parsed = PinnedRoster.from_dict(roster)  # bad_roster unless a well-formed version 2
        descriptor = MultisigDescriptor.from_string(parsed.descriptor)
        wallet, new = self.pin(name, parsed.network, descriptor)
        if wallet.roster == roster and wallet.wallet_id == (wallet_id or wallet.wallet_id):
            return wallet, new
        if wallet.roster is not None and wallet.roster != roster:
            raise Conflict("wallet_pinned_differently", f"{wallet.name!r} already has another roster pinned "
                           f"(safety code {wallet.safety_code}); a roster changes only by a roster change")
        return self._store(replace(wallet, roster=roster, wallet_id=wallet_id or wallet.wallet_id)), True

    def remember_wallet_id(self, wallet: PinnedWallet, wallet_id: int) -> PinnedWallet:
        """The server's id of a wallet pinned before the server had made it (set once)."""
        if wallet.wallet_id is not None:
            return wallet
        return self._store(replace(wallet, wallet_id=wallet_id))

    def change_roster(self, wallet: PinnedWallet, roster: dict) -> PinnedWallet:
        """Pin the roster a roster change made, for the same wallet (same descriptor)."""
        from ..governance.roster import PinnedRoster

        PinnedRoster.from_dict(roster)
        if not _roster_fits(roster, wallet.descriptor, wallet.network):
            raise InvalidInput("descriptor_mismatch", f"the changed roster is not of the pinned wallet {wallet.name!r}")
        return self._store(replace(wallet, roster=roster))

    def by_policy(self, policy_id: object) -> PinnedWallet:
        """The pinned wallet with this policy id; ``not_pinned`` if none."""
        for wallet in self.all():
            if wallet.descriptor.policy_id == policy_id:
                return wallet
        raise NotFound("not_pinned", f"this agent has pinned no wallet with policy {policy_id!r}; it signs only "
                       "for wallets it pinned itself")

    def _store(self, wallet: PinnedWallet) -> PinnedWallet:
        self._write(wallet)
        return wallet

    def get(self, name: str) -> PinnedWallet:
        if not self._path(name).exists():
            pinned = ", ".join(w.name for w in self.all()) or "none yet"
            raise NotFound("wallet_not_pinned", f"no wallet {name!r} is pinned (pinned: {pinned}); "
                           "pin it with `huddle agent pin WALLET-FILE`")
        return self._read(name)

    def all(self) -> list[PinnedWallet]:
        if not self.wallets_dir.exists():
            return []
        return [self._read_file(p) for p in sorted(self.wallets_dir.glob("*.json"))]

    def saw_used(self, wallet: PinnedWallet, used: list[tuple[int, int]]) -> PinnedWallet:
        """Remember (branch, index) pairs seen used, raising the gap windows."""
        last = dict(wallet.last_used)
        for branch, index in used:
            key = BRANCH_NAMES[branch]
            last[key] = index if last[key] is None else max(last[key], index)
        if last == wallet.last_used:
            return wallet
        updated = replace(wallet, last_used=last)
        self._write(updated)
        return updated

    # -- files -------------------------------------------------------------------

    def file_key(self, name: str) -> str:
        """The file name (without suffix) that stands for wallet ``name`` in this directory."""
        return hashlib.sha256(check_name(name).encode()).hexdigest()[:16]  # names may hold spaces

    def _path(self, name: str) -> Path:
        return self.wallets_dir / f"{self.file_key(name)}.json"

    def _read(self, name: str) -> PinnedWallet:
        return self._read_file(self._path(name))

    def _read_file(self, path: Path) -> PinnedWallet:
        data = files.read_json(path)
        if not isinstance(data, dict):
            raise StorageError("agent_dir_error", f"{path} is not a pinned wallet file")
        return PinnedWallet.from_dict(data, str(path))

    def _write(self, wallet: PinnedWallet) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        files.write_json(self._path(wallet.name), wallet.to_dict())
