"""The audit-chain head an agent remembers for each pinned wallet (DESIGN: "The audit log
is a hash chain with a head everyone remembers").

Before signing, the agent checks that the entries it is given extend the head it saw
last, link by link (governance/audit.verify), and only then moves its head on. If
they do not, history was rewritten for this agent: it refuses to sign, loudly
(``history_rewritten``), and keeps its old head. A chain this agent has never seen
must begin by committing to the pinned wallet's policy id (``wallet_created``).

It also keeps the hash of every entry it verified (``known``), so that it can
tell whether another agent's signed head is on its own chain (DESIGN: "each must
be its own head, or a head that its own chain extends or is extended by").
"""

from __future__ import annotations

import json

from ..errors import Conflict, InvalidInput, StorageError
from ..governance.audit import EMPTY, Entry, Head, verify
from ..governance.errors import ChainBroken
from . import files
from .pinned import PinnedWallet, PinStore


def parse_exported(text: str) -> list:
    """An exported chain: one JSON entry per line (``huddle audit export``)."""
    try:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError as err:
        raise InvalidInput("audit_malformed", f"not an exported audit chain (one JSON entry per line): {err}") \
            from None


class HeadStore:
    """One small file per pinned wallet: its chain key and the last head seen."""

    def __init__(self, store: PinStore) -> None:
        self.store, self.dir = store, store.root / "heads"

    def get(self, wallet: PinnedWallet) -> tuple[str | None, Head]:
        path = self._path(wallet)
        if not path.exists():
            return None, EMPTY
        data = files.read_json(path)
        try:
            return data["chain"], Head(int(data["seq"]), str(data["hash"]))
        except (KeyError, TypeError, ValueError) as err:
            raise StorageError("agent_dir_error", f"{path} is not a remembered audit head ({err})") from None

    def advance(self, wallet: PinnedWallet, exported: list) -> Head:
        """Check that ``exported`` (entries as ``huddle audit export`` writes them) extends the
        remembered head; remember the new head. Raises ``history_rewritten`` otherwise."""
        chain, start = self.get(wallet)
        entries = [Entry.from_dict(item) for item in exported]
        if start != EMPTY and entries and entries[0].seq == 1:  # the whole chain: our head must be on it
            entries = _after_own_head(entries, start, wallet)
        if chain is not None and any(e.chain != chain for e in entries):
            raise _rewritten(wallet, start, f"the entries are of chain {entries[0].chain!r}, not {chain!r}")
        try:
            head = verify(entries, start)
        except ChainBroken as err:
            raise _rewritten(wallet, start, err.message) from None
        if start == EMPTY and entries:
            _check_genesis(entries[0], wallet)
        if entries:
            seen = self._seen(wallet) | {e.seq: e.hash for e in entries}
            files.write_json(self._path(wallet), {"chain": entries[0].chain, "seq": head.seq, "hash": head.hash,
                                                  "seen": {str(k): v for k, v in sorted(seen.items())}})
        return head

    def known(self, wallet: PinnedWallet, seq: int) -> str | None:
        """The hash of entry ``seq`` of the chain this agent verified, if it saw it."""
        if seq == 0:
            return EMPTY.hash
        return self._seen(wallet).get(seq)

    def _seen(self, wallet: PinnedWallet) -> dict[int, str]:
        path = self._path(wallet)
        if not path.exists():
            return {}
        data = files.read_json(path)
        try:
            seen = {int(k): str(v) for k, v in data.get("seen", {}).items()}
            seen[int(data["seq"])] = str(data["hash"])
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise StorageError("agent_dir_error", f"{path} is not a remembered audit head ({err})") from None
        return seen

    def _path(self, wallet: PinnedWallet):
        return self.dir / f"{self.store.file_key(wallet.name)}.json"


def _after_own_head(entries: list[Entry], start: Head, wallet: PinnedWallet) -> list[Entry]:
    try:
        verify(entries[:start.seq])
    except ChainBroken as err:
        raise _rewritten(wallet, start, err.message) from None
    if len(entries) < start.seq or entries[start.seq - 1].hash != start.hash:
        raise _rewritten(wallet, start, f"its entry {start.seq} is not the one this agent saw")
    return entries[start.seq:]


def _check_genesis(first: Entry, wallet: PinnedWallet) -> None:
    if first.seq != 1 or first.type != "wallet_created" or first.body.get("policy_id") != wallet.descriptor.policy_id:
        raise Conflict("history_rewritten", f"this chain does not begin with the creation of the pinned wallet "
                           f"{wallet.name!r} (policy {wallet.descriptor.policy_id}); refusing to sign")


def _rewritten(wallet: PinnedWallet, start: Head, why: str) -> Conflict:
    return Conflict("history_rewritten", f"HISTORY CHANGED: the server's audit history of {wallet.name!r} no "
                    f"longer extends the head this agent saw (entry {start.seq}, {start.hash[:12]}): {why}; "
                    "refusing to sign. Tell the other members.")
