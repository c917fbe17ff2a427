"""The agent's side of the roster ceremony, approvals and roster changes (DESIGN.md "The
roster is pinned at a ceremony on the call", "Approvals"; docs/agent.md).

Whatever the server says about a roster (its hash, its safety code, the first
address) is recomputed here and compared, never believed: a server that gave two
agents different rosters is caught when the keyholders read their safety codes
aloud. The agent key signs only what this module verified:

- ``roster-confirm`` {draft, roster hash, first address} at setup, then the roster
  is pinned beside the descriptor;
- ``approval`` over the intent digest, after rebuilding recipients, memo and fee from
  the PSBT against the PINNED descriptor;
- ``roster-change`` {wallet, from, to}, only from the roster this agent pinned; the new
  roster is pinned once the server says M keyholders confirmed it.
"""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass

from ..errors import Conflict, InvalidInput, NotFound
from ..governance import agent_keys
from ..governance.intent import Intent
from ..governance.roster import PinnedRoster
from ..governance.roster_changes import diff
from ..psbt.summary import Summary
from ..wallet.descriptor import MultisigDescriptor
from . import signing
from .agent_key import AgentKey
from .pairing import Link, call
from .pinned import PinnedWallet, PinStore, roster_hash
from .request_checks import check_intent


def _mismatch(what: str) -> InvalidInput:
    return InvalidInput("server_roster_mismatch", f"the server's {what} is not what this agent computes from "
                        "the roster itself; do not confirm, and tell the group")


# -- setup ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    draft_id: int
    roster: dict
    parsed: PinnedRoster
    descriptor: MultisigDescriptor
    hash: str
    safety_code: str
    first_address: str
    slot: int

    @property
    def fingerprint(self) -> str:
        return self.descriptor.cosigners[self.slot].fingerprint


def fetch_setup(link: Link, draft_id: int, key: AgentKey) -> Setup:
    """The draft's roster, checked: it names this agent's key for its user, who owns a slot."""
    data = call("GET", link.url, f"/drafts/{draft_id}/roster", token=link.token)
    roster = data.get("roster")
    parsed = PinnedRoster.from_dict(roster)  # bad_roster
    descriptor = MultisigDescriptor.from_string(parsed.descriptor)
    if descriptor.policy_id != parsed.policy_id:
        raise _mismatch("policy id")
    first = descriptor.address(0, 0, parsed.network)
    if data.get("first_address") != first:
        raise _mismatch("first address")
    setup = Setup(draft_id, roster, parsed, descriptor, roster_hash(roster), agent_keys.safety_code(roster),
                  first, _own_slot(parsed, link.user_id, key))
    if data.get("hash") not in (None, setup.hash) or data.get("safety_code") not in (None, setup.safety_code):
        raise _mismatch("roster hash or safety code")
    return setup


def _own_slot(roster: PinnedRoster, user_id: int, key: AgentKey) -> int:
    member = roster.member(user_id)
    if member is None or member.slot is None:
        raise InvalidInput("roster_not_ours", f"the roster gives user {user_id} no cosigner slot to confirm")
    if member.agent_key != key.public:
        raise InvalidInput("roster_not_ours", f"the roster pins the agent key {member.agent_key} for you, not "
                           f"this agent's {key.public}: register it (huddle agent key --register) and reload")
    return member.slot


def as_wallet(name: str, roster: PinnedRoster) -> PinnedWallet:
    """The roster's wallet, in memory, for a device to show its address (not pinned yet)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    return PinnedWallet(name, roster.network, MultisigDescriptor.from_string(roster.descriptor), stamp)


def confirm_setup(link: Link, setup: Setup, key: AgentKey, store: PinStore, shown: str) -> tuple[PinnedWallet, dict]:
    """Sign {draft, roster hash, first address}, post it, and pin the roster."""
    if shown != setup.first_address:
        raise InvalidInput("device_address_mismatch", f"the device shows {shown}, the roster's descriptor "
                           f"derives {setup.first_address}; do not confirm")
    signature = key.sign("roster-confirm", agent_keys.roster_confirm_body(setup.draft_id, setup.hash, shown))
    answer = call("POST", link.url, f"/drafts/{setup.draft_id}/slots/{setup.slot}/confirm/agent",
                  {"address": shown, "signature": signature, "roster_hash": setup.hash}, token=link.token)
    draft = answer.get("draft") if isinstance(answer.get("draft"), dict) else {}
    name = str(draft.get("name") or f"wallet-{setup.draft_id}")
    wallet_id = draft.get("wallet_id") if isinstance(draft.get("wallet_id"), int) else None
    wallet, _ = store.pin_roster(name, setup.roster, wallet_id)
    return wallet, draft


@dataclass(frozen=True)
class Pinned:
    """A wallet's roster as the server says it pinned it, checked: for a member whose
    agent came after the setup (or was installed again)."""

    wallet_id: int
    name: str
    roster: dict
    parsed: PinnedRoster
    safety_code: str


def fetch_pinned(link: Link, wallet_id: int) -> Pinned:
    answer = call("GET", link.url, f"/wallets/{wallet_id}/roster", token=link.token)
    shown = answer.get("pinned") if isinstance(answer.get("pinned"), dict) else None
    if shown is None:
        raise NotFound("agent_roster_missing", f"wallet {wallet_id} has no pinned roster on the server (it was "
                       "imported, not set up at a ceremony); pin its descriptor with huddle agent pin")
    roster = shown.get("roster")
    parsed = PinnedRoster.from_dict(roster)
    if MultisigDescriptor.from_string(parsed.descriptor).policy_id != parsed.policy_id:
        raise _mismatch("policy id")
    code = agent_keys.safety_code(roster)
    if shown.get("hash") not in (None, roster_hash(roster)) or shown.get("safety_code") not in (None, code):
        raise _mismatch("roster hash or safety code")
    member = parsed.member(link.user_id)
    if member is None or member.role not in ("admin", "keyholder"):
        raise InvalidInput("roster_not_ours", f"the roster does not make user {link.user_id} a keyholder of "
                           f"wallet {wallet_id}")
    listed = call("GET", link.url, "/wallets", token=link.token).get("wallets") or []
    name = next((w.get("name") for w in listed if isinstance(w, dict) and w.get("id") == wallet_id), None)
    return Pinned(wallet_id, str(name or f"wallet-{wallet_id}"), roster, parsed, code)


# -- approvals ------------------------------------------------------------------------


@dataclass(frozen=True)
class ToApprove:
    proposal_id: int
    intent: Intent
    memo: str
    summary: Summary


def fetch_proposal(link: Link, wallet: PinnedWallet, proposal_id: int, wallet_id: int,
                   now: int | None = None) -> ToApprove:
    """The proposal, rebuilt and checked against the PINNED wallet before anything is shown."""
    data = call("GET", link.url, f"/wallets/{wallet_id}/proposals/{proposal_id}", token=link.token)
    proposal = data.get("proposal") if isinstance(data.get("proposal"), dict) else {}
    try:
        psbt = base64.b64decode(str(data["psbt"]), validate=True)
        memo = proposal.get("memo") or ""
    except (KeyError, binascii.Error, ValueError):
        raise InvalidInput("bad_sign_request", "the server's proposal carries no PSBT") from None
    intent = Intent.from_dict(proposal.get("intent"))
    summary = signing.review(psbt, wallet, now=now)  # the signer checks, pinned descriptor
    check_intent(intent, psbt, str(memo), wallet, summary, now)
    return ToApprove(proposal_id, intent, str(memo), summary)


def approve(link: Link, wallet_id: int, item: ToApprove, key: AgentKey) -> dict:
    signature = key.sign("approval", item.intent.to_dict())  # the message is the intent digest
    return call("POST", link.url, f"/wallets/{wallet_id}/proposals/{item.proposal_id}/approvals/agent",
                {"signature": signature}, token=link.token)


def server_id(link: Link, wallet: PinnedWallet, store: PinStore) -> int:
    """The server's id of a pinned wallet; one confirmed before the server made it is looked
    up by its policy id (an id is only a label: every signature binds the policy or roster)."""
    if wallet.wallet_id is not None:
        return wallet.wallet_id
    listed = call("GET", link.url, "/wallets", token=link.token).get("wallets")
    policy = wallet.descriptor.policy_id
    found = [w.get("id") for w in listed or [] if isinstance(w, dict) and w.get("policy_id") == policy]
    if len(found) != 1 or not isinstance(found[0], int):
        raise NotFound("not_pinned", f"the server lists no wallet of yours with the policy of {wallet.name!r} "
                       f"({wallet.descriptor.policy_id})")
    return store.remember_wallet_id(wallet, found[0]).wallet_id


# -- roster changes -------------------------------------------------------------------


@dataclass(frozen=True)
class RosterChange:
    id: int
    wallet: PinnedWallet
    wallet_id: int
    roster: dict
    base: str
    to: str
    lines: list[str]
    safety_code: str


def fetch_change(link: Link, wallet: PinnedWallet, wallet_id: int, change_id: int) -> RosterChange:
    """The pending change, checked: from this agent's pinned roster, to the same wallet."""
    change = call("GET", link.url, f"/wallets/{wallet_id}/roster/change", token=link.token).get("change")
    if not isinstance(change, dict) or change.get("id") != change_id:
        raise Conflict("roster_moved", f"the wallet's pending roster change is not {change_id} "
                       f"(it is {change.get('id') if isinstance(change, dict) else 'none'})")
    old = wallet.pinned_roster()
    new = PinnedRoster.from_dict(change.get("roster"))
    base = roster_hash(wallet.roster)
    if change.get("from") != base:
        raise Conflict("roster_change_stale", "the change does not start from the roster this agent pinned "
                       f"({base[:12]}); it cannot be confirmed here")
    if new.descriptor != old.descriptor or new.policy_id != old.policy_id or new.network != old.network:
        raise InvalidInput("descriptor_mismatch", "the changed roster is of another wallet (descriptor, policy "
                           "or network differ)")
    to = roster_hash(change["roster"])
    if change.get("to") != to:
        raise _mismatch("new roster hash")
    return RosterChange(change_id, wallet, wallet_id, change["roster"], base, to, diff(old, new),
                        agent_keys.safety_code(change["roster"]))


def confirm_change(link: Link, change: RosterChange, key: AgentKey, store: PinStore) -> tuple[dict, bool]:
    """Sign {wallet, from, to} and post it; pin the new roster once the server applied it
    (else roster_follow adopts it when the chain shows M confirmations)."""
    from .roster_follow import RosterBook

    book = RosterBook(store, change.wallet)
    book.propose(change.roster)
    book.save()
    wallet_id = change.wallet_id
    body = agent_keys.roster_change_body(wallet_id, change.base, change.to)
    answer = call("POST", link.url, f"/wallets/{wallet_id}/roster/change/confirm",
                  {"signature": key.sign("roster-change", body), "to": change.to}, token=link.token)
    state = answer.get("change", {}).get("state") if isinstance(answer.get("change"), dict) else None
    if state == "applied":
        store.change_roster(change.wallet, change.roster)
        return answer, True
    return answer, False
