"""PSBT pipeline benchmark: build, merge each signer's PSBT (with signature
verification), finalize — Huddle beside bdkpython's combine+finalize on the
same PSBTs, in the same run.

    .venv/bin/python bench/psbt_pipeline.py [--repeat 5] [--sizes 1,10,100,500]

Prints medians over --repeat rounds (more for small PSBTs). Signing (the
devices' job) is not timed; both sides start from the serialized PSBTs.
Before each Huddle run its caches are emptied, except what a running
coordinator keeps about its wallets (WALLET_CACHES); the bench's own fixtures
are frozen out of the garbage collector's way (what the runs allocate is not). Goal (issue 8): 500-input 3-of-5
merge+verify+finalize in at most 0.3 s, and no slower than bdkpython at any
size (ratio at most 1.00x).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bdkpython as bdk  # noqa: E402

from coordinator.psbt import codec  # noqa: E402
from coordinator.psbt.finalize import finalize  # noqa: E402
from coordinator.psbt.merge import merge  # noqa: E402
from coordinator.psbt.model import Recipient  # noqa: E402
from coordinator.psbt.spend import plan_spend  # noqa: E402
from tests import keys  # noqa: E402
from tests.psbt import chain  # noqa: E402

NETWORK = "regtest"
PAYEE = "bcrt1qyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zs4w3j0"


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def cpu_timed(fn) -> tuple[float, float, object]:
    """Wall and CPU seconds (CPU: this process, so it says what load on the machine hides)."""
    cpu = time.process_time()
    wall, result = timed(fn)
    return wall, time.process_time() - cpu, result


# What a running coordinator knows about its wallets stays warm: derived child keys,
# scripts and parsed xpubs. Everything else (signature checks, previous
# transactions) is forgotten before each run, so each run does all its own work.
WALLET_CACHES = {"_derive", "_xpub_fields"}


def clear_caches() -> None:
    """Forget every memo in coordinator.psbt but the wallet's own (WALLET_CACHES)."""
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("coordinator.psbt"):
            for name, value in list(vars(module).items()):
                if callable(getattr(value, "cache_clear", None)) and name not in WALLET_CACHES:
                    value.cache_clear()


def rounds_for(inputs: int, repeat: int) -> int:
    """More rounds for small PSBTs: one millisecond-long run is at the mercy of the scheduler."""
    return max(repeat, min(200, 1_000 // inputs))


def one_size(m: int, n: int, inputs: int, rounds: int) -> dict[str, list[float]]:
    """Times of each side over ``rounds`` rounds, Huddle and bdk back to back in each."""
    desc = keys.descriptor(m, n, True, "wsh")
    utxos = chain.fund(desc, [50_000 + i for i in range(inputs)], salt=f"{m}{n}{inputs}".encode())
    total = sum(u.value for u in utxos)

    def build():
        return plan_spend(desc, NETWORK, utxos, [Recipient(PAYEE, total // 2)], 2_000, 0, 800_000, coins=utxos)

    spend = build()
    unsigned = spend.psbt.serialize()
    signed = [chain.sign(spend.psbt, [i]).serialize() for i in range(m)]  # the devices' part
    b64 = [codec.to_base64(codec.parse(raw)) for raw in signed]

    def ours():
        stored = codec.parse(unsigned)
        for raw in signed:
            stored = merge(stored, raw, desc).psbt
        return finalize(stored, desc).tx

    def theirs():
        psbt = bdk.Psbt(b64[0])
        for other in b64[1:]:
            psbt = psbt.combine(bdk.Psbt(other))
        result = psbt.finalize()
        if not result.could_finalize:
            raise RuntimeError(f"bdk could not finalize: {result.errors}")
        return bytes(result.psbt.extract_tx().serialize())

    times: dict[str, list[float]] = {"build": [], "huddle": [], "huddle_cpu": [], "bdk": []}
    gc.collect()
    gc.freeze()  # the bench's own fixtures are not the work: keep the collector off them
    for r in range(rounds):
        times["build"].append(timed(build)[0])
        order = [("huddle", ours), ("bdk", theirs)]
        results = {}
        for name, fn in order if r % 2 else order[::-1]:  # alternate who goes first
            clear_caches()  # untimed
            elapsed, cpu, results[name] = cpu_timed(fn)
            times[name].append(elapsed)
            if name == "huddle":
                times["huddle_cpu"].append(cpu)
        if results["huddle"] != results["bdk"]:
            raise RuntimeError("Huddle and bdkpython produced different transactions")
    gc.unfreeze()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds at least (more for small sizes)")
    parser.add_argument("--sizes", default="1,10,100,500")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'wallet':<7} {'inputs':>6} {'rounds':>6} {'build s':>9} {'huddle merge+verify+finalize s':>31} "
          f"{'(cpu s)':>8} {'bdk combine+finalize s':>23} {'ratio':>6}")
    worst_ratio, big = 0.0, None
    for m, n in ((2, 3), (3, 5)):
        for size in sizes:
            rounds = rounds_for(size, args.repeat)
            med = {k: statistics.median(v) for k, v in one_size(m, n, size, rounds).items()}
            ratio = med["huddle"] / med["bdk"]
            worst_ratio = max(worst_ratio, ratio)
            if (m, n, size) == (3, 5, 500):
                big = med["huddle"]
            print(f"{m}-of-{n:<3} {size:>6} {rounds:>6} {med['build']:>9.4f} {med['huddle']:>31.4f} "
                  f"{med['huddle_cpu']:>8.4f} {med['bdk']:>23.4f} {ratio:>5.2f}x", flush=True)
    load = os.getloadavg()[0]
    print(f"(medians; identical final transactions checked in every round; load average {load:.2f} "
          f"on {os.cpu_count()} CPUs)")
    if big is not None:
        print(f"goal 500-input 3-of-5 <= 0.3 s: {'met' if big <= 0.3 else 'MISSED'} ({big:.3f} s)")
    print(f"goal no slower than bdk at any size: {'met' if worst_ratio <= 1.0 else 'MISSED'} "
          f"(worst ratio {worst_ratio:.2f}x)")


if __name__ == "__main__":
    main()
