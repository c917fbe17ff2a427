"""Showing a receive or change address on the device, derived from the pinned descriptor.

The index must lie within the gap limit past the last one the agent saw used
(DESIGN: ``huddle agent show-address`` refuses more), so a server cannot have
members "verify" an address far out where a restoring wallet would never look.
The device computes the address itself from the keys it holds; the agent
compares it with its own derivation.
"""

from __future__ import annotations

from typing import Protocol

from ..errors import Conflict, InvalidInput
from ..wallet.descriptor import CHANGE, RECEIVE, MultisigDescriptor
from .pinned import BRANCH_NAMES, PinnedWallet
from .signing import cosigner_position


class Shower(Protocol):
    fingerprint: str

    def display_address(self, descriptor: MultisigDescriptor, branch: int, index: int) -> str: ...


def check_index(wallet: PinnedWallet, index: int, branch: int = RECEIVE) -> None:
    """Refuse, before any device is touched, an index the agent would not show."""
    if branch not in (RECEIVE, CHANGE):
        raise InvalidInput("bad_index", f"branch {branch} is neither receive (0) nor change (1)")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise InvalidInput("bad_index", f"address index {index!r} must be 0 or more")
    limit = wallet.index_limit(branch)
    if index > limit:
        raise Conflict("gap_limit_reached", f"{BRANCH_NAMES[branch]} index {index} is beyond the gap limit "
                       f"(at most {limit}, 20 past the last used one the agent knows); a restoring wallet "
                       "would not find coins there")


def show(wallet: PinnedWallet, device: Shower, index: int, branch: int = RECEIVE) -> str:
    """Have the device show address ``index`` of ``branch``; the address, checked."""
    check_index(wallet, index, branch)
    cosigner_position(wallet.descriptor, device.fingerprint)
    expected = wallet.descriptor.address(branch, index, wallet.network)
    shown = device.display_address(wallet.descriptor, branch, index)
    if shown != expected:
        raise InvalidInput("device_address_mismatch", f"the device shows {shown} but the pinned descriptor "
                           f"derives {expected} at {BRANCH_NAMES[branch]} {index}; do not use either")
    return expected
