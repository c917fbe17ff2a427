"""Following roster changes through the audit chain (DESIGN.md: "Any roster change
needs M keyholders to confirm it at their agents").

Only the keyholder whose confirmation was the M-th sees the change applied at its own
terminal (roster.confirm_change). Every other agent learns it from the chain it
verifies anyway: ``roster_change_proposed`` carries the new roster, each
``roster_change_confirmed`` a keyholder's agent signature over {wallet, from, to},
and ``roster_changed`` says the server applied it. The agent adopts the new roster
only when the change starts from the roster it pinned, the roster hashes to the
``to`` it names, and M keyholders OF ITS PINNED ROSTER signed it with their PINNED
agent keys; otherwise it refuses to sign under a roster it cannot check
(``roster_change_unverified``). Rosters and signatures seen on the way are kept in
``rosters/`` in the agent's directory, since the entries that carry them may come in
an earlier request than the one that applies them.
"""

from __future__ import annotations

from ..errors import Conflict
from ..governance import agent_keys
from ..governance.audit import Entry
from . import files
from .pinned import PinnedWallet, PinStore, roster_hash


class RosterBook:
    """Proposed rosters (by hash) and confirmations (by from:to, then member) seen for one wallet."""

    def __init__(self, store: PinStore, wallet: PinnedWallet) -> None:
        self.path = store.root / "rosters" / f"{store.file_key(wallet.name)}.json"
        data = files.read_json(self.path) if self.path.exists() else {}
        self.proposed: dict = data.get("proposed", {}) if isinstance(data, dict) else {}
        self.confirmed: dict = data.get("confirmed", {}) if isinstance(data, dict) else {}

    def propose(self, roster: object) -> None:
        if isinstance(roster, dict):
            self.proposed[roster_hash(roster)] = roster

    def confirm(self, base: str, to: str, member: object, signature: object) -> None:
        if isinstance(member, int) and isinstance(signature, str):
            self.confirmed.setdefault(f"{base}:{to}", {})[str(member)] = signature

    def save(self) -> None:
        files.write_json(self.path, {"proposed": self.proposed, "confirmed": self.confirmed})


def follow(store: PinStore, wallet: PinnedWallet, entries: list[Entry], wallet_id: int) -> PinnedWallet:
    """The wallet with every roster change in ``entries`` (verified, in order) adopted."""
    book = RosterBook(store, wallet)
    for entry in entries:
        body = entry.body
        if entry.type == "roster_change_proposed":
            book.propose(body.get("roster"))
        elif entry.type == "roster_change_confirmed":
            book.confirm(body.get("from"), body.get("to"), body.get("member"), body.get("signature"))
        elif entry.type == "roster_changed" and body.get("from") == roster_hash(wallet.roster):
            wallet = _adopt(store, wallet, book, str(body.get("to")), wallet_id)
    if book.proposed or book.confirmed:
        book.save()
    return wallet


def _adopt(store: PinStore, wallet: PinnedWallet, book: RosterBook, to: str, wallet_id: int) -> PinnedWallet:
    base = roster_hash(wallet.roster)
    new = book.proposed.get(to)
    old = wallet.pinned_roster()
    body = agent_keys.roster_change_body(wallet_id, base, to)
    signatures = book.confirmed.get(f"{base}:{to}", {})
    confirmers = {m.user for m in old.keyholders() if m.agent_key is not None
                  and agent_keys.verify(m.agent_key, "roster-change", body, signatures.get(str(m.user)))}
    if new is None or len(confirmers) < old.m:
        raise Conflict("roster_change_unverified", f"the chain says the roster of {wallet.name!r} changed "
                       f"({base[:12]} -> {to[:12]}), but this agent can verify {len(confirmers)} of the "
                       f"{old.m} keyholder confirmations it needs{'' if new else ', and not the new roster'}; "
                       "it will not sign under a roster it cannot check")
    return store.change_roster(wallet, new)
