"""Xoshiro256** as the multipart UR spec uses it (BCR-2024-001, "Random Number
Generator"). Encoder and decoder must draw the same numbers, so seeding and
the float conversions follow the reference implementations exactly."""

from __future__ import annotations

import hashlib

_MASK = (1 << 64) - 1


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & _MASK


class Xoshiro256:
    """The xoshiro256** generator (Blackman and Vigna, public domain)."""

    def __init__(self, state: tuple[int, int, int, int]) -> None:
        self.s = list(state)

    @classmethod
    def from_seed(cls, seed: bytes) -> Xoshiro256:
        # BCR-2024-001: the state is SHA-256(seed) read as four big-endian
        # 64-bit words.
        digest = hashlib.sha256(seed).digest()
        return cls(tuple(int.from_bytes(digest[i:i + 8], "big") for i in range(0, 32, 8)))

    @classmethod
    def from_string(cls, seed: str) -> Xoshiro256:
        return cls.from_seed(seed.encode("utf-8"))

    @classmethod
    def from_crc32(cls, crc: int) -> Xoshiro256:
        return cls.from_seed(crc.to_bytes(4, "big"))

    def next(self) -> int:
        s = self.s
        result = (_rotl((s[1] * 5) & _MASK, 7) * 9) & _MASK
        t = (s[1] << 17) & _MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        return result

    def next_double(self) -> float:
        # next() / 2^64 as a double, as in the reference code (the division
        # rounds like C's double arithmetic, which Python floats share).
        return self.next() / 18446744073709551616.0

    def next_int(self, low: int, high: int) -> int:
        """A number in the closed range low...high."""
        return int(self.next_double() * (high - low + 1)) + low

    def next_byte(self) -> int:
        return self.next_int(0, 255)

    def next_data(self, count: int) -> bytes:
        return bytes(self.next_byte() for _ in range(count))
