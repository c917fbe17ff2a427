"""The one canonical encoding for everything Huddle hashes or signs.

RFC 8785, the JSON Canonicalization Scheme (JCS), over UTF-8, restricted to
values that every implementation reads the same way: objects with text keys,
arrays, text, booleans, null and integers within +-(2^53 - 1). Floats are
refused rather than formatted (JCS's ECMAScript number rules are where
independent implementations disagree), and so are lone surrogates, which have
no UTF-8 form. Bytes are written by the caller as lowercase hex text.

Why JCS rather than deterministic CBOR: the PWA and a member's own script can
check it with nothing but ``JSON`` and a key sort (docs/canonical.md; the
vectors are in tests/vectors/canonical.json). Hashes are SHA-256, and every
hashed object carries ``"v": VERSION`` so the encoding can change later.
"""

from __future__ import annotations

import hashlib
import json

from .errors import InvalidInput, register

VERSION = 1
MAX_SAFE_INTEGER = 2**53 - 1  # ECMAScript Number.MAX_SAFE_INTEGER: JS reads larger ones inexactly
MAX_DEPTH = 32

register({"not_canonical": "a value the canonical encoding cannot hold (a float, an integer past "
                           "2^53-1, a non-text key, a lone surrogate, nesting past 32 levels)"})


def encode(value: object) -> bytes:
    """The RFC 8785 form of ``value`` as UTF-8 bytes."""
    parts: list[str] = []
    _write(value, parts, 0)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("not_canonical", "text with a lone surrogate has no UTF-8 form") from None


def digest(value: object) -> bytes:
    """SHA-256 of the canonical form."""
    return hashlib.sha256(encode(value)).digest()


def decode(data: bytes) -> object:
    """Parse canonical bytes back, refusing anything that is not already canonical."""
    try:
        value = json.loads(data.decode("utf-8"), parse_float=_no_float, parse_constant=_no_float)
    except (UnicodeDecodeError, ValueError) as err:
        raise InvalidInput("not_canonical", f"not canonical JSON: {err}") from None
    if encode(value) != data:
        raise InvalidInput("not_canonical", "JSON that is not in its canonical form")
    return value


def _no_float(text: str) -> object:
    raise ValueError(f"a float ({text}) is not allowed")


def _write(value: object, out: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise InvalidInput("not_canonical", f"nesting deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool):
        out.append({None: "null", True: "true", False: "false"}[value])
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise InvalidInput("not_canonical", f"integer {value} is outside +-(2^53-1)")
        out.append(str(int(value)))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            out.append("," if i else "")
            _write(item, out, depth + 1)
        out.append("]")
    elif isinstance(value, dict):
        _write_object(value, out, depth)
    else:
        raise InvalidInput("not_canonical", f"a {type(value).__name__} has no canonical form")


def _write_object(value: dict, out: list[str], depth: int) -> None:
    if not all(isinstance(k, str) for k in value):
        raise InvalidInput("not_canonical", "object keys must be text")
    # RFC 8785 3.2.3: keys sorted by their UTF-16 code units, not by code points.
    keys = sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
    out.append("{")
    for i, key in enumerate(keys):
        out.append(("," if i else "") + _string(key) + ":")
        _write(value[key], out, depth + 1)
    out.append("}")


def _string(text: str) -> str:
    """ECMAScript JSON.stringify's escaping, which RFC 8785 3.2.2.2 adopts: only
    quote, backslash and C0 controls are escaped (\\b \\t \\n \\f \\r short forms,
    others as lowercase \\u00xx); everything else is written as itself."""
    return json.dumps(text, ensure_ascii=False)
