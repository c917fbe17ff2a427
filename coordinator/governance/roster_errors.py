"""Error codes of pinned rosters, agent approvals and roster changes (docs/errors-roster.md).
agent_keys.py and quorum.py register their own few, so they stand alone."""

from __future__ import annotations

from ..errors import register

CODES: dict[str, str] = {
    "roster_not_pinned": "the wallet has no pinned roster (it was imported, not set up at a ceremony)",
    "not_an_approver": "the wallet's pinned roster does not list this member among those who may approve",
    "approval_wrong_kind": "the pinned roster says this member approves with the other kind (agent key or passkey)",
    "agent_confirmation_required": "a keyholder with a registered agent key confirms the setup with it: "
                                   "its signature over the draft, the roster hash and the first address",
    "agent_key_not_registered": "an agent signature from a member who has no registered agent key",
    "roster_moved": "the roster the signature is over is not the current one (a passkey, member or agent key "
                    "changed); fetch the roster, compare the safety code again, and sign that",
    "roster_change_not_found": "the wallet has no pending roster change",
    "roster_change_empty": "the proposed roster is the pinned one: nothing would change",
    "bad_roster_change": "a roster change with a bad threshold or approver list",
    "not_a_confirmer": "only a keyholder whose agent key the pinned roster names confirms a roster change",
    "already_confirmed": "this keyholder already confirmed the pending roster change",
    "audit_roster_invalid": "a pinned-roster entry or roster-change confirmation in an audit chain that does "
                            "not verify against the roster file; the details name the entry",
}
register(CODES)
