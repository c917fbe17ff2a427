"""What happens to a wallet's membership, as typed events for its room.

Like ``chain/events.py``: each event names its wallet; ``type`` is the class
name in snake case, and ``data()`` the fields. The outbox stores them and the
socket layer only serialises them (docs/events.md lists each one).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class WalletEvent:
    wallet_id: int

    @property
    def type(self) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()

    def data(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class InviteCreated(WalletEvent):
    """A wallet admin invited someone; the token is never in the event."""

    invite: int
    role: str
    expires_at: int


@dataclass(frozen=True)
class MemberJoined(WalletEvent):
    """Someone accepted an invite and is now a member with ``role``."""

    user: int
    name: str
    role: str


@dataclass(frozen=True)
class MemberRevoked(WalletEvent):
    """The server's admin revoked a member's account; their sockets are cut."""

    user: int


@dataclass(frozen=True)
class ProposalCreated(WalletEvent):
    """A member proposed a spend; its coins are locked to the proposal's family."""

    proposal: int
    proposer: int
    intent_digest: str  # hex; what approvals sign
    replaces: int | None = None  # a fee bump: the family member it replaces (same intent)


@dataclass(frozen=True)
class ProposalClosed(WalletEvent):
    """A proposal stopped being open (``state``: cancelled, expired or replaced); coins no
    live member of its family spends are free."""

    proposal: int
    state: str


@dataclass(frozen=True)
class ApprovalAdded(WalletEvent):
    """A member approved a proposal with a passkey assertion over its intent."""

    proposal: int
    user: int


@dataclass(frozen=True)
class CommentAdded(WalletEvent):
    """A member commented on a proposal; the text is fetched, never in the event."""

    proposal: int
    comment: int
    user: int


@dataclass(frozen=True)
class RoleChanged(WalletEvent):
    """A wallet admin changed a member's role from ``previous`` to ``role``."""

    user: int
    role: str
    previous: str


@dataclass(frozen=True)
class MemberRemoved(WalletEvent):
    """A member was removed by a wallet admin (``by``), or left (``by`` is themselves);
    their sockets were cut."""

    user: int
    by: int


@dataclass(frozen=True)
class CoinFrozen(WalletEvent):
    """A keyholder (``by``) froze the unspent coin ``outpoint`` (BIP-329 spendable false):
    no spend takes it until it is unfrozen. ``via`` is "member"; a label import that
    freezes coins sends ``labels_changed`` instead."""

    outpoint: str
    by: int
    via: str


@dataclass(frozen=True)
class CoinUnfrozen(WalletEvent):
    """A keyholder (``by``) unfroze the coin ``outpoint``; spends may take it again."""

    outpoint: str
    by: int
    via: str


@dataclass(frozen=True)
class LabelsChanged(WalletEvent):
    """A BIP-329 label import by ``by`` changed ``count`` labels (names, or coins frozen or
    unfrozen); the labels are fetched, never in the event."""

    count: int
    by: int


EVENTS = (InviteCreated, MemberJoined, MemberRevoked, ProposalCreated, ProposalClosed, ApprovalAdded, CommentAdded,
          RoleChanged, MemberRemoved, CoinFrozen, CoinUnfrozen, LabelsChanged)
