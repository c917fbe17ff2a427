"""Peak memory and time of the QR decoder on the worst frames we can build,
beside an honest 100-input PSBT (issue 8).

Every case is a list of frame strings, written to a file and decoded in a
fresh subprocess by ``StreamDecoder``, frame by frame, going on past refused
frames as the server will (``huddle qr decode`` stops at the first). The child
reports the median time of --runs decodes, the tracemalloc peak of one more,
and its peak resident set (VmHWM: interpreter and imports included; the baseline, Huddle's
QR core imported and nothing decoded, is printed first). Time is also given
per MB of frames. Goal: peak under 64 MB and under 2 s for any 1 MB of frames.

    PYTHONPATH=. python bench/qr_decode_worst.py [--runs 3] [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cbor2  # noqa: E402

from coordinator.qr import bbqr  # noqa: E402
from coordinator.qr.chooser import mix_degree  # noqa: E402
from coordinator.qr.errors import BadPart  # noqa: E402
from coordinator.qr.fountain import FountainPart  # noqa: E402
from coordinator.qr.stream import MAX_FRAME_LEN, StreamDecoder  # noqa: E402
from coordinator.qr.ur import UREncoder, encoder_for_psbt  # noqa: E402
from tests.qr.hostile_frames import (  # noqa: E402
    deflate_bomb, degree_attack, high_degree_seq_nums, pair_chain_attack, ur_frame)
from tests.qr.psbt_samples import build_psbt  # noqa: E402

MB = 1_000_000
GOAL_PEAK_MB, GOAL_SECONDS_PER_MB = 64, 2.0


def _fill(make_batch, size: int = MB) -> list[str]:
    """Repeat batches of frames until they hold ``size`` characters."""
    frames: list[str] = []
    while sum(map(len, frames)) < size:
        frames += make_batch(len(frames))
    return frames


def honest_ur(inputs: int = 100, fragment_len: int = 200, loss: float = 0.2) -> list[str]:
    """The frames a camera that misses ``loss`` of them reads until complete."""
    encoder, decoder = encoder_for_psbt(build_psbt(inputs), fragment_len), StreamDecoder()
    rng, received = random.Random(8), []
    while not decoder.complete:
        frame = encoder.next_part()
        if rng.random() >= loss:
            decoder.receive(frame)
            received.append(frame)
    return received


def dense_mixes(seq_len: int = 10_000, fragment_len: int = 200) -> list[str]:
    """Honest-sized frames (a 2 MB message in 200-byte fragments), each
    mixing at least half the fragments."""
    checksum, data = 0xD15EA5E, bytes(range(200)) * (fragment_len // 200 + 1)
    seq_nums = high_degree_seq_nums(seq_len, checksum, seq_len // 2)
    return _fill(lambda _: [ur_frame(FountainPart(next(seq_nums), seq_len, seq_len * fragment_len,
                                                  checksum, data[:fragment_len]))])


def maximal_honest(loss: float = 0.2) -> list[str]:
    """A 2 MiB message in the largest fragments a QR code holds, 20% lost."""
    message = b"psbt\xff" + random.Random(3).randbytes(2 * 1024 * 1024 - 16)
    encoder = UREncoder("crypto-psbt", cbor2.dumps(message), 3_400)
    decoder, rng, received = StreamDecoder(), random.Random(5), []
    while not decoder.complete:
        frame = encoder.next_part()
        assert len(frame) <= MAX_FRAME_LEN
        if rng.random() >= loss:
            decoder.receive(frame)
            received.append(frame)
    return received


def interleaved(messages: int = 50) -> list[str]:
    """Fifty different URs, round robin: all but the first are refused."""
    encoders = [UREncoder("bytes", cbor2.dumps(random.Random(m).randbytes(20_000)), 200)
                for m in range(messages)]
    return _fill(lambda _: [e.next_part() for e in encoders])


def stale_mixes(seq_len: int = 10_000) -> list[str]:
    """Half the plain fragments, then 1 MB of mixes of only those: each
    costs a draw and XORs, and adds nothing."""
    checksum = 0xC0FFEE
    plain = [ur_frame(FountainPart(s, seq_len, seq_len, checksum, b"\x01"))
             for s in range(1, seq_len // 2 + 1)]
    low = (s for s in range(seq_len + 1, 10**9) if mix_degree(s, seq_len, checksum) <= 64)
    return plain + _fill(lambda _: [ur_frame(FountainPart(next(low), seq_len, seq_len, checksum,
                                                          b"\x01")) for _ in range(100)])


def bombs() -> list[str]:
    """BBQr Z series that inflate past the limit, over and over."""
    series = deflate_bomb(8 * MB)
    return _fill(lambda _: series)


CASES = {
    "issue 8: 2,000 frames, degree >= 5,000": lambda: degree_attack(2_000),
    "degree attack, 1 MB": lambda: degree_attack(14_500),
    "dense mixes in 200 B fragments": dense_mixes,
    "degree-2 mixes then plain (cascades)": lambda: pair_chain_attack(13_000),
    "stale mixes of known fragments": stale_mixes,
    "50 URs interleaved": interleaved,
    "BBQr zip bombs (8 MB each)": bombs,
    "maximal honest: 2 MiB, 3.4 KB fragments": maximal_honest,
    "honest 100-input PSBT, UR medium, 20% loss": honest_ur,
    "honest 100-input PSBT, BBQr medium": lambda: list(bbqr.serialize(
        build_psbt(100), max_version=11).parts),
}


def decode_all(frames: list[str]) -> tuple[bool, int]:
    decoder, refused = StreamDecoder(), 0
    for frame in frames:
        try:
            decoder.receive(frame)
        except BadPart:
            refused += 1
        if decoder.complete:
            break
    return decoder.complete, refused


def peak_rss() -> int:
    """This process's peak resident set in bytes. Linux's VmHWM, because
    ru_maxrss carries the parent's peak across exec (vfork shares its memory)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(path: str, runs: int) -> None:
    frames = Path(path).read_text().split("\n")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        complete, refused = decode_all(frames)
        times.append(time.perf_counter() - start)
    maxrss = peak_rss()  # before tracemalloc adds its own
    tracemalloc.start()
    decode_all(frames)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"seconds": statistics.median(times), "traced": peak,
                      "maxrss": maxrss,
                      "complete": complete, "refused": refused}))


def measure(frames: list[str], runs: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as out:
        out.write("\n".join(frames))
    result = subprocess.run([sys.executable, __file__, "--child", out.name, "--runs", str(runs)],
                            capture_output=True, text=True, check=True)
    Path(out.name).unlink()
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", help="run the cases whose name contains this")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.runs)
    base = measure([], 1)
    print(f"baseline peak RSS (QR core imported, nothing decoded): {base['maxrss'] / MB:.1f} MB")
    print(f"{'case':44} {'frames':>6} {'MB':>5} {'s':>6} {'s/MB':>5} {'traced MB':>9} "
          f"{'RSS MB':>9} {'refused':>7} {'done':>4}")
    worst_rate = worst_peak = 0.0
    for name, make in CASES.items():
        if args.only and args.only not in name:
            continue
        frames = make()
        size = sum(map(len, frames)) / MB
        r = measure(frames, args.runs)
        rate = r["seconds"] / max(size, 1.0)  # a case under 1 MB is judged as 1 MB
        worst_rate, worst_peak = max(worst_rate, rate), max(worst_peak, r["maxrss"] / MB)
        print(f"{name:44} {len(frames):>6} {size:>5.2f} {r['seconds']:>6.2f} {rate:>5.2f} "
              f"{r['traced'] / MB:>9.1f} {r['maxrss'] / MB:>9.1f} {r['refused']:>7} "
              f"{'yes' if r['complete'] else 'no':>4}")
    verdict = "MET" if worst_rate < GOAL_SECONDS_PER_MB and worst_peak < GOAL_PEAK_MB else "MISSED"
    print(f"\ngoal: peak < {GOAL_PEAK_MB} MB and < {GOAL_SECONDS_PER_MB:g} s per MB of frames: "
          f"worst {worst_peak:.1f} MB, {worst_rate:.2f} s/MB -> {verdict}")


if __name__ == "__main__":
    main()
