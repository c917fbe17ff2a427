"""The canonical encoding (RFC 8785 JCS, restricted): the public vectors in
tests/vectors/canonical.json, which any other implementation can check too."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coordinator import canonical
from coordinator.errors import InvalidInput

from .conftest import VECTORS

VECTOR_FILE = json.loads((VECTORS / "canonical.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("vector", VECTOR_FILE["valid"], ids=lambda v: v["name"])
def test_vectors_encode_to_their_canonical_text_and_hash(vector):
    encoded = canonical.encode(json.loads(vector["input"]))

    assert encoded == vector["canonical"].encode("utf-8")
    assert canonical.digest(json.loads(vector["input"])).hex() == vector["sha256"]
    assert canonical.decode(encoded) == json.loads(vector["input"])


@pytest.mark.parametrize("vector", VECTOR_FILE["invalid"], ids=lambda v: v["name"])
def test_values_outside_the_restricted_profile_are_refused(vector):
    with pytest.raises(InvalidInput) as err:
        canonical.encode(json.loads(vector["input"]))
    assert err.value.code == "not_canonical"


@pytest.mark.parametrize("vector", VECTOR_FILE["not_canonical_bytes"], ids=lambda v: v["name"])
def test_decoding_refuses_json_that_is_not_already_canonical(vector):
    with pytest.raises(InvalidInput) as err:
        canonical.decode(vector["text"].encode("utf-8"))
    assert err.value.code == "not_canonical"


def _deep(levels: int) -> list:
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("value", [b"\x00", {1: "a"}, "\ud800", 0.5, float("nan"), _deep(40), {"a", "b"}],
                         ids=["bytes", "int key", "lone surrogate", "float", "nan", "too deep", "set"])
def test_python_values_without_a_canonical_form_are_refused(value):
    with pytest.raises(InvalidInput) as err:
        canonical.encode(value)
    assert err.value.code == "not_canonical"


def test_booleans_stay_booleans_not_integers():
    assert canonical.encode([True, 1, False, 0]) == b"[true,1,false,0]"


ascii_keys = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=8)
values = st.recursive(
    st.none() | st.booleans() | st.integers(-canonical.MAX_SAFE_INTEGER, canonical.MAX_SAFE_INTEGER)
    | st.text(max_size=12).filter(lambda t: not any(0xD800 <= ord(c) <= 0xDFFF for c in t)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ascii_keys, inner, max_size=4),
    max_leaves=20)


@given(values)
def test_with_ascii_keys_it_agrees_with_sorted_compact_json(value):
    # For ASCII keys UTF-16 order is byte order, so Python's own sorted, compact
    # JSON (an independent writer) must give the same bytes.
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical.encode(value) == expected.encode("utf-8")
    assert canonical.decode(expected.encode("utf-8")) == value


def test_digest_is_sha256_of_the_encoding():
    value = {"v": canonical.VERSION, "x": "y"}
    assert canonical.digest(value) == hashlib.sha256(b'{"v":1,"x":"y"}').digest()
