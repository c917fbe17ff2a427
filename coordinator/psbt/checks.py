"""The checks a signer runs on the server's PSBT before a device signs.

The signer agent runs exactly this code against the descriptor it pinned at
setup; the coordinator runs it too. The server may be malicious, so nothing
in the PSBT is believed until it is re-derived from the pinned descriptor or
hashed against the prevout. docs/signer-checks.md explains each check and
the attack it stops.

``check`` raises on the **first** failure (an ``InvalidInput`` with its own
code) in a fixed order, so one tampered field gives one code:

1. shape: parses, v0, has inputs and outputs, no coin twice (``malformed_psbt``); a
   transaction nodes relay: version 1 or 2 (``nonstandard_version``), an nLockTime not far
   ahead of the tip or the clock (``locktime_in_future``);
2. network of the descriptor, global xpubs and every BIP-32 coin type (``wrong_network``);
3. global xpubs are exactly the pinned cosigners (``xpub_mismatch``);
4. each input: both UTXO fields (``missing_utxo``); ``non_witness_utxo`` hashes to the
   prevout and its output equals ``witness_utxo`` byte for byte (``utxo_mismatch``);
   ``amount_too_large``; ``bad_sighash_type``; script, witness/redeem scripts and
   derivations re-derived at the claimed branch/index, and no taproot derivations
   (``foreign_input``);
5. each output: ``amount_too_large``, ``output_dust``, then change: any derivation, BIP-32
   or taproot, naming our fingerprints makes it claimed change (``change_foreign``,
   ``change_wrong_branch``, ``change_beyond_gap``);
6. fee from the verified amounts only, under the caps (``fee_too_high``, ``fee_rate_too_high``).

A PSBT stripped of what the checks need fails closed: no UTXO fields give
``missing_utxo``, no derivations or scripts give ``foreign_input``/``change_foreign``.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Iterable

from embit.bip32 import HDKey
from embit.networks import NETWORKS
from embit.psbt import PSBT, DerivationPath
from embit.script import p2wsh

from .. import networks
from ..errors import InvalidInput
from ..wallet.descriptor import CHANGE, RECEIVE, MultisigDescriptor
from ..wallet.keys import HARDENED, KeyOrigin
from . import codec
from .fees import DEFAULT_POLICY, FeePolicy
from .sighash import FINAL_SEQUENCE, LOCKTIME_THRESHOLD, unsigned_tx
from .model import MAX_MONEY
from .recipients import dust_limit
from .summary import Summary, estimate_vsize, fee_rate_sat_per_kvb, output_label

# Absent or SIGHASH_ALL. 0 (SIGHASH_DEFAULT) exists only for taproot (BIP-341); on a
# segwit v0 input a signer either appends 0x00, which Core's policy refuses
# (SCRIPT_VERIFY_STRICTENC: undefined hashtype), or signs ALL (Core, embit), which
# then mismatches the field so a BIP-174 finalizer must refuse it. merge refuses
# a 0x00 signature byte too (sighash.parse_signature).
ALLOWED_SIGHASH = frozenset({None, 1})
# Core relays versions 1 and 2 (and 3, TRUC, since v28 with extra topology rules
# a signer cannot check; older nodes drop it). Huddle builds version 2.
STANDARD_VERSIONS = frozenset({1, 2})
# How far ahead of the signer's synced tip (blocks) or clock (seconds) nLockTime may
# be: Core relays only final transactions (locktime below the next block's height or
# the tip's median time past); the slack, about two hours, covers a lagging tip.
LOCKTIME_SLACK_BLOCKS = 12
LOCKTIME_SLACK_SECONDS = 2 * 3600
_PUBLIC_VERSIONS = {
    is_test: frozenset(NETWORKS[net][kind] for kind in ("xpub", "ypub", "zpub", "Ypub", "Zpub"))
    for net, is_test in (("main", False), ("test", True))
}




def change_index_limit(last_used: int | None, gap_limit: int = 20) -> int:
    """Highest change index to accept, given the last one known used (None: none).
    A restoring wallet scans ``gap_limit`` (wallet.addresses.GAP_LIMIT) unused
    addresses past the last used one; change beyond that would look lost."""
    return (-1 if last_used is None else last_used) + gap_limit


def check(psbt: PSBT | bytes | str, descriptor: MultisigDescriptor, network: str, *,
          policy: FeePolicy = DEFAULT_POLICY, max_change_index: int, tip_height: int | None = None,
          now: int | None = None) -> Summary:
    """Verify the server's PSBT against the pinned descriptor; the summary to show.

    ``max_change_index`` is inclusive; use ``change_index_limit(last_used)``.
    ``tip_height``: the signer's synced tip, if known (judges a height nLockTime);
    ``now``: unix time for a time nLockTime (default: the clock).
    """
    _whole("max_change_index", max_change_index)  # see change_index_limit
    _whole("tip_height", tip_height, optional=True)
    _whole("now", now, optional=True)
    psbt = _load(psbt)
    network = networks.check(network)
    _check_shape(psbt)
    _check_relay(psbt, tip_height, int(time.time()) if now is None else now)
    _check_network(psbt, descriptor, network)
    _check_xpubs(psbt, descriptor)
    inputs_total = sum(_check_input(psbt, i, descriptor) for i in range(len(psbt.inputs)))
    if inputs_total > MAX_MONEY:
        raise InvalidInput("amount_too_large", f"the inputs add up to {inputs_total} sat, above MAX_MONEY")
    recipients, change = [], []
    for i, scope in enumerate(psbt.outputs):
        index = _check_output(scope, i, descriptor, max_change_index)
        label = output_label(scope.script_pubkey.data, network)
        if index is None:
            recipients.append((label, scope.value))
        else:
            change.append((label, scope.value, index))
    summary = _check_fee(psbt, descriptor, network, policy, inputs_total, recipients, change)
    return replace(summary, version=unsigned_tx(psbt).version, tip_height=tip_height)


def _whole(name: str, value: object, optional: bool = False) -> None:
    """A caller's mistake, not bad input: TypeError."""
    if (value is not None or not optional) and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(f"{name} is a whole number")


# -- shape and network ---------------------------------------------------------


def _load(psbt: PSBT | bytes | str) -> PSBT:
    """A fresh, strict parse (codec.py), so no in-memory object is shared or half-built."""
    if isinstance(psbt, PSBT):
        try:  # as our Psbt: embit's own writes tx version 0 as 2 and nSequence 0 as final
            raw = codec.copy(psbt).serialize()
        except codec.EMBIT_ERRORS:
            raise InvalidInput("malformed_psbt", "the PSBT does not serialize") from None
        return codec.parse(raw)
    return codec.parse(psbt)


def _check_shape(psbt: PSBT) -> None:
    if psbt.version not in (None, 0):
        raise InvalidInput("malformed_psbt", f"PSBT version {psbt.version}; signers take version 0")
    if not psbt.inputs or not psbt.outputs:
        raise InvalidInput("malformed_psbt", "the PSBT has no inputs or no outputs")
    outpoints = {(scope.txid, scope.vout) for scope in psbt.inputs}
    if len(outpoints) != len(psbt.inputs):
        raise InvalidInput("malformed_psbt", "the PSBT spends the same coin twice")


def _check_relay(psbt: PSBT, tip_height: int | None, now: int) -> None:
    """Refuse what Bitcoin Core would not relay: a non-standard version (policy.cpp
    IsStandardTx) or a locktime that stays non-final long after signing (IsFinalTx)."""
    tx = unsigned_tx(psbt)
    if tx.version not in STANDARD_VERSIONS:
        raise InvalidInput("nonstandard_version", f"transaction version {tx.version}: nodes relay "
                           "versions 1 and 2 here (version 3 only with TRUC rules); Huddle builds 2")
    locktime = tx.locktime
    if all(vin.sequence == FINAL_SEQUENCE for vin in tx.vin):
        return  # every input final: nLockTime is ignored (BIP-65, IsFinalTx)
    if locktime >= LOCKTIME_THRESHOLD and locktime > now + LOCKTIME_SLACK_SECONDS:
        raise InvalidInput("locktime_in_future", f"nLockTime {locktime} is a time {locktime - now} s from now; "
                           "nodes would not relay the spend until then", locktime=locktime)
    if locktime < LOCKTIME_THRESHOLD and tip_height is not None \
            and locktime > tip_height + LOCKTIME_SLACK_BLOCKS:
        raise InvalidInput("locktime_in_future", f"nLockTime is block {locktime}, {locktime - tip_height} "
                           f"blocks above the tip {tip_height}; nodes would not relay the spend until then",
                           locktime=locktime, tip_height=tip_height)


def _check_network(psbt: PSBT, descriptor: MultisigDescriptor, network: str) -> None:
    descriptor.check_network(network)
    is_test = networks.is_test(network)
    for key in psbt.xpubs:
        if key.version in _PUBLIC_VERSIONS[not is_test]:
            raise InvalidInput("wrong_network", f"a global xpub of the PSBT is not for {network}")
    for where, der in _derivations(psbt):
        if KeyOrigin(der.fingerprint, tuple(der.derivation)).coin_is_test() not in (None, is_test):
            raise InvalidInput("wrong_network", f"a BIP-32 path on {where} uses another network's coin type")


def _derivations(psbt: PSBT) -> Iterable[tuple[str, DerivationPath]]:
    yield from (("the global xpubs", der) for der in psbt.xpubs.values())
    for kind, scopes in (("input", psbt.inputs), ("output", psbt.outputs)):
        for i, scope in enumerate(scopes):
            yield from ((f"{kind} {i}", der) for der in _all_derivations(scope))


def _all_derivations(scope) -> list[DerivationPath]:
    """Every derivation of a scope, of any kind: BIP-32 and taproot (BIP-371)."""
    taproot = [der for _, der in scope.taproot_bip32_derivations.values()]
    return [*scope.bip32_derivations.values(), *taproot]


def _check_xpubs(psbt: PSBT, descriptor: MultisigDescriptor) -> None:
    want = {_xpub_id(HDKey.from_string(c.xpub), c.origin.fingerprint, c.origin.path)
            for c in descriptor.cosigners}
    got = {_xpub_id(key, der.fingerprint, der.derivation) for key, der in psbt.xpubs.items()}
    if got != want or len(psbt.xpubs) != len(want):
        raise InvalidInput(
            "xpub_mismatch",
            f"the PSBT's global xpubs are not the wallet's cosigners: {len(want - got)} missing, "
            f"{len(got - want)} unknown (key or origin)",
            missing=len(want - got), unknown=len(got - want),
        )
    canonical = NETWORKS["test" if descriptor.is_test else "main"]["xpub"]
    if any(key.version != canonical for key in psbt.xpubs):
        raise InvalidInput("xpub_mismatch", "a global xpub uses SLIP-132 version bytes, not xpub/tpub")


def _xpub_id(key: HDKey, fingerprint: bytes, path) -> tuple[bytes, bytes, tuple[int, ...]]:
    # Everything but the version bytes: depth, parent, child number, chain code, key.
    return key.serialize()[4:], bytes(fingerprint), tuple(path)


# -- inputs ----------------------------------------------------------------------


def _check_input(psbt: PSBT, i: int, descriptor: MultisigDescriptor) -> int:
    """The input's verified amount, after proving it is the wallet's coin."""
    scope = psbt.inputs[i]
    prev, claimed = scope.non_witness_utxo, scope.witness_utxo
    if prev is None or claimed is None:
        field = "non_witness_utxo" if prev is None else "witness_utxo"
        raise InvalidInput("missing_utxo", f"input {i} has no {field}; the server's PSBT must carry both",
                           input=i)
    if prev.txid() != scope.txid or scope.vout >= len(prev.vout):
        raise InvalidInput("utxo_mismatch", f"input {i}: non_witness_utxo is not the coin it spends", input=i)
    real = prev.vout[scope.vout]
    if real.serialize() != claimed.serialize():
        what = (f"{claimed.value} sat claimed, {real.value} sat real" if real.value != claimed.value
                else "its script differs")
        raise InvalidInput("utxo_mismatch", f"input {i}: witness_utxo disagrees with the previous "
                           f"transaction ({what})", input=i)
    if claimed.value > MAX_MONEY:
        raise InvalidInput("amount_too_large", f"input {i} is worth {claimed.value} sat, above MAX_MONEY")
    if scope.sighash_type not in ALLOWED_SIGHASH:
        raise InvalidInput("bad_sighash_type",
                           f"input {i} asks for sighash type {scope.sighash_type:#x}; only ALL is signed",
                           input=i)
    if scope.taproot_bip32_derivations:  # the wallet is P2WSH: such metadata can only mislead a device
        raise InvalidInput("foreign_input", f"input {i} carries taproot derivations; the wallet's coins "
                           "are not taproot", input=i)
    claims = _claims(scope, descriptor)
    if len(claims) != 1:
        raise InvalidInput("foreign_input", f"input {i} carries {'no' if not claims else 'conflicting'} "
                           "BIP-32 derivations for the wallet's keys; it cannot be shown to be ours", input=i)
    branch, index = claims.pop()
    wrong = _mismatch(scope, claimed.script_pubkey.data, descriptor, branch, index)
    if wrong:
        raise InvalidInput("foreign_input", f"input {i} is not the wallet's coin at {branch}/{index}: "
                           f"its {wrong} is missing or differs", input=i)
    return claimed.value


# -- derivations, shared by inputs and change -----------------------------------


def _claims(scope, descriptor: MultisigDescriptor) -> set[tuple[int, int]]:
    """The (branch, index) pairs the scope's derivations claim for our cosigners."""
    origins = {(c.origin.fingerprint, c.origin.path) for c in descriptor.cosigners}
    claims = set()
    for der in scope.bip32_derivations.values():
        path = tuple(der.derivation)
        if len(path) >= 2 and (der.fingerprint, path[:-2]) in origins:
            claims.add(path[-2:])
    return claims


def _mismatch(scope, script_pubkey: bytes, descriptor: MultisigDescriptor, branch, index) -> str | None:
    """What differs from the wallet at branch/index (None: nothing), all re-derived."""
    if branch not in (RECEIVE, CHANGE) or not 0 <= index < HARDENED:
        return "path"
    ws = descriptor.witness_script(branch, index)
    redeem = p2wsh(ws).data if descriptor.script_type == "sh-wsh" else None
    want = {c.child_pubkey(branch, index): (c.origin.fingerprint, (*c.origin.path, branch, index))
            for c in descriptor.cosigners}
    got = {pub.sec(): (der.fingerprint, tuple(der.derivation)) for pub, der in scope.bip32_derivations.items()}
    checks = (
        ("script", script_pubkey == descriptor.script_pubkey(branch, index).data),
        ("witness script", _data(scope.witness_script) == ws.data),
        ("redeem script", _data(scope.redeem_script) == redeem),
        ("BIP-32 derivations", got == want),
    )
    return next((name for name, ok in checks if not ok), None)


def is_change(scope, descriptor: MultisigDescriptor) -> bool:
    """Whether an output is the wallet's own script on the change branch, all re-derived.

    finalize uses it to apply the same fee caps (what is not change is paid out).
    """
    claims = _claims(scope, descriptor)
    if len(claims) != 1 or scope.taproot_bip32_derivations:
        return False
    branch, index = next(iter(claims))
    return branch == CHANGE and not _mismatch(scope, scope.script_pubkey.data, descriptor, branch, index)


def _data(script) -> bytes | None:
    return None if script is None else script.data


# -- outputs and fee -------------------------------------------------------------


def _check_output(scope, i: int, descriptor: MultisigDescriptor, max_change: int) -> int | None:
    """The change index if the output is verified change, None if external."""
    value, spk = scope.value, scope.script_pubkey.data
    if value > MAX_MONEY:
        raise InvalidInput("amount_too_large", f"output {i} pays {value} sat, above MAX_MONEY", output=i)
    if value < dust_limit(spk):
        raise InvalidInput("output_dust", f"output {i} pays {value} sat, below the dust limit "
                           f"of {dust_limit(spk)} sat", output=i)
    claims = _claims(scope, descriptor)
    ours = {c.origin.fingerprint for c in descriptor.cosigners}
    if not claims and not any(der.fingerprint in ours for der in _all_derivations(scope)):
        return None  # external: claims none of our keys (the device shows it as a payment too)
    # A taproot derivation naming our fingerprint is a claim too (devices show
    # such outputs as change); the wallet is P2WSH, so it cannot be ours.
    branch, index = claims.pop() if len(claims) == 1 and not scope.taproot_bip32_derivations \
        else (None, None)
    wrong = ("taproot derivations" if scope.taproot_bip32_derivations else "BIP-32 derivations") \
        if branch is None else _mismatch(scope, spk, descriptor, branch, index)
    if wrong:
        raise InvalidInput("change_foreign", f"output {i} claims the wallet's keys, but this is missing "
                           f"or not the wallet's: its {wrong}; it may pay someone else's keys", output=i)
    if branch != CHANGE:
        raise InvalidInput("change_wrong_branch", f"output {i} is change on the receive branch "
                           f"(0/{index}), not the change branch", output=i)
    if index > max_change:
        raise InvalidInput("change_beyond_gap", f"output {i} is change at index {index}, beyond "
                           f"the highest allowed {max_change}; a restored wallet might not find it",
                           output=i, index=index, max_change_index=max_change)
    return index


def _check_fee(psbt: PSBT, descriptor: MultisigDescriptor, network: str, policy: FeePolicy,
               inputs_total: int, recipients: list, change: list) -> Summary:
    outputs_total = sum(scope.value for scope in psbt.outputs)
    fee = inputs_total - outputs_total
    if fee < 0:
        raise InvalidInput("malformed_psbt", f"the outputs ({outputs_total} sat) exceed the "
                           f"inputs ({inputs_total} sat)")
    vsize = estimate_vsize(descriptor, len(psbt.inputs), [s.script_pubkey.data for s in psbt.outputs])
    # The same caps the coordinator builds with (fees.FeePolicy), so a spend
    # Huddle builds is never one its signers refuse.
    policy.check_fee(fee, vsize, sum(amount for _, amount in recipients))
    return Summary(network, tuple(recipients), tuple(change), fee, fee_rate_sat_per_kvb(fee, vsize), vsize,
                   inputs_total, len(psbt.inputs), psbt.locktime or 0)
