"""How many characters a QR symbol holds, per version and ECC level.

Data codewords per version come from ISO/IEC 18004:2015 Table 7; the rest is
the alphanumeric and byte-mode bit budget (mode indicator, character count
indicator, 11 bits per two alphanumeric characters, 8 bits per byte).
"""

from __future__ import annotations

ECC_LEVELS = ("L", "M", "Q", "H")

_DATA_CODEWORDS = {
    "L": (19, 34, 55, 80, 108, 136, 156, 194, 232, 274, 324, 370, 428, 461, 523, 589, 647,
          721, 795, 861, 932, 1006, 1094, 1174, 1276, 1370, 1468, 1531, 1631, 1735, 1843,
          1955, 2071, 2191, 2306, 2434, 2566, 2702, 2812, 2956),
    "M": (16, 28, 44, 64, 86, 108, 124, 154, 182, 216, 254, 290, 334, 365, 415, 453, 507,
          563, 627, 669, 714, 782, 860, 914, 1000, 1062, 1128, 1193, 1267, 1373, 1455, 1541,
          1631, 1725, 1812, 1914, 1992, 2102, 2216, 2334),
    "Q": (13, 22, 34, 48, 62, 76, 88, 110, 132, 154, 180, 206, 244, 261, 295, 325, 367,
          397, 445, 485, 512, 568, 614, 664, 718, 754, 808, 871, 911, 985, 1033, 1115, 1171,
          1231, 1286, 1354, 1426, 1502, 1582, 1666),
    "H": (9, 16, 26, 36, 46, 60, 66, 86, 100, 122, 140, 158, 180, 197, 223, 253, 283, 313,
          341, 385, 406, 442, 464, 514, 538, 596, 628, 661, 701, 745, 793, 845, 901, 961,
          986, 1054, 1096, 1142, 1222, 1276),
}

ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def _data_bits(version: int, ecc: str) -> int:
    if not 1 <= version <= 40:
        raise ValueError(f"QR version {version} is outside 1..40")
    if ecc not in _DATA_CODEWORDS:
        raise ValueError(f"unknown ECC level {ecc!r} (use L, M, Q or H)")
    return _DATA_CODEWORDS[ecc][version - 1] * 8


def alphanumeric_capacity(version: int, ecc: str = "L") -> int:
    """Characters of one alphanumeric segment that fit the symbol."""
    count_bits = 9 if version <= 9 else 11 if version <= 26 else 13
    bits = _data_bits(version, ecc) - 4 - count_bits
    return bits // 11 * 2 + (1 if bits % 11 >= 6 else 0)


def byte_capacity(version: int, ecc: str = "L") -> int:
    count_bits = 8 if version <= 9 else 16
    return (_data_bits(version, ecc) - 4 - count_bits) // 8


def min_version(text: str, ecc: str = "L") -> int:
    """The smallest version that holds ``text`` in one segment."""
    fits = alphanumeric_capacity if set(text) <= ALPHANUMERIC else byte_capacity
    size = len(text) if fits is alphanumeric_capacity else len(text.encode("utf-8"))
    for version in range(1, 41):
        if fits(version, ecc) >= size:
            return version
    raise ValueError(f"{size} characters do not fit any QR version at ECC {ecc}")
