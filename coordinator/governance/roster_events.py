"""Typed events of agent approvals and roster changes, for the wallet's room
(docs/events.md); like governance/events.py, ``type`` is the class name in snake case."""

from __future__ import annotations

from dataclasses import dataclass

from .events import WalletEvent


@dataclass(frozen=True)
class AgentApprovalAdded(WalletEvent):
    """A member's agent approved a proposal: its pinned agent key signed the intent digest."""

    proposal: int
    user: int


@dataclass(frozen=True)
class RosterChangeProposed(WalletEvent):
    """The wallet's admin proposed a new roster; keyholders' agents show it and confirm it."""

    change: int
    roster_hash: str
    needed: int


@dataclass(frozen=True)
class RosterChangeConfirmed(WalletEvent):
    """A keyholder's agent confirmed the pending roster change."""

    change: int
    user: int
    confirmations: int


@dataclass(frozen=True)
class RosterChanged(WalletEvent):
    """Enough keyholders confirmed: the new roster is pinned (its ``version`` and hash)."""

    change: int
    version: int
    roster_hash: str


EVENTS = (AgentApprovalAdded, RosterChangeProposed, RosterChangeConfirmed, RosterChanged)
