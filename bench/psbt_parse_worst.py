"""Hostile PSBTs up to the 8 MiB cap through the real command line: peak memory and time.

    .venv/bin/python bench/psbt_parse_worst.py [--only NAME]

Each case is written to a file and run as `huddle psbt inspect FILE`,
`huddle psbt inspect FILE --wallet DESC` and `huddle psbt combine` (with the
hostile file first and second), each in its own process under /usr/bin/time,
which reports the process's peak resident memory (interpreter and imports
included, about 30 MB). An honest 100-input 2-of-3 PSBT is measured beside them.
Goal (issue 8): every case under 256 MB. Refusals are expected: the point is
what they cost.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coordinator.psbt.build import Output, assemble  # noqa: E402
from tests import keys  # noqa: E402
from tests.psbt import chain  # noqa: E402
from tests.psbt import hostile as h  # noqa: E402

CAP = 8 * 1024 * 1024
GOAL_MB = 256
CASES = {  # name -> builder, each as large as fits under the cap
    "830,000 empty outputs (issue 8)": lambda: h.empty_outputs(830_000),
    "190,000 empty inputs (issue 8)": lambda: h.empty_inputs(190_000),
    "11,111 outputs, the standard cap": lambda: h.empty_outputs(11_111),
    "2,439 inputs, the standard cap": lambda: h.empty_inputs(2_439),
    "1.4M unknown pairs in one map": lambda: h.many_unknowns((CAP - 200) // 6),
    "100,000 unknown pairs, the cap": lambda: h.many_unknowns(99_990),
    "8 prev txs of 111,000 outputs": lambda: h.big_prev_txs(8, 111_000),
    "190,000 derivations in one input": lambda: h.many_derivations((CAP - 200) // 44),
    "99,990 derivations, under the cap": lambda: h.many_derivations(99_990),
    "a witness of 8M items": lambda: h.huge_witness(CAP - 300),
}


def honest(n_in: int = 100) -> tuple[bytes, str]:
    d = keys.descriptor(2, 3)
    utxos = chain.fund(d, [50_000 + i for i in range(n_in)], salt=b"worst")
    pay = sum(u.value for u in utxos) - 1_000 * n_in  # about 10 sat/vB
    psbt = assemble(d, utxos, [Output(bytes.fromhex("0014" + "22" * 20), pay)], 800_000)
    return chain.sign(psbt, [0]).serialize(), d.to_string()


def run(args: list[str]) -> tuple[float, float, str]:
    """Peak RSS in MB, wall seconds and the last line of output of `huddle ARGS`."""
    env = dict(os.environ, HUDDLE_NETWORK="regtest")
    with tempfile.NamedTemporaryFile("r") as timing:
        proc = subprocess.run(["/usr/bin/time", "-o", timing.name, "-f", "%M %e",
                               str(ROOT / ".venv" / "bin" / "huddle"), *args],
                              capture_output=True, text=True, env=env, cwd=ROOT)
        rss_kb, wall = timing.read().split()[-2:]
    lines = (proc.stderr.strip() or proc.stdout.strip() or "(no output)").splitlines()
    return int(rss_kb) / 1024, float(wall), lines[-1][:70]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only the cases whose name contains this")
    args = parser.parse_args()
    good, desc = honest()
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        good_file = Path(tmp, "honest.psbt")
        good_file.write_bytes(good)
        cases = {"honest 100-input 2-of-3": lambda: good, **CASES}
        print(f"{'case':<36} {'bytes':>9} {'command':<26} {'peak MB':>8} {'s':>6}  outcome")
        for name, build in cases.items():
            if args.only and args.only not in name:
                continue
            path = Path(tmp, "case.psbt")
            path.write_bytes(raw := build())
            wallet = ["--wallet", desc]
            commands = {"inspect": ["psbt", "inspect", str(path)],
                        "inspect --wallet": ["psbt", "inspect", str(path), *wallet],
                        "combine honest+case": ["psbt", "combine", str(good_file), str(path), *wallet],
                        "combine case+honest": ["psbt", "combine", str(path), str(good_file), *wallet]}
            for label, command in commands.items():
                mb, wall, outcome = run(command)
                worst = max(worst, mb)
                print(f"{name:<36} {len(raw):>9} {label:<26} {mb:>8.1f} {wall:>6.2f}  {outcome}", flush=True)
    verdict = "meets" if worst < GOAL_MB else "MISSES"
    print(f"worst peak {worst:.1f} MB: {verdict} the goal of {GOAL_MB} MB per process")


if __name__ == "__main__":
    main()
