"""Which fragments a multipart UR part mixes (BCR-2024-001, "Fountain Codes").

Encoder and decoder both derive the fragment set from the part's sequence
number and the message checksum, so nothing but those two travels with a
mixed part. Every step here must draw from the generator in the same order as
the reference implementations.
"""

from __future__ import annotations

from bisect import insort
from functools import lru_cache

from .xoshiro import Xoshiro256

_MASK = (1 << 64) - 1


class RandomSampler:
    """Walker-Vose alias sampler over a discrete distribution.

    BCR-2024-001 builds the small/large index lists in reverse index order
    (unlike Schwarz's description); the tables, and so every sample, depend
    on that.
    """

    def __init__(self, weights: list[float]) -> None:
        if not weights or any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError("weights must be non-negative with a positive sum")
        n = len(weights)
        total = sum(weights)
        scaled = [w * n / total for w in weights]
        small = [i for i in reversed(range(n)) if scaled[i] < 1]
        large = [i for i in reversed(range(n)) if scaled[i] >= 1]
        self.probs = [0.0] * n
        self.aliases = [0] * n
        while small and large:
            a, g = small.pop(), large.pop()
            self.probs[a] = scaled[a]
            self.aliases[a] = g
            scaled[g] += scaled[a] - 1
            (small if scaled[g] < 1 else large).append(g)
        # Whatever is left is 1 up to rounding.
        for i in large + small:
            self.probs[i] = 1.0

    def next(self, rng: Xoshiro256) -> int:
        r1, r2 = rng.next_double(), rng.next_double()
        i = int(len(self.probs) * r1)
        return i if r2 < self.probs[i] else self.aliases[i]


@lru_cache(maxsize=16)
def _degree_sampler(seq_len: int) -> RandomSampler:
    # The degree d is drawn with weight 1/d (BCR-2024-001 "choose_degree").
    return RandomSampler([1 / d for d in range(1, seq_len + 1)])


def choose_degree(seq_len: int, rng: Xoshiro256) -> int:
    return _degree_sampler(seq_len).next(rng) + 1


def shuffled(items: list, rng: Xoshiro256, count: int | None = None) -> list:
    """The first ``count`` items (default all) in the reference shuffle order."""
    remaining = list(items)
    result: list = []
    count = len(remaining) if count is None else count
    while len(result) < count:
        result.append(remaining.pop(rng.next_int(0, len(remaining) - 1)))
    return result


def _seeded(seq_num: int, checksum: int) -> Xoshiro256:
    return Xoshiro256.from_seed(seq_num.to_bytes(4, "big") + checksum.to_bytes(4, "big"))


def mix_degree(seq_num: int, seq_len: int, checksum: int) -> int:
    """How many fragments part ``seq_num`` mixes, without drawing which:
    two draws, so a decoder can price a part before paying for it."""
    if seq_num <= seq_len:
        return 1
    return choose_degree(seq_len, _seeded(seq_num, checksum))


def fragment_indexes(seq_num: int, seq_len: int, checksum: int) -> list[int]:
    """The 0-based fragment indexes mixed into part ``seq_num``, in draw order."""
    # The first seq_len parts are the plain fragments, in order.
    if seq_num <= seq_len:
        return [seq_num - 1]
    rng = _seeded(seq_num, checksum)
    degree = choose_degree(seq_len, rng)
    return _draw(rng, seq_len, degree)


def _draw(rng: Xoshiro256, seq_len: int, count: int) -> list[int]:
    """``shuffled(range(seq_len), rng, count)`` with xoshiro256** inlined:
    the same draws, about four times faster, as one step per index is the
    decoder's main cost on high-degree parts."""
    s0, s1, s2, s3 = rng.s
    mask = _MASK
    small = is_small_draw(seq_len, count)
    # A small draw finds the k-th value not yet taken among the few taken,
    # instead of building the seq_len-long list the reference pops from.
    remaining = [] if small else list(range(seq_len))
    taken: list[int] = []
    chosen = []
    for left in range(seq_len, seq_len - count, -1):
        x = (s1 * 5) & mask
        result = ((((x << 7) | (x >> 57)) & mask) * 9) & mask
        t = (s1 << 17) & mask
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & mask
        # next_int(0, left - 1): next_double() * left, truncated
        k = int(result / 18446744073709551616.0 * left)
        if small:
            for value in taken:  # ascending
                if value > k:
                    break
                k += 1
            insort(taken, k)
            chosen.append(k)
        else:
            chosen.append(remaining.pop(k))
    rng.s = [s0, s1, s2, s3]
    return chosen


def is_small_draw(seq_len: int, count: int) -> bool:
    """Whether drawing ``count`` of ``seq_len`` walks the taken values
    (count^2 steps) rather than a seq_len-long list."""
    return count * count <= seq_len


def choose_fragments(seq_num: int, seq_len: int, checksum: int) -> frozenset[int]:
    """The 0-based fragment indexes mixed into part ``seq_num``."""
    return frozenset(fragment_indexes(seq_num, seq_len, checksum))
