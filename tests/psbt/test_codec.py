"""Reading PSBTs in any form, strictly, and never crashing on garbage."""

from __future__ import annotations

import base64

import pytest
from embit.psbt import PSBT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordinator.errors import InvalidInput
from coordinator.psbt import codec
from coordinator.psbt.build import Output, assemble
from coordinator.psbt.sighash import unsigned_tx

from .. import keys
from . import chain

PAYEE = bytes.fromhex("0014" + "22" * 20)


def _spend(m=2, n=3, script_type="wsh", amounts=(100_000, 50_000), salt=b""):
    d = keys.descriptor(m, n, script_type=script_type)
    utxos = chain.fund(d, amounts, salt=salt)
    change = Output(d.script_pubkey(1, 0).data, 20_000, 0)
    psbt = assemble(d, utxos, [Output(PAYEE, sum(amounts) - 30_000), change], 800_000)
    return d, psbt


@pytest.fixture(scope="module")
def signed():
    d, psbt = _spend()
    return chain.sign(psbt, [0])


def _code(data, **kwargs) -> str:
    with pytest.raises(InvalidInput) as e:
        codec.parse(data, **kwargs)
    return e.value.code


def test_base64_hex_and_binary_parse_to_the_same_psbt(signed):
    raw = signed.serialize()
    forms = [raw, raw.hex(), raw.hex().upper(), base64.b64encode(raw).decode(),
             base64.b64encode(raw), "\n  " + base64.b64encode(raw).decode() + "\n",
             "\n".join(raw.hex()[i:i + 64] for i in range(0, len(raw.hex()), 64))]
    for form in forms:
        assert codec.serialize(codec.parse(form)) == raw


def test_detect_format_names_the_form(signed):
    raw = signed.serialize()
    assert codec.detect_format(raw) == "binary"
    assert codec.detect_format(raw.hex()) == "hex"
    assert codec.detect_format(codec.to_base64(signed)) == "base64"


@pytest.mark.parametrize("data", [b"", "", b"\x00" * 10, "hello", "cHNidP8", "cHNidP8!!!!",
                                  "70736274ff", "70736274ffzz", b"psbt\xff", b"\xff\xfe\x00garbage",
                                  "💥", b"psbt\xff\x00", b"psbt\xff\x01\x00"])
def test_garbage_is_malformed_not_a_crash(data):
    assert _code(data) == "malformed_psbt"


def test_every_truncation_is_malformed(signed):
    raw = signed.serialize()[:1200]  # every cut inside the global map and the first input
    for cut in range(len(raw)):
        assert _code(raw[:cut]) == "malformed_psbt"


def test_trailing_bytes_are_malformed(signed):
    assert _code(signed.serialize() + b"\x00") == "malformed_psbt"


def test_oversize_is_refused_before_parsing(signed):
    raw = signed.serialize()
    assert _code(raw, max_size=len(raw) - 1) == "psbt_too_large"
    assert _code(codec.to_base64(signed), max_size=len(raw) - 1) == "psbt_too_large"
    assert _code(b"psbt\xff" + b"\x00" * (codec.MAX_PSBT_BYTES * 3)) == "psbt_too_large"
    assert codec.parse(raw, max_size=len(raw))


def test_duplicate_global_key_is_malformed(signed):
    raw = signed.serialize()
    dup = b"\x02\xfc\x01\x01\x00" * 2  # the same proprietary key twice
    assert _code(raw[:5] + dup + raw[5:]) == "malformed_psbt"


def test_non_canonical_length_is_malformed(signed):
    raw = signed.serialize()
    # rewrite the unsigned tx's one-byte length as 0xfd + two bytes
    assert raw[5:7] == b"\x01\x00"
    length = raw[7]
    bad = raw[:7] + b"\xfd" + length.to_bytes(2, "little") + raw[8:]
    assert _code(bad) == "malformed_psbt"


def test_sequence_zero_survives_a_round_trip():
    # embit writes `sequence or 0xFFFFFFFF`: a PSBT with nSequence 0 would change txid
    d, psbt = _spend()
    raw = psbt.serialize()
    tx = unsigned_tx(psbt)
    tx.vin[0].sequence = 0
    patched = raw.replace(unsigned_tx(psbt).serialize(), tx.serialize())
    parsed = codec.parse(patched)
    assert unsigned_tx(parsed).vin[0].sequence == 0
    assert codec.serialize(parsed) == patched
    assert parsed.tx.txid() == tx.txid()


def test_v2_parses_to_the_same_unsigned_transaction():
    d, psbt = _spend()
    v2 = codec.parse(psbt.serialize())
    v2.version = 2
    again = codec.parse(codec.serialize(v2))
    assert again.version == 2
    assert unsigned_tx(again).serialize() == unsigned_tx(psbt).serialize()


def test_copy_shares_no_maps():
    d, psbt = _spend()
    signed = chain.sign(psbt, [1])
    clone = codec.copy(signed)
    clone.inputs[0].partial_sigs.clear()
    clone.inputs[0].unknown[b"\xfc\x00"] = b"x"
    clone.unknown[b"\xfc\x01"] = b"y"
    assert signed.inputs[0].partial_sigs
    assert b"\xfc\x00" not in signed.inputs[0].unknown and b"\xfc\x01" not in signed.unknown
    assert b"\xfc\x00" not in signed.inputs[1].unknown  # embit's scopes share one default dict


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(m=st.integers(1, 3), extra=st.integers(0, 2), n_in=st.integers(1, 4),
       script_type=st.sampled_from(["wsh", "sh-wsh"]), signers=st.sets(st.integers(0, 4)),
       v2=st.booleans(), salt=st.binary(max_size=4))
def test_parse_serialize_round_trip(m, extra, n_in, script_type, signers, v2, salt):
    n = m + extra if m + extra > 1 else 2
    d = keys.descriptor(min(m, n), n, script_type=script_type)
    utxos = chain.fund(d, [10_000 * (i + 1) for i in range(n_in)], salt=salt)
    psbt = assemble(d, utxos, [Output(PAYEE, 5_000)], 700_000)
    psbt = chain.sign(psbt, sorted(s for s in signers if s < n))
    psbt = codec.parse(psbt.serialize())
    psbt.version = 2 if v2 else None
    raw = codec.serialize(psbt)
    parsed = codec.parse(raw)
    assert codec.serialize(parsed) == raw
    assert codec.parse(codec.to_base64(parsed)).serialize() == raw


@pytest.fixture(scope="module")
def small_raw():
    d, psbt = _spend(amounts=(70_000,))
    return chain.sign(psbt, [0, 1]).serialize()


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_psbts_parse_or_are_malformed_never_crash(small_raw, data):
    raw = bytearray(small_raw)
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "insert", "delete", "byte"]))
        if action == "flip":
            raw[pos] ^= 1 << data.draw(st.integers(0, 7))
        elif action == "insert":
            raw[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del raw[pos:pos + data.draw(st.integers(1, 8))]
        else:
            raw[pos] = data.draw(st.sampled_from([0x00, 0xFD, 0xFE, 0xFF, 0x01, 0x21, 0x41]))
    try:
        parsed = codec.parse(bytes(raw))
    except InvalidInput as e:
        assert e.code == "malformed_psbt"
        return
    assert codec.parse(codec.serialize(parsed)).serialize() == codec.serialize(parsed)


def test_a_plain_embit_psbt_serializes_the_same():
    d, psbt = _spend()
    assert isinstance(psbt, PSBT)
    assert codec.serialize(codec.parse(codec.serialize(psbt))) == psbt.serialize()


def test_copy_has_derivation_maps_of_its_own_built_or_not():
    d, psbt = _spend()
    parsed = codec.parse(psbt.serialize())
    unbuilt = codec.copy(parsed)  # parsed's derivations are not objects yet
    built = codec.copy(parsed)
    built.inputs[0].bip32_derivations.clear()
    assert len(parsed.inputs[0].bip32_derivations) == d.n
    assert [k.sec() for k in unbuilt.inputs[0].bip32_derivations] == \
        [k.sec() for k in parsed.inputs[0].bip32_derivations] == \
        [k.sec() for k in psbt.inputs[0].bip32_derivations]


def test_a_utf8_bom_before_text_is_read_as_wallet_files_read_one(signed):
    """Windows editors save base64 or hex with a BOM; the core reads it (so any edge
    does), and the BOM bytes never reach the PSBT."""
    raw = signed.serialize()
    bom = "\ufeff"
    for text in (base64.b64encode(raw).decode(), raw.hex()):
        assert codec.parse(bom + text).serialize() == raw
        assert codec.parse((bom + text).encode("utf-8")).serialize() == raw
    with pytest.raises(InvalidInput) as err:
        codec.parse(b"\xef\xbb\xbf" + raw)  # a binary PSBT never carries one
    assert err.value.code == "malformed_psbt"
