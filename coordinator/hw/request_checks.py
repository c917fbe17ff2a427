"""What the agent decides before any device sees a live sign request (DESIGN.md
"The agent's protocol": "The agent decides from its pinned roster and its own head
alone"). Each check refuses with its own code; the order is the order a user would
want the reason in:

1. the wallet: pinned here by policy id (``not_pinned``), with its roster;
2. history: the audit entries extend the head this agent remembers
   (``history_rewritten``) and reach the head the server announces;
   and roster changes it shows are adopted once M pinned keyholders signed them
   (roster_follow.py; ``roster_change_unverified`` otherwise);
3. the other agents' signed heads: each verifies with that member's PINNED agent key
   (``signed_head_invalid``) and is on this agent's chain (``history_forked``);
4. the PSBT: the signer checks against the PINNED descriptor (psbt/checks.py);
5. the intent: rebuilt from what the checks verified, never taken from the server:
   recipients and amounts, memo hash, this agent's clock, the fee ceiling;
6. the quorum: governance/quorum.count under the PINNED roster's threshold.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections import Counter
from dataclasses import dataclass

from embit.psbt import PSBT

from ..errors import Conflict, HuddleError, InvalidInput
from ..governance import agent_keys
from ..governance.audit import Entry, Head, wallet_chain
from ..governance.intent import Intent, memo_hash
from ..psbt import codec
from ..psbt.checks import is_change
from ..psbt.summary import Summary
from . import signing
from .heads import HeadStore
from .pinned import PinnedWallet, PinStore
from .roster_follow import follow

_FIELDS = {"request_id": str, "wallet_id": int, "proposal_id": int, "policy_id": str, "psbt": str,
           "intent": dict, "memo": str, "approvals": list, "audit": list, "audit_head": dict,
           "signed_heads": list}


@dataclass(frozen=True)
class SignRequest:
    request_id: str
    wallet_id: int
    proposal_id: int
    policy_id: str
    psbt: bytes
    intent: Intent
    memo: str
    approvals: list
    audit: list
    audit_head: Head
    signed_heads: list
    fingerprint: str | None
    descriptor: str | None = None  # only ever compared with the pinned one (signing.same_as_pinned)

    @classmethod
    def parse(cls, data: object) -> "SignRequest":
        """The request as contracts §2 shapes it; ``bad_sign_request`` otherwise."""
        if not isinstance(data, dict):
            raise InvalidInput("bad_sign_request", "a sign request is a JSON object")
        for name, kind in _FIELDS.items():
            value = data.get(name)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise InvalidInput("bad_sign_request", f"the sign request's {name!r} is missing or not {kind.__name__}")
        fingerprint, descriptor = data.get("fingerprint"), data.get("descriptor")
        if not all(v is None or isinstance(v, str) for v in (fingerprint, descriptor)):
            raise InvalidInput("bad_sign_request", "the sign request's fingerprint or descriptor is not text")
        try:
            psbt = base64.b64decode(data["psbt"], validate=True)
            head = Head(int(data["audit_head"]["seq"]), str(data["audit_head"]["hash"]))
        except (binascii.Error, KeyError, TypeError, ValueError):
            raise InvalidInput("bad_sign_request", "the sign request's psbt (base64) or audit_head "
                               "({seq, hash}) is malformed") from None
        intent = Intent.from_dict(data["intent"])  # bad_intent
        return cls(data["request_id"], data["wallet_id"], data["proposal_id"], data["policy_id"], psbt, intent,
                   data["memo"], data["approvals"], data["audit"], head, data["signed_heads"], fingerprint,
                   descriptor)


@dataclass(frozen=True)
class Decision:
    """A request this agent agrees to sign, with what it verified."""

    wallet: PinnedWallet
    summary: Summary
    head: Head
    approved_by: frozenset[int]


def decide(request: SignRequest, store: PinStore, own_user: int, now: int | None = None) -> Decision:
    """Every check, in order; raises the first refusal."""
    wallet = store.by_policy(request.policy_id)
    if wallet.wallet_id is not None and wallet.wallet_id != request.wallet_id:
        raise InvalidInput("bad_sign_request", f"the request names wallet {request.wallet_id}, but policy "
                           f"{request.policy_id} is pinned here as wallet {wallet.wallet_id}")
    wallet.pinned_roster()  # agent_roster_missing
    heads = HeadStore(store)
    head = check_history(request, wallet, heads)
    if wallet.wallet_id is None:  # confirmed before the wallet existed: the id of its verified chain
        wallet = store.remember_wallet_id(wallet, request.wallet_id)
    wallet = follow(store, wallet, [Entry.from_dict(e) for e in request.audit], request.wallet_id)
    roster = wallet.pinned_roster()  # as roster changes the chain shows left it
    check_signed_heads(request, wallet, heads, head, roster)
    summary = signing.review(request.psbt, wallet, request.descriptor, now)  # the signer checks, pinned descriptor
    check_intent(request.intent, request.psbt, request.memo, wallet, summary, now)
    approved = check_quorum(request, roster)
    return Decision(wallet, summary, head, frozenset(approved))


def check_history(request: SignRequest, wallet: PinnedWallet, heads: HeadStore) -> Head:
    head = heads.advance(wallet, request.audit)  # history_rewritten
    if head.seq == 0:  # every wallet's chain begins with its creation: an empty one hides it
        raise Conflict("history_rewritten", f"the server sent no audit history of {wallet.name!r} (not even "
                       "its creation); refusing to sign")
    chain, _ = heads.get(wallet)
    if chain != wallet_chain(request.wallet_id):  # the chain that begins with this wallet's creation
        raise InvalidInput("bad_sign_request", f"the request names wallet {request.wallet_id}, but the pinned "
                           f"wallet's audit chain is {chain!r}")
    if head != request.audit_head:
        raise Conflict("history_rewritten", f"HISTORY CHANGED: the server announces head {request.audit_head.seq} "
                       f"({request.audit_head.hash[:12]}) but the entries it sent end at {head.seq} "
                       f"({head.hash[:12]}); refusing to sign. Tell the other members.")
    return head


def check_signed_heads(request: SignRequest, wallet: PinnedWallet, heads: HeadStore, own: Head, roster) -> None:
    """Each signed head verifies with its member's pinned agent key and lies on this chain."""
    for signed in request.signed_heads:
        user, seq, digest = _signed_head_fields(signed)
        member = roster.member(user)
        if member is None or member.agent_key is None:
            raise InvalidInput("signed_head_invalid", f"a signed head comes from user {user}, who has no agent "
                               "key in this agent's pinned roster")
        body = agent_keys.head_body(request.wallet_id, seq, digest)
        if not agent_keys.verify(member.agent_key, "head", body, signed.get("signature")):
            raise InvalidInput("signed_head_invalid", f"user {user}'s signed head ({seq}) does not verify "
                               "against their pinned agent key; refusing to sign")
        if seq > own.seq or heads.known(wallet, seq) != digest:
            raise Conflict("history_forked", f"HISTORY FORKED: user {user}'s agent signed head {seq} "
                           f"({digest[:12]}), which is not on the chain this agent verified (its head: "
                           f"{own.seq}, {own.hash[:12]}); the server shows members different histories. "
                           "Refusing to sign. Tell the other members.")


def _signed_head_fields(signed: object) -> tuple[int, int, str]:
    try:
        user, seq, digest = signed["user"], signed["seq"], signed["hash"]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (user, seq)) or not isinstance(digest, str):
            raise TypeError("types")
    except (KeyError, TypeError):
        raise InvalidInput("signed_head_invalid", "a signed head is {user, seq, hash, signature}") from None
    return user, seq, digest


def recipients(psbt: bytes, wallet: PinnedWallet) -> Counter:
    """(scriptPubKey hex, amount) of every output that is not verified change."""
    parsed: PSBT = codec.parse(psbt)
    return Counter((o.script_pubkey.data.hex(), o.value) for o in parsed.outputs
                   if not is_change(o, wallet.descriptor))


def check_intent(intent: Intent, psbt: bytes, memo: str, wallet: PinnedWallet, summary: Summary,
                 now: int | None) -> None:
    """The PSBT (``summary``: what the signer checks verified of it) fulfils the intent."""
    if intent.policy_id != wallet.descriptor.policy_id or intent.network != wallet.network:
        raise InvalidInput("intent_mismatch", f"the intent is for policy {intent.policy_id} on {intent.network}, "
                           f"not the pinned wallet {wallet.name!r}")
    wanted = Counter((r.script_pubkey, r.amount) for r in intent.recipients)
    if recipients(psbt, wallet) != wanted:
        raise InvalidInput("intent_mismatch", "the PSBT does not pay exactly the recipients and amounts the "
                           "group approved (a recipient or an amount changed); nothing was signed")
    if memo_hash(memo) != intent.memo_sha256:
        raise InvalidInput("memo_mismatch", "the memo sent is not the one the group approved (its hash differs)")
    clock = int(time.time()) if now is None else now
    if clock >= intent.expires_at:
        raise Conflict("intent_expired", f"the approved intent expired {clock - intent.expires_at} s ago by this "
                       "agent's clock; propose it again")
    if summary.fee > intent.fee_ceiling:
        raise InvalidInput("intent_fee_over_ceiling", f"the PSBT pays {summary.fee} sat in fees, above the "
                           f"ceiling of {intent.fee_ceiling} sat the group approved")


def check_quorum(request: SignRequest, roster) -> set[int]:
    from ..governance import quorum

    try:
        counted = quorum.count(roster, request.intent.digest(), request.approvals)
    except HuddleError as err:
        raise InvalidInput("quorum_not_met", f"the approvals cannot be read: {err.message}") from None
    if len(counted) < roster.threshold:
        raise Conflict("quorum_not_met", f"{len(counted)} of the {roster.threshold} approvals the pinned roster "
                       "needs verify (by members, against their pinned keys); nothing was signed",
                       needed=roster.threshold, have=len(counted), approved_by=sorted(counted))
    return counted
