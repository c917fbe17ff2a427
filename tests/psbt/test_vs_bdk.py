"""Our merge and finalizer against an independent implementation: bdkpython.

BDK combines the signers' PSBTs itself (its own combiner, not our merge) and
finalizes with rust-miniscript, whose interpreter refuses an invalid
signature or one by the wrong key. Both must produce the same transaction.
"""

from __future__ import annotations

import random
import time

import bdkpython as bdk
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordinator.psbt import codec
from coordinator.psbt.build import Output, assemble
from coordinator.psbt.finalize import finalize
from coordinator.psbt.merge import merge

from .. import keys
from . import chain

SHAPES = [(2, 3), (3, 5)]


def _bdk_final(base_b64: str, signed: list[str]) -> bytes:
    """BDK's own combine + finalize + extract; fails unless BDK finds every input valid."""
    psbt = bdk.Psbt(base_b64)
    for other in signed:
        psbt = psbt.combine(bdk.Psbt(other))
    result = psbt.finalize()
    assert result.could_finalize, result.errors
    assert not result.errors
    return bytes(result.psbt.extract_tx_unchecked_fee_rate().serialize())


def _ours(d, base, signed: list) -> bytes:
    psbt = base
    for s in signed:
        psbt = merge(psbt, s, d).psbt
    return finalize(psbt, d).tx


def _random_spend(rng: random.Random):
    m, n = rng.choice(SHAPES)
    script_type = rng.choice(["wsh", "sh-wsh"])
    first = rng.randrange(0, 16 - n)
    d = keys.descriptor(m, n, script_type=script_type, first=first)
    n_in = rng.choice([1, 2, 3, rng.randint(1, 50)])
    amounts = [rng.randint(10_000, 5_000_000) for _ in range(n_in)]
    utxos = chain.fund(d, amounts, branch=rng.randint(0, 1), first_index=rng.randint(0, 10_000),
                       salt=rng.randbytes(8))
    total, fee = sum(amounts), rng.randint(500, 9_000)
    change, change_index = rng.randint(1_000, total - fee - 1_000), rng.randint(0, 50)
    outputs = [Output(bytes.fromhex("0014") + rng.randbytes(20), total - fee - change),
               Output(d.script_pubkey(1, change_index).data, change, change_index)]
    rng.shuffle(outputs)
    psbt = assemble(d, utxos, outputs, rng.randint(0, 900_000))
    # a threshold subset or more, in any order (test seeds first..first+n-1 are the cosigners)
    signers = rng.sample(range(first, first + n), rng.randint(m, n))
    return d, psbt, signers


def test_100_random_wallets_and_spends_match_bdk_byte_for_byte():
    rng, t0, seen, inputs = random.Random(20240501), time.perf_counter(), set(), []
    for _ in range(100):
        d, psbt, signers = _random_spend(rng)
        signed = [chain.sign(psbt, [s]) for s in signers]
        ours = _ours(d, psbt, [s.serialize() for s in signed])
        theirs = _bdk_final(codec.to_base64(psbt), [codec.to_base64(s) for s in signed])
        assert ours == theirs
        seen.add((d.threshold, d.n, d.script_type))
        inputs.append(len(psbt.inputs))
    assert max(inputs) > 40 and min(inputs) == 1
    assert seen == {(m, n, t) for m, n in SHAPES for t in ("wsh", "sh-wsh")}
    assert time.perf_counter() - t0 < 60, "keep this under a minute"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.sampled_from(SHAPES), script_type=st.sampled_from(["wsh", "sh-wsh"]),
       n_in=st.integers(1, 4), data=st.data())
def test_any_threshold_subset_finalizes_like_bdk(shape, script_type, n_in, data):
    m, n = shape
    d = keys.descriptor(m, n, script_type=script_type)
    psbt = _cached_spend(d, n_in)
    signers = data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=n, unique=True))
    signed = [_cached_sign(d, n_in, psbt, s) for s in signers]
    theirs = _bdk_final(codec.to_base64(psbt), [codec.to_base64(s) for s in signed])
    assert _ours(d, psbt, signed) == theirs


_SPENDS: dict = {}


def _cached_spend(d, n_in):
    key = (d, n_in)
    if key not in _SPENDS:
        utxos = chain.fund(d, [60_000 * (i + 1) for i in range(n_in)], salt=b"bdk")
        total = sum(60_000 * (i + 1) for i in range(n_in))  # a 5,000 sat fee: within the caps
        outputs = [Output(bytes.fromhex("0014" + "55" * 20), 50_000),
                   Output(d.script_pubkey(1, 3).data, total - 55_000, 3)]
        _SPENDS[key] = assemble(d, utxos, outputs, 850_000)
    return _SPENDS[key]


def _cached_sign(d, n_in, psbt, signer):
    key = (d, n_in, signer)
    if key not in _SPENDS:
        _SPENDS[key] = chain.sign(psbt, [signer])
    return _SPENDS[key]


def test_bdk_really_checks_signatures():
    """The cross-check means something only if BDK refuses what we refuse."""
    d = keys.descriptor(2, 3)
    psbt = _cached_spend(d, 2)
    signed = [chain.sign(psbt, [0]), chain.sign(psbt, [1])]
    pub, sig = next(iter(signed[1].inputs[0].partial_sigs.items()))
    signed[1].inputs[0].partial_sigs[pub] = sig[:8] + bytes([sig[8] ^ 1]) + sig[9:]
    combined = bdk.Psbt(codec.to_base64(signed[0])).combine(bdk.Psbt(codec.to_base64(signed[1])))
    assert not combined.finalize().could_finalize


def test_bdk_refuses_to_combine_different_transactions():
    d = keys.descriptor(2, 3)
    a, b = _cached_spend(d, 1), _cached_spend(d, 2)
    with pytest.raises(Exception):  # bdk raises its own PsbtError subclass
        bdk.Psbt(codec.to_base64(a)).combine(bdk.Psbt(codec.to_base64(b)))
