from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coordinator.qr import bytewords
from coordinator.qr.errors import BadPart


def test_wordlist_matches_the_spec(ur_vectors):
    assert bytewords._WORDS == ur_vectors["bytewords"]["wordlist"]


def test_minimal_pairs_are_unique():
    assert len(set(bytewords._MINIMAL)) == 256


@pytest.mark.parametrize("style", bytewords.STYLES)
def test_examples_encode_and_decode_in_every_style(ur_vectors, style):
    for example in ur_vectors["bytewords"]["examples"]:
        if style not in example:
            continue
        data = bytes.fromhex(example.get("input_hex") or example["body_hex"])
        assert bytewords.encode(data, style) == example[style]
        assert bytewords.decode(example[style], style) == data


def test_invalid_examples_are_rejected_with_their_reason(ur_vectors):
    for case in ur_vectors["bytewords"]["invalid_decodes"]:
        with pytest.raises(BadPart) as err:
            bytewords.decode(case["input"], case["style"])
        expected = "qr_bad_checksum" if case["reason"] == "bad checksum" else "qr_malformed_part"
        assert err.value.code == expected


def test_decoding_is_case_insensitive():
    assert bytewords.decode("AEADAOLAZMJENDEOTI") == bytes.fromhex("00010280ff")


def test_unknown_words_are_malformed_not_crashes():
    with pytest.raises(BadPart) as err:
        bytewords.decode("able acid also lava zoom jade need echo taxx", "standard")
    assert err.value.code == "qr_malformed_part"
    with pytest.raises(BadPart):
        bytewords.decode("aea", "minimal")


@given(st.binary(max_size=300), st.sampled_from(bytewords.STYLES))
def test_any_bytes_round_trip(data, style):
    assert bytewords.decode(bytewords.encode(data, style), style) == data


@given(st.binary(min_size=1, max_size=100), st.data())
def test_any_single_word_change_is_caught(data, draw):
    words = bytewords.encode(data, "standard").split()
    i = draw.draw(st.integers(0, len(words) - 1))
    replacement = draw.draw(st.sampled_from(bytewords._WORDS).filter(lambda w: w != words[i]))
    words[i] = replacement
    with pytest.raises(BadPart) as err:
        bytewords.decode(" ".join(words), "standard")
    assert err.value.code == "qr_bad_checksum"
