"""Error codes of the governance core (docs/errors-server.md)."""

from __future__ import annotations

from ..errors import InvalidInput, register

CODES: dict[str, str] = {
    "audit_chain_broken": "an audit chain whose entries do not link or hash as they claim "
                          "(history was edited); the details name the first bad entry",
    "audit_malformed": "an exported audit chain that is not a list of audit entries",
    "bad_intent": "a spend intent with missing or malformed recipients, memo hash, fee ceiling or times",
    "coin_locked": "a coin already belongs to another active proposal; cancel it or choose other coins",
    "proposal_not_found": "no such proposal in this wallet",
    "proposal_closed": "the proposal is no longer open (cancelled, expired, replaced or broadcast)",
    "bad_memo": "a proposal without a memo saying why, or with one over 1000 characters",
    "bad_comment": "a comment that is empty, over 2000 characters, or holds control characters",
    "already_approved": "this member already approved the proposal with this passkey",
    "audit_approval_invalid": "an approval in an audit chain that does not verify against the pinned roster; "
                              "the details name the entry",
    "bad_roster": "a roster file that is not a version 1 roster",
    "passkey_not_pinned": "an approval with a passkey the wallet's pinned roster does not hold yet "
                          "(added since; it counts once M keyholders' agents confirm the roster change)",
    "approval_invalid": "a passkey approval that does not verify against the member's pinned key and the intent",
}
register(CODES)


class ChainBroken(InvalidInput):
    """The chain does not verify; ``details["seq"]`` is the first bad entry."""

    def __init__(self, chain: str, seq: int, why: str) -> None:
        super().__init__("audit_chain_broken", f"audit chain {chain!r} breaks at entry {seq}: {why}",
                         chain=chain, seq=seq)
