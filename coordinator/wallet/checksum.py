"""BIP-380 descriptor checksums, computed by us.

embit's ``Descriptor.from_string`` ignores whatever follows ``#``; a typo in a
pasted descriptor would then silently describe another wallet. We check it.
"""

from __future__ import annotations

from ..errors import InvalidInput

INPUT_CHARSET = (
    "0123456789()[],'/*abcdefgh@:$%{}"
    "IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~"
    "ijklmnopqrstuvwxyzABCDEFGH`#\"\\ "
)
CHECKSUM_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0xF5DEE51989, 0xA9FDCA3312, 0x1BAB10E32D, 0x3706B1677A, 0x644D626FFD)
_INDEX = {c: i for i, c in enumerate(INPUT_CHARSET)}


def _polymod(c: int, val: int) -> int:
    c0 = c >> 35
    c = ((c & 0x7FFFFFFFF) << 5) ^ val
    for bit, gen in enumerate(_GENERATOR):
        if (c0 >> bit) & 1:
            c ^= gen
    return c


def compute(body: str) -> str:
    """The 8-character checksum of a descriptor without its ``#...`` suffix."""
    c, cls, clscount = 1, 0, 0
    for pos, ch in enumerate(body):
        idx = _INDEX.get(ch)
        if idx is None:
            raise InvalidInput(
                "malformed_descriptor",
                f"descriptor has a character outside the BIP-380 set at position {pos}",
            )
        c = _polymod(c, idx & 31)
        cls = cls * 3 + (idx >> 5)
        clscount += 1
        if clscount == 3:
            c = _polymod(c, cls)
            cls, clscount = 0, 0
    if clscount:
        c = _polymod(c, cls)
    for _ in range(8):
        c = _polymod(c, 0)
    c ^= 1
    return "".join(CHECKSUM_CHARSET[(c >> (5 * (7 - j))) & 31] for j in range(8))


def split(text: str) -> tuple[str, str | None]:
    """Split ``body#checksum`` into its parts and verify the checksum.

    Returns ``(body, checksum)``; checksum is None when absent. A present but
    wrong, empty or mis-sized checksum raises ``bad_checksum``.
    """
    body, sep, given = text.partition("#")
    compute(body)  # charset check, even without a checksum
    if not sep:
        return body, None
    if len(given) != 8:
        raise InvalidInput(
            "bad_checksum",
            f"descriptor checksum must be 8 characters, got {len(given)}",
        )
    expected = compute(body)
    if given != expected:
        raise InvalidInput(
            "bad_checksum",
            f"descriptor checksum is {given!r} but the descriptor hashes to "
            f"{expected!r}; the text was changed or mistyped",
        )
    return body, given


def add(body: str) -> str:
    """``body#checksum``."""
    return f"{body}#{compute(body)}"
