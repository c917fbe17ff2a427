"""How long ``huddle --help`` takes to start, beside a bare Python start.

Runs, alternating in the same loop so that machine load hits both alike:

- ``huddle --help`` (the installed console script, next to this Python);
- ``huddle wallet list --help`` (a subcommand's help);
- ``python -c pass`` (the same interpreter doing nothing);

each under ``/usr/bin/time`` (wall, user and system seconds, 10 ms
resolution), and prints medians and the ratio to the bare start. Where
``/usr/bin/time`` is missing (``apt install time``), the wall time comes from
``time.perf_counter`` around the run instead, and the output says so.

Goal (issue 8): ``huddle --help`` under 0.15 s wall on the development machine.

    python bench/cli_start.py [--runs 21]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_S = 0.15
TIME = "/usr/bin/time"
HUDDLE = Path(sys.executable).parent / "huddle"
CASES = {
    "huddle --help": [str(HUDDLE), "--help"],
    "huddle wallet list --help": [str(HUDDLE), "wallet", "list", "--help"],
    "python -c pass": [sys.executable, "-c", "pass"],
}


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall, user, sys) seconds of one run."""
    if not shutil.which(TIME):
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start, float("nan"), float("nan")
    with tempfile.NamedTemporaryFile("r") as out:
        subprocess.run([TIME, "-f", "%e %U %S", "-o", out.name, *argv], env=env,
                       stdout=subprocess.DEVNULL, check=True)
        wall, user, system = out.read().split()[-3:]
    return float(wall), float(user), float(system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    if not HUDDLE.exists():
        sys.exit(f"no huddle console script next to {sys.executable}; run `pip install -e .`")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
    for argv in CASES.values():  # warm the page cache and __pycache__ first
        timed(argv, env)
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in CASES}
    for _ in range(args.runs):
        for name, argv in CASES.items():
            runs[name].append(timed(argv, env))
    clock = TIME if shutil.which(TIME) else "time.perf_counter (no /usr/bin/time)"
    print(f"{args.runs} runs each, alternating; wall clock from {clock}; load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    bare = statistics.median(r[0] for r in runs["python -c pass"])
    print(f"{'command':<28} {'wall median':>11} {'wall min':>9} {'user':>6} {'sys':>6} {'x bare':>7}")
    for name, rows in runs.items():
        wall = statistics.median(r[0] for r in rows)
        print(f"{name:<28} {wall:>10.3f}s {min(r[0] for r in rows):>8.3f}s"
              f" {statistics.median(r[1] for r in rows):>5.2f}s {statistics.median(r[2] for r in rows):>5.2f}s"
              f" {wall / bare:>6.1f}x")
    helped = statistics.median(r[0] for r in runs["huddle --help"])
    print(f"goal: huddle --help under {GOAL_S:.2f} s wall: {'met' if helped < GOAL_S else 'NOT met'}"
          f" ({helped:.3f} s median)")


if __name__ == "__main__":
    main()
