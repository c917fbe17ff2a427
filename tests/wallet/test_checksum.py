"""BIP-380 descriptor checksums: the public vectors, properties, and the
reason we compute the checksum ourselves (embit ignores it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from embit.descriptor import Descriptor as EmbitDescriptor
from hypothesis import given, settings
from hypothesis import strategies as st

from coordinator.errors import InvalidInput
from coordinator.wallet import checksum
from coordinator.wallet.descriptor import MultisigDescriptor
from tests import keys
from tests.conftest import VECTORS


# What each invalid BIP-380 case must be rejected as. A wrong, empty or
# mis-sized checksum is ``bad_checksum``; a character outside the BIP-380
# input set makes the text unreadable, whatever follows '#'.
EXPECTED_CODE = {
    "Missing checksum": "bad_checksum",
    "Too long checksum (9 chars)": "bad_checksum",
    "Too short checksum (7 chars)": "bad_checksum",
    "Error in payload": "bad_checksum",
    "Error in checksum": "bad_checksum",
    "Invalid characters in payload": "malformed_descriptor",
}


def _cases(vectors_dir, expected_prefix):
    data = json.loads((vectors_dir / "bip380_checksums.json").read_text())
    return [
        case for case in data["bip380"]["checksum_and_charset"]
        if case["expected"].startswith(expected_prefix)
    ]


def _all_cases():
    # Parametrize needs the cases at collection time. When the file is missing
    # this collects nothing, and the tests that use the ``vectors_dir`` fixture
    # (which fails loudly) plus ``test_invalid_vectors_were_collected`` fail.
    path = VECTORS / "bip380_checksums.json"
    if not path.exists():
        return []
    return json.loads(path.read_text())["bip380"]["checksum_and_charset"]


def test_every_bip380_checksum_vector_is_covered(vectors_dir):
    descriptions = {c["description"] for c in _cases(vectors_dir, "invalid")}
    assert descriptions == set(EXPECTED_CODE)
    assert len(_cases(vectors_dir, "valid")) == 2  # with and without checksum


def test_valid_bip380_checksum_is_accepted(vectors_dir):
    (case,) = [c for c in _cases(vectors_dir, "valid") if "#" in c["descriptor"]]
    assert checksum.split(case["descriptor"]) == ("raw(deadbeef)", "89f8spxm")
    assert checksum.compute("raw(deadbeef)") == "89f8spxm"


def test_descriptor_without_checksum_is_accepted_and_we_add_it(vectors_dir):
    (case,) = [c for c in _cases(vectors_dir, "valid") if "#" not in c["descriptor"]]
    assert checksum.split(case["descriptor"]) == ("raw(deadbeef)", None)
    assert checksum.add(case["descriptor"]) == "raw(deadbeef)#89f8spxm"


@pytest.mark.parametrize(
    "case",
    [c for c in _all_cases() if c["expected"] == "invalid"],
    ids=lambda c: c["description"],
)
def test_invalid_bip380_checksum_vector_is_rejected_with_its_code(case, vectors_dir):
    with pytest.raises(InvalidInput) as exc:
        checksum.split(case["descriptor"])
    assert exc.value.code == EXPECTED_CODE[case["description"]]


def test_invalid_vectors_were_collected():
    # Guards the parametrize above against silently collecting nothing.
    assert len([c for c in _all_cases() if c["expected"] == "invalid"]) == len(EXPECTED_CODE)


def test_checksum_is_checked_before_the_descriptor_kind():
    # raw() is unsupported, but a wrong checksum is the first thing reported.
    with pytest.raises(InvalidInput) as exc:
        MultisigDescriptor.from_string("raw(deedbeef)#89f8spxm")
    assert exc.value.code == "bad_checksum"


def test_uppercase_checksum_is_rejected():
    with pytest.raises(InvalidInput) as exc:
        checksum.split("raw(deadbeef)#89F8SPXM")
    assert exc.value.code == "bad_checksum"


# -- properties ---------------------------------------------------------------

# '#' is in the BIP-380 input set but separates body from checksum, so a body
# never contains it (Bitcoin Core rejects "multiple '#' symbols" too).
BODY_CHARS = checksum.INPUT_CHARSET.replace("#", "")
bodies = st.text(alphabet=BODY_CHARS, min_size=1, max_size=200)


@settings(max_examples=300, deadline=None)
@given(body=bodies)
def test_split_of_add_round_trips(body):
    text = checksum.add(body)
    assert checksum.split(text) == (body, text[-8:])
    assert all(c in checksum.CHECKSUM_CHARSET for c in text[-8:])


@settings(max_examples=300, deadline=None)
@given(body=bodies, data=st.data())
def test_any_single_substitution_in_the_checksum_is_detected(body, data):
    text = checksum.add(body)
    pos = data.draw(st.integers(len(body) + 1, len(text) - 1), label="position")
    new = data.draw(
        st.sampled_from(checksum.CHECKSUM_CHARSET).filter(lambda c: c != text[pos]),
        label="replacement",
    )
    with pytest.raises(InvalidInput) as exc:
        checksum.split(text[:pos] + new + text[pos + 1:])
    assert exc.value.code == "bad_checksum"


@settings(max_examples=300, deadline=None)
@given(body=bodies, data=st.data())
def test_any_single_substitution_in_the_body_is_detected(body, data):
    text = checksum.add(body)
    pos = data.draw(st.integers(0, len(body) - 1), label="position")
    new = data.draw(
        st.sampled_from(checksum.INPUT_CHARSET).filter(lambda c: c != text[pos]),
        label="replacement",
    )
    with pytest.raises(InvalidInput) as exc:
        checksum.split(text[:pos] + new + text[pos + 1:])
    assert exc.value.code == "bad_checksum"


# -- why we do this ourselves -----------------------------------------------------


def _corrupt_checksum(text: str) -> str:
    body, given_sum = text.rsplit("#", 1)
    swapped = "q" if given_sum[0] != "q" else "p"
    return f"{body}#{swapped}{given_sum[1:]}"


def test_embit_alone_accepts_a_corrupted_checksum_but_huddle_rejects_it():
    good = keys.descriptor(2, 3).to_string(branch=0)
    bad = _corrupt_checksum(good)
    assert bad != good

    # embit parses the corrupted text as if nothing were wrong...
    parsed_by_embit = EmbitDescriptor.from_string(bad)
    assert parsed_by_embit.to_string().split("#")[0] == EmbitDescriptor.from_string(good).to_string().split("#")[0]

    # ...and we refuse it.
    with pytest.raises(InvalidInput) as exc:
        MultisigDescriptor.from_string(bad)
    assert exc.value.code == "bad_checksum"
    # The uncorrupted text is fine, so the checksum is the only reason.
    MultisigDescriptor.from_string(good)
