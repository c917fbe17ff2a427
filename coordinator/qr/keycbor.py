"""A bounded CBOR reader for the key and descriptor UR types (BCR-2020-007,
-010, -015; BCR-2023-010, -019), and the CBOR writer for the ones we show.

Like cbor.py, and for the same reason (scanned frames come from strangers),
this reads only what those registries use: unsigned and negative integers,
byte and text strings, arrays, maps, tags, booleans and null, definite
lengths only, nested at most ``MAX_DEPTH`` deep. Every length is checked
against the bytes present before anything is allocated; every failure is a
``BadPart``. Maps must have unsigned-integer keys, as every one of these
types does.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import BadPart

MAX_DEPTH = 16
_UINT, _NINT, _BYTES, _TEXT, _ARRAY, _MAP, _TAG, _SIMPLE = range(8)
_SIMPLE_VALUES = {20: False, 21: True, 22: None}


@dataclass(frozen=True)
class Tagged:
    tag: int
    value: object


def _bad(why: str) -> BadPart:
    return BadPart("key_export_unreadable", f"the UR body is not the CBOR of a key export: {why}")


class _Reader:
    def __init__(self, raw: bytes) -> None:
        self.raw, self.pos = raw, 0

    def take(self, count: int) -> bytes:
        if count > len(self.raw) - self.pos:
            raise _bad("it ends early")
        chunk = self.raw[self.pos:self.pos + count]
        self.pos += count
        return chunk

    def head(self) -> tuple[int, int]:
        first = self.take(1)[0]
        major, info = first >> 5, first & 0x1F
        if info < 24:
            return major, info
        if info <= 27:
            return major, int.from_bytes(self.take(1 << (info - 24)), "big")
        raise _bad(f"additional information {info} (indefinite or reserved)")

    def item(self, depth: int = 0) -> object:
        if depth > MAX_DEPTH:
            raise _bad(f"nested more than {MAX_DEPTH} deep")
        major, arg = self.head()
        if major == _UINT:
            return arg
        if major == _NINT:
            return -1 - arg
        if major == _BYTES:
            return self.take(arg)
        if major == _TEXT:
            try:
                return self.take(arg).decode("utf-8")
            except UnicodeDecodeError:
                raise _bad("a text string that is not UTF-8") from None
        if major == _ARRAY:
            self._room(arg)
            return [self.item(depth + 1) for _ in range(arg)]
        if major == _MAP:
            return self._map(arg, depth)
        if major == _TAG:
            return Tagged(arg, self.item(depth + 1))
        if arg in _SIMPLE_VALUES:
            return _SIMPLE_VALUES[arg]
        raise _bad(f"simple value {arg} (floats are not used by key exports)")

    def _room(self, count: int) -> None:
        # Each item takes at least one byte: a claimed count beyond the input is a lie.
        if count > len(self.raw) - self.pos:
            raise _bad("a count larger than the bytes present")

    def _map(self, count: int, depth: int) -> dict:
        self._room(2 * count)
        out: dict = {}
        for _ in range(count):
            key = self.item(depth + 1)
            if not isinstance(key, int) or isinstance(key, bool) or key in out:
                raise _bad("a map key that is not a distinct unsigned integer")
            out[key] = self.item(depth + 1)
        return out


def loads(raw: bytes) -> object:
    reader = _Reader(raw)
    value = reader.item()
    if reader.pos != len(raw):
        raise _bad("there are bytes after its item")
    return value


def _head(major: int, arg: int) -> bytes:
    if arg < 24:
        return bytes([major << 5 | arg])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * size):
            return bytes([major << 5 | info]) + arg.to_bytes(size, "big")
    raise ValueError("CBOR argument too large")


def dumps(value: object) -> bytes:
    """Deterministic CBOR (BCR-2020-005) of the shapes ``loads`` reads;
    map keys are written in ascending order."""
    if isinstance(value, bool) or value is None:
        return bytes([0xF5 if value is True else 0xF4 if value is False else 0xF6])
    if isinstance(value, int):
        return _head(_UINT, value) if value >= 0 else _head(_NINT, -1 - value)
    if isinstance(value, bytes):
        return _head(_BYTES, len(value)) + value
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _head(_TEXT, len(raw)) + raw
    if isinstance(value, list):
        return _head(_ARRAY, len(value)) + b"".join(dumps(v) for v in value)
    if isinstance(value, dict):
        return _head(_MAP, len(value)) + b"".join(dumps(k) + dumps(value[k]) for k in sorted(value))
    if isinstance(value, Tagged):
        return _head(_TAG, value.tag) + dumps(value.value)
    raise TypeError(f"cannot write {type(value).__name__} as CBOR")
