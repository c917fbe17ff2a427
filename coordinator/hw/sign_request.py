"""Answering a live sign request (contracts §2; docs/agent.md, "Sign requests").

request_checks.decide runs every check before any device is opened. Then the
agent signs its remembered head and sends it (``head``), opens the device with
the slot's fingerprint, reports each step (``sign_step``: device_ready,
reviewing, signed or declined) and signs through signing.py, in the device
worker thread with its timeout. The answer (``sign_result``) is the server's
PSBT holding ONLY this device's new partial signatures: the other members'
signatures it was sent are taken out, so nothing but what this device made,
verified, goes back. A refusal is ``{"code", "message"}`` with a code from the
registry; the server's acknowledgement is printed.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import HuddleError, InvalidInput
from ..governance import agent_keys
from ..governance.audit import Head
from ..psbt import codec
from . import devices, signing
from .agent_key import AgentKey
from .connection import Channel
from .heads import HeadStore
from .pinned import PinStore
from .request_checks import Decision, SignRequest, decide

STEP_ACK_TIMEOUT = 5.0  # seconds to wait for the server to take a step before going on

def signed_head(key: AgentKey, wallet_id: int, head: Head) -> dict:
    """The ``head`` event: this agent's remembered head of a wallet, signed with its agent key."""
    body = agent_keys.head_body(wallet_id, head.seq, head.hash)
    return {"wallet_id": wallet_id, "seq": head.seq, "hash": head.hash, "signature": key.sign("head", body)}


def only_new_signatures(signed: signing.Signed) -> codec.Psbt:
    """The PSBT with no partial signature but this device's new, verified ones."""
    result = codec.copy(signed.psbt)
    for scope in result.inputs:
        scope.partial_sigs = OrderedDict()
    for i, pubkey, sig in signed.signatures:
        result.inputs[i].partial_sigs[_pub(pubkey)] = sig
    for scope in result.inputs:
        scope.partial_sigs = OrderedDict(sorted(scope.partial_sigs.items(), key=lambda kv: kv[0].sec()))
    return result


def _pub(sec: bytes):
    from embit.ec import PublicKey

    return PublicKey.parse(sec)


@dataclass
class Responder:
    """The agent's handler for ``sign_request`` events (connection.Session calls it)."""

    store: PinStore
    user_id: int
    key: AgentKey
    factory: Callable[[str], devices.Factory]  # network -> the device factory
    say: Callable[[str], None] = print
    timeout: float = devices.DEFAULT_TIMEOUT
    clock: Callable[[], int] = field(default=lambda: int(time.time()))

    def __call__(self, data: dict, channel: Channel) -> None:
        ids = {"request_id": data.get("request_id"), "proposal_id": data.get("proposal_id")}
        try:
            request = SignRequest.parse(data)
            decision = decide(request, self.store, self.user_id, self.clock())
            self.say(f"Sign request for proposal {request.proposal_id} of {decision.wallet.name!r}: every check "
                     f"passed; approved by {len(decision.approved_by)} member(s)")
            # call, not emit: the server handles each socket event on its own thread, so only
            # waiting for the ack keeps the head and the steps before the result
            channel.call("head", signed_head(self.key, request.wallet_id, decision.head), timeout=STEP_ACK_TIMEOUT)
            psbt = self._sign(request, decision, channel)
        except HuddleError as err:
            self._refuse(channel, ids, err)
            return
        except Exception as err:  # noqa: BLE001 - a bug must still answer the server, and sign nothing
            self._refuse(channel, ids, InvalidInput("bad_sign_request", f"the agent could not check this "
                                                    f"request ({type(err).__name__}: {err}); nothing was signed"))
            return
        self._answer(channel, {**ids, "psbt": codec.to_base64(psbt)})

    def _refuse(self, channel: Channel, ids: dict, err: HuddleError) -> None:
        self.say(f"Refused the sign request for proposal {ids['proposal_id']}: {err.message} [{err.code}]")
        self._answer(channel, {**ids, "refused": {"code": err.code, "message": err.message}})

    def on_connect(self, channel: Channel) -> None:
        """Send the remembered head of every wallet pinned with a roster (DESIGN: signed heads);
        an agent new to a wallet sends seq 0, so a server that kept an earlier install's head
        sends it the whole chain."""
        try:
            heads = HeadStore(self.store)
            for wallet in self.store.all():
                _, head = heads.get(wallet)
                if wallet.wallet_id is not None and wallet.roster is not None:
                    # no head yet (seq 0): the server then sends the chain from its start
                    channel.emit("head", signed_head(self.key, wallet.wallet_id, head))
        except HuddleError as err:  # a damaged file here must not end the connection
            self.say(f"Could not send the remembered audit heads: {err.message} [{err.code}]")

    def _sign(self, request: SignRequest, decision: Decision, channel: Channel) -> codec.Psbt:
        wallet = decision.wallet
        fingerprint = self._fingerprint(request, wallet)
        device = devices.select(self.factory(wallet.network), fingerprint, devices.Worker(self.timeout))
        step = _Steps(channel, request)
        try:
            found = {"type": device.found.type[:40], "fingerprint": device.fingerprint.lower()}
            step("device_ready", device=found)
            signer = device
            if device.found.type == "ledger":  # registered once, HMAC kept (ledger.py)
                from . import ledger

                signer = ledger.signer_for(device, wallet, self.store.root)
            signed = signing.sign(request.psbt, wallet, signer, show=lambda summary: step("reviewing"),
                                  now=self.clock())
        except HuddleError as err:
            step("declined", f"{err.code}: {err.message}")
            raise
        finally:
            device.close()
        step("signed")
        self.store.saw_used(wallet, signing.used_indexes(signed))
        self.say(f"Signed {len(signed.signatures)} input(s) of proposal {request.proposal_id} "
                 f"with {device.fingerprint}")
        return only_new_signatures(signed)

    def _fingerprint(self, request: SignRequest, wallet) -> str:
        """The slot's device: the request's fingerprint if it is a cosigner, else the one connected cosigner."""
        if request.fingerprint is not None:
            signing.cosigner_position(wallet.descriptor, request.fingerprint)  # device_not_cosigner
            return request.fingerprint
        ours = {c.fingerprint for c in wallet.descriptor.cosigners}
        listing = self.factory(wallet.network).enumerate()
        present = sorted({d.fingerprint.lower() for d in listing.devices if d.fingerprint} & ours)
        if len(present) != 1:
            raise InvalidInput("device_ambiguous" if present else "device_not_found",
                               f"the request names no device, and {len(present)} connected device(s) are "
                               f"cosigners of {wallet.name!r}")
        return present[0]

    def _answer(self, channel: Channel, result: dict) -> None:
        ack = channel.call("sign_result", result)
        if isinstance(ack, dict) and isinstance(ack.get("error"), dict):
            self.say(f"The server did not take the result: {ack['error'].get('message')} "
                     f"[{ack['error'].get('code')}]")
        elif isinstance(ack, dict) and ack.get("ok"):
            self.say(f"The server took the result ({ack.get('added', 0)} signature(s) added)")


class _Steps:
    def __init__(self, channel: Channel, request: SignRequest) -> None:
        self.channel, self.request = channel, request

    def __call__(self, step: str, reason: str | None = None, device: dict | None = None) -> None:
        data = {"request_id": self.request.request_id, "proposal_id": self.request.proposal_id, "step": step}
        if reason is not None:
            data["reason"] = reason
        if device is not None:  # the server tells the room whether it is the member's slot
            data["device"] = device
        self.channel.call("sign_step", data, timeout=STEP_ACK_TIMEOUT)  # in order (see __call__ above)
