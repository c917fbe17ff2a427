"""Showing an address on the device when the server asks (``show_address``; docs/agent.md,
"Showing an address when asked"; issue 12 Build 4, issue 13 Build 2).

The request names a wallet by policy id, a branch and an index: never an address
or a descriptor. The agent finds the wallet it pinned with that policy (refusing
one it has not pinned), refuses an index past its own gap limit before any device
is touched, opens the slot's device (or the one connected cosigner), has it show
the address through addresses.show (which refuses a device that is not a cosigner
and a device address other than its own derivation), and answers
``address_shown``: the address and the device, or ``refused`` {code, message}.
The server then compares the address with its own derivation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import HuddleError, InvalidInput, NotFound, register
from . import addresses, devices
from .connection import Channel
from .pinned import PinnedWallet, PinStore
from .signing import cosigner_position

register({"bad_show_request": "a show_address request that is not what the agent protocol says (docs/agent.md)"})

BRANCHES = {"receive": 0, "change": 1}
_FPR = re.compile(r"[0-9a-f]{8}")


@dataclass(frozen=True)
class ShowRequest:
    request_id: str
    wallet_id: int
    policy_id: str
    branch: str
    index: int
    fingerprint: str | None

    @classmethod
    def parse(cls, data: dict) -> "ShowRequest":
        request_id, wallet_id, index = data.get("request_id"), data.get("wallet_id"), data.get("index")
        fingerprint = data.get("fingerprint")
        if not (isinstance(request_id, str) and 0 < len(request_id) <= 64 and _int(wallet_id) and _int(index)
                and isinstance(data.get("policy_id"), str) and data.get("branch") in BRANCHES
                and (fingerprint is None or (isinstance(fingerprint, str) and _FPR.fullmatch(fingerprint)))):
            raise InvalidInput("bad_show_request", "show_address carries request_id, wallet_id, policy_id, "
                               "branch (receive or change), index and fingerprint (8 hex digits or null)")
        return cls(request_id, wallet_id, data["policy_id"], data["branch"], index, fingerprint)


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def slot_device(factory: devices.Factory, wallet: PinnedWallet, fingerprint: str | None) -> str:
    """The device to use: the request's fingerprint if it is a cosigner, else the one connected cosigner."""
    if fingerprint is not None:
        cosigner_position(wallet.descriptor, fingerprint)  # device_not_cosigner
        return fingerprint
    ours = {c.fingerprint for c in wallet.descriptor.cosigners}
    present = sorted({d.fingerprint.lower() for d in factory.enumerate().devices if d.fingerprint} & ours)
    if len(present) != 1:
        raise InvalidInput("device_ambiguous" if present else "device_not_found",
                           f"the request names no device, and {len(present)} connected device(s) are "
                           f"cosigners of {wallet.name!r}")
    return present[0]


@dataclass
class ShowResponder:
    """The agent's handler for ``show_address`` events (connection.Session calls it, one at a time)."""

    store: PinStore
    factory: Callable[[str], devices.Factory]  # network -> the device factory
    say: Callable[[str], None] = print
    timeout: float = devices.DEFAULT_TIMEOUT

    def __call__(self, data: dict, channel: Channel) -> None:
        ids = {"request_id": data.get("request_id"), "wallet_id": data.get("wallet_id"),
               "branch": data.get("branch"), "index": data.get("index")}
        what = f"{ids['branch']} address {ids['index']}"
        try:
            request = ShowRequest.parse(data)
            wallet = self._wallet(request)
            what = f"{request.branch} address {request.index} of {wallet.name!r}"
            addresses.check_index(wallet, request.index, BRANCHES[request.branch])  # before any device
            shown, found = self._show(wallet, request, what)
        except HuddleError as err:
            self.say(f"Refused to show {what}: {err.message} [{err.code}]")
            self._answer(channel, {**ids, "refused": {"code": err.code, "message": err.message}})
            return
        except Exception as err:  # noqa: BLE001 - a bug must still answer the server, and verify nothing
            self.say(f"Refused to show {what}: the agent failed ({type(err).__name__}: {err})")
            self._answer(channel, {**ids, "refused": {"code": "bad_show_request", "message": f"the agent "
                                                      f"could not show it ({type(err).__name__})"}})
            return
        self.say(f"Shown on {found['device']} {found['fingerprint']}: {what} is {shown}, as this agent derives "
                 "it from the pinned descriptor")
        self._answer(channel, {**ids, "address": shown, **found})

    def _wallet(self, request: ShowRequest) -> PinnedWallet:
        wallet = self.store.by_policy(request.policy_id)  # not_pinned: never a descriptor the server sends
        if wallet.wallet_id is not None and wallet.wallet_id != request.wallet_id:
            raise NotFound("not_pinned", f"this agent pinned policy {request.policy_id} as wallet "
                           f"{wallet.wallet_id} of the server, not {request.wallet_id}")
        return wallet

    def _show(self, wallet: PinnedWallet, request: ShowRequest, what: str) -> tuple[str, dict]:
        factory = self.factory(wallet.network)
        fingerprint = slot_device(factory, wallet, request.fingerprint)
        expected = wallet.descriptor.address(BRANCHES[request.branch], request.index, wallet.network)
        self.say(f"Showing {what} on device {fingerprint}: compare its screen with {expected}")
        device = devices.select(factory, fingerprint, devices.Worker(self.timeout))
        try:
            shower = device
            if device.found.type == "ledger":  # with the stored HMAC; HWI would register again
                from . import ledger

                shower = ledger.signer_for(device, wallet, self.store.root)
            shown = addresses.show(wallet, shower, request.index, BRANCHES[request.branch])
        finally:
            device.close()
        return shown, {"fingerprint": device.fingerprint.lower(), "device": device.found.type[:40]}

    def _answer(self, channel: Channel, result: dict) -> None:
        ack = channel.call("address_shown", result)
        if isinstance(ack, dict) and isinstance(ack.get("error"), dict):
            self.say(f"The server did not take the answer: {ack['error'].get('message')} "
                     f"[{ack['error'].get('code')}]")
        elif isinstance(ack, dict) and ack.get("outcome") == "mismatch":
            self.say(f"WARNING: the server derives ANOTHER address for this slot ({ack.get('reason')}); "
                     "do not pay to either until your group knows why")
        elif isinstance(ack, dict) and ack.get("outcome") == "verified":
            self.say("The server's own derivation agrees: the address is marked verified")

