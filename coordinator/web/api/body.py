"""Reading a request's JSON body: an object with the expected fields and types,
or ``bad_json`` naming what is wrong."""

from __future__ import annotations

import json

from flask import request

from ...errors import InvalidInput


def json_body(required: dict[str, type], optional: dict[str, type] | None = None) -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput("bad_json", "the request body must be a JSON object")
    check_text(data)
    optional = optional or {}
    unknown = set(data) - set(required) - set(optional)
    if unknown:
        raise InvalidInput("bad_json", f"unknown field(s): {', '.join(sorted(unknown))}")
    for name, kind in {**required, **optional}.items():
        if name not in data:
            if name in required:
                raise InvalidInput("bad_json", f"missing field {name!r}")
            continue
        if not isinstance(data[name], kind) or (kind is int and isinstance(data[name], bool)):
            raise InvalidInput("bad_json", f"field {name!r} must be a {kind.__name__}")
    return data


def check_text(data: object) -> None:
    """Refuse lone surrogates ("\\ud800" is valid JSON but not Unicode text): SQLite and
    every UTF-8 encoder fail on them later, far from the request (RFC 8259 section 8.2)."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("bad_json", "the request body holds text that is not valid Unicode "
                                       "(a lone surrogate escape)") from None
