"""Signing with a device, for a wallet the agent pinned: check, show, sign, check again.

1. ``review``: the PSBT engine's signer checks (psbt/checks.py) against the
   **pinned** descriptor and network. A descriptor that came with the request
   (from a server) is only compared with the pinned one, never used. Any failure
   refuses with its code *before the device is called*.
2. The caller shows the human summary (psbt/summary.py); the device shows its own.
3. ``accept``: what the device returns is believed in nothing. Apart from
   ``partial_sigs`` it must equal what was sent (``device_changed_psbt``); every
   signature is verified by merge's own code (``take_signatures``: ``foreign_key``,
   ``invalid_signature``), and each must be by this device's cosigner. The result
   is the PSBT we sent plus those signatures, so nothing else of the device's
   output survives.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Protocol

from embit.psbt import PSBT

from ..errors import Conflict, InvalidInput
from ..psbt import codec
from ..psbt.checks import check
from ..psbt.merge import take_signatures
from ..psbt.status import wallet_inputs
from ..psbt.summary import Summary
from ..wallet.descriptor import CHANGE, RECEIVE, MultisigDescriptor
from ..wallet.keys import HARDENED


class Pinned(Protocol):
    name: str
    network: str
    descriptor: MultisigDescriptor

    def max_change_index(self) -> int: ...


class Signer(Protocol):
    fingerprint: str

    def sign(self, psbt_base64: str) -> str: ...


@dataclass(frozen=True)
class Signed:
    psbt: codec.Psbt  # what was sent, plus this device's verified new signatures only
    summary: Summary
    signatures: tuple[tuple[int, bytes, bytes], ...]  # (input, pubkey, signature), each verified


def review(psbt: PSBT | bytes | str, wallet: Pinned, server_descriptor: str | None = None,
           now: int | None = None) -> Summary:
    """The signer checks against the pinned wallet; raises with the reason, or the summary."""
    if server_descriptor is not None:
        same_as_pinned(server_descriptor, wallet)
    return check(psbt, wallet.descriptor, wallet.network, max_change_index=wallet.max_change_index(), now=now)


def same_as_pinned(text: str, wallet: Pinned) -> None:
    """``descriptor_mismatch`` unless ``text`` is the pinned wallet (same policy, same key origins)."""
    try:
        theirs = MultisigDescriptor.from_string(text.strip())
    except InvalidInput as err:
        raise InvalidInput("descriptor_mismatch", f"the descriptor sent is not the pinned wallet "
                           f"{wallet.name!r}: {err.message}") from None
    if theirs.policy_id != wallet.descriptor.policy_id or _origins(theirs) != _origins(wallet.descriptor):
        raise InvalidInput("descriptor_mismatch", f"the descriptor sent (policy {theirs.policy_id}) differs "
                           f"from the one pinned for {wallet.name!r} (policy {wallet.descriptor.policy_id}); "
                           "nothing was signed")


def _origins(descriptor: MultisigDescriptor) -> list[str]:
    return sorted(c.key_expression() for c in descriptor.cosigners)


def sign(psbt: PSBT | bytes | str, wallet: Pinned, device: Signer, *,
         show: Callable[[Summary], None] = lambda summary: None, server_descriptor: str | None = None,
         now: int | None = None) -> Signed:
    """Review, show, let the device sign, and keep only its verified signatures."""
    summary = review(psbt, wallet, server_descriptor, now)
    cosigner_position(wallet.descriptor, device.fingerprint)
    sent = codec.parse(codec.serialize(psbt) if isinstance(psbt, PSBT) else psbt)
    show(summary)
    returned = device.sign(codec.to_base64(sent))
    return accept(sent, returned, wallet.descriptor, device.fingerprint, summary)


def cosigner_position(descriptor: MultisigDescriptor, fingerprint: str) -> int:
    for position, cosigner in enumerate(descriptor.cosigners):
        if cosigner.fingerprint == fingerprint.lower():
            return position
    raise InvalidInput("device_not_cosigner", f"the device {fingerprint} is not a cosigner of this wallet "
                       f"({', '.join(c.fingerprint for c in descriptor.cosigners)}); with a passphrase, "
                       "check that it is the one used at setup")


def accept(sent: PSBT, returned: bytes | str, descriptor: MultisigDescriptor, fingerprint: str,
           summary: Summary) -> Signed:
    """``sent`` plus the device's new signatures, once everything about them is checked."""
    theirs = codec.parse(returned)
    if _without_signatures(theirs) != _without_signatures(sent):
        raise InvalidInput("device_changed_psbt", "the device changed the PSBT beyond adding signatures; "
                           "nothing of it was kept")
    inputs = dict(enumerate(wallet_inputs(sent, descriptor)))
    position = cosigner_position(descriptor, fingerprint)
    taken = take_signatures(sent, theirs, inputs)  # merge's verifier: foreign_key, invalid_signature
    result, new = codec.copy(sent), []
    for i, pub, sig, _ in taken:
        if inputs[i].cosigner(pub.sec()) != position:
            raise InvalidInput("foreign_key", f"input {i}: the device returned a signature by another "
                               f"cosigner ({pub.sec().hex()}); nothing was kept")
        result.inputs[i].partial_sigs[pub] = sig
        new.append((i, pub.sec(), sig))
    if not new:
        raise Conflict("device_signed_nothing", "the device returned no new signature of its own")
    for scope in result.inputs:
        scope.partial_sigs = OrderedDict(sorted(scope.partial_sigs.items(), key=lambda kv: kv[0].sec()))
    return Signed(result, summary, tuple(new))


def used_indexes(signed: Signed) -> list[tuple[int, int]]:
    """(branch, index) pairs this spend shows in use: its inputs (their derivations were
    re-derived by the checks) and its verified change; they move the gap windows on."""
    used = [(CHANGE, index) for _, _, index in signed.summary.change]
    for scope in signed.psbt.inputs:
        for der in scope.bip32_derivations.values():
            if len(der.derivation) >= 2 and der.derivation[-2] in (RECEIVE, CHANGE) \
                    and der.derivation[-1] < HARDENED:
                used.append((der.derivation[-2], der.derivation[-1]))
    return sorted(set(used))


def _without_signatures(psbt: PSBT) -> bytes:
    """The PSBT's bytes without partial_sigs, its maps in key order: BIP-174 gives
    map order no meaning, and HWI's PSBT class re-sorts derivations."""
    bare = codec.copy(psbt)
    bare.xpubs, bare.unknown = _sorted(bare.xpubs), _sorted(bare.unknown)
    for scope in [*bare.inputs, *bare.outputs]:
        scope.bip32_derivations, scope.unknown = _sorted(scope.bip32_derivations), _sorted(scope.unknown)
    for scope in bare.inputs:
        scope.partial_sigs = OrderedDict()
    return codec.serialize(bare)


def _sorted(pairs) -> OrderedDict:
    return OrderedDict(sorted(pairs.items(), key=lambda kv: kv[0] if isinstance(kv[0], bytes)
                              else kv[0].serialize()))
