"""One error shape and one exit-code table, for every kind of error."""

from __future__ import annotations

import json

import pytest

from coordinator import edge
from coordinator.errors import (
    CODES,
    Conflict,
    HuddleError,
    InvalidInput,
    NotFound,
    StorageError,
    Unavailable,
    Unsupported,
)

KINDS = [(InvalidInput, 3, 400), (Unsupported, 3, 422), (NotFound, 4, 404),
         (Conflict, 5, 409), (StorageError, 6, 503), (Unavailable, 7, 502)]


@pytest.mark.parametrize("cls,exit_code,status", KINDS)
def test_each_kind_maps_to_one_exit_code_and_status(cls, exit_code, status):
    err = cls("bad_input", "x")
    assert edge.exit_code(err) == exit_code
    assert edge.http_status(err) == status


def test_an_unknown_kind_is_an_internal_error():
    class Odd(HuddleError):
        pass

    assert edge.exit_code(Odd("bad_input", "x")) == edge.INTERNAL_EXIT == 70
    assert edge.http_status(Odd("bad_input", "x")) == 500


@pytest.mark.parametrize("code", sorted(CODES))
def test_json_error_shape_is_the_same_for_every_code(code):
    body = json.loads(json.dumps(InvalidInput(code, "one line", field="x").to_dict()))
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"] == "one line"
    assert set(InvalidInput(code, "m").to_dict()["error"]) == {"code", "message"}


def test_unregistered_codes_cannot_be_raised():
    with pytest.raises(ValueError):
        InvalidInput("no_such_code", "x")


def test_codes_are_snake_case():
    for code in CODES:
        assert code.replace("_", "").isalnum() and code == code.lower(), code
