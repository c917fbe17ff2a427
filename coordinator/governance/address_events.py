"""Address checks on a member's device, as typed events for the wallet's room, and
their error codes (docs/events.md, "Address checks"; docs/errors-address-checks.md).

A check is asked of the member's own agent (``address_checks.ask``) and answered
by it (``address_checks.answer``); each answer is one of these three events.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import register
from .events import WalletEvent

CODES: dict[str, str] = {
    "agent_offline": "none of the caller's signer agents is connected to this server, so none can show the "
                     "address; start `huddle agent run`",
    "address_check_unknown": "an address_shown answer for no check this server asked of this agent",
    "address_check_answered": "an address_shown answer for a check that was already answered",
    "address_check_no_slot": "the caller holds no cosigner slot of this wallet, so no device of theirs can "
                             "show its addresses",
    "bad_address_check": "an address_shown answer without request_id, branch, index and either address and "
                         "fingerprint or refused {code, message}",
}
register(CODES)


@dataclass(frozen=True)
class AddressVerified(WalletEvent):
    """A member's agent had their device show ``address`` (``branch``/``index``), and the
    device's address equals both the agent's derivation from its pinned descriptor and
    the server's."""

    request: str
    user: int
    fingerprint: str
    device: str
    branch: str
    index: int
    address: str


@dataclass(frozen=True)
class AddressMismatch(WalletEvent):
    """Loud: the address a member's agent reports its device showed is NOT the one the
    server derives for that slot (or came from a device that is not a cosigner). Nobody
    should pay to either address until the group knows why."""

    request: str
    user: int
    fingerprint: str
    device: str
    branch: str
    index: int
    expected: str
    shown: str
    reason: str


@dataclass(frozen=True)
class AddressCheckRefused(WalletEvent):
    """A member's agent did not show the address: ``code`` and ``message`` say why (no
    device, a device that is not a cosigner, an index past its gap limit, declined on the
    device, the device's own address differing from the agent's derivation, ...)."""

    request: str
    user: int
    branch: str
    index: int
    code: str
    message: str


EVENTS = (AddressVerified, AddressMismatch, AddressCheckRefused)
