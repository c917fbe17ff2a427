"""Reading and writing PSBTs (BIP-174 v0 and BIP-370 v2), strictly.

PSBTs arrive from any signer as base64, hex or raw bytes. embit's parser is
lax (it accepts most of the BIP's invalid vectors, asserts on odd lengths,
and reads a ``non_witness_utxo`` past its stated length), so we walk the
key-value maps ourselves and enforce the BIPs' rules, then build embit's
objects from the checked pairs (scopes.py). Compact sizes must be canonical
and counts at most a standard transaction's (wire.py), so an 8 MiB PSBT
parses in bounded memory.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable

from embit.base import EmbitError
from embit.psbt import PSBT, DerivationPath
from embit.script import Script
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from ..errors import InvalidInput
from . import scopes, wire
from .forms import MAGIC, MAX_PSBT_BYTES, decode, detect_format  # noqa: F401 (codec.* for callers)
from .sighash import determine_locktime, unsigned_tx

# Key-value pairs in all maps. Each becomes Python objects of 100-500 bytes, and
# 8 MiB hold 1.4 million small ones. A standard transaction needs far fewer: an
# input weighs at least 164 WU plus 34 per key (and has ~2 pairs per key), an
# output with derivations 172 WU, so 400,000 WU carry under 50,000 pairs.
MAX_PAIRS = 100_000
# What embit raises on garbage besides its own errors (and asserts, gone under -O).
EMBIT_ERRORS = (EmbitError, ValueError, AssertionError, IndexError, TypeError, RuntimeError,
                OverflowError, KeyError)


malformed = wire.malformed


class Psbt(PSBT):
    """embit's PSBT, with the unsigned transaction computed right.

    embit's ``tx`` writes ``sequence or 0xFFFFFFFF`` (turning nSequence 0 into
    final, so serializing changes the txid) and ignores BIP-370's locktime rules.
    """

    @property
    def tx(self) -> Transaction:
        return unsigned_tx(self)


# -- parse and serialize -------------------------------------------------------

def parse(data: bytes | str, max_size: int = MAX_PSBT_BYTES,
          expect: Callable[[Transaction], None] | None = None) -> Psbt:
    """A strictly checked PSBT (v0 or v2) from base64, hex or binary.

    ``expect`` sees the unsigned transaction before any input or output object
    is built, and may raise: merge refuses another transaction cheaply.
    """
    psbt = _build(_scan(decode(data, max_size), expect))
    if psbt.version == 2 and determine_locktime(psbt) is None:
        # BIP-370: some inputs need a height lock and others a time lock
        raise malformed("inputs require both a height and a time locktime; no locktime satisfies all")
    return psbt


def _build(maps: "_Maps") -> Psbt:
    try:
        xpubs = scopes.global_xpubs(maps.global_unknown)
        psbt = Psbt(None, unknown=maps.global_unknown, version=maps.version or None)
        psbt.xpubs = xpubs
        if maps.tx is not None:
            psbt.tx_version, psbt.locktime = maps.tx.version, maps.tx.locktime
        vins = maps.tx.vin if maps.tx is not None else [None] * len(maps.inputs)
        psbt.inputs = [scopes.build_input(maps.inputs[i], vin, f"input {i}") for i, vin in enumerate(vins)]
        vouts = maps.tx.vout if maps.tx is not None else [None] * len(maps.outputs)
        psbt.outputs = [scopes.build_output(pairs, vout) for pairs, vout in zip(maps.outputs, vouts)]
    except EMBIT_ERRORS as e:
        raise malformed(f"the PSBT does not parse: {e}") from None
    return psbt


def _v2_tx(maps: "_Maps") -> Transaction:
    """A v2 PSBT's unsigned transaction, from its pairs (BIP-370)."""
    globals_ = SimpleNamespace(version=2, locktime=_int(maps.global_unknown.get(b"\x03")),
                               inputs=[SimpleNamespace(unknown=p) for p in maps.inputs])
    locktime = determine_locktime(globals_)
    if locktime is None:
        raise malformed("inputs require both a height and a time locktime; no locktime satisfies all")
    vin = [TransactionInput(p[b"\x0e"][::-1], _int(p[b"\x0f"]), sequence=_int(p.get(b"\x10"), 0xFFFFFFFF))
           for p in maps.inputs]
    vout = [TransactionOutput(_int(p[b"\x03"]), Script(p[b"\x04"])) for p in maps.outputs]
    return wire.Tx(version=_int(maps.global_unknown[b"\x02"]), vin=vin, vout=vout, locktime=locktime)


def _int(value: bytes | None, default: int | None = None) -> int | None:
    return default if value is None else int.from_bytes(value, "little")


def serialize(psbt: PSBT) -> bytes:
    return psbt.serialize()


def to_base64(psbt: PSBT) -> str:
    return base64.b64encode(psbt.serialize()).decode("ascii")


def copy(psbt: PSBT) -> Psbt:
    """A copy (as our ``Psbt``) that can change without touching the original; fast.

    Scopes, their dicts, ``witness_utxo`` and the global xpubs' paths are
    copied (people do write ``witness_utxo.value``); transactions, scripts,
    keys and the inputs' and outputs' derivation paths are shared: replace
    those, never change them in place (nothing in Huddle does). A re-parse
    would take 0.2 s for 500 inputs. embit's scopes share one default
    ``unknown={}`` between all instances, so every copied scope gets its own.
    Derivation keys become ``LazyPublicKey`` (hashed by their bytes), as
    codec.parse makes them; derivations not yet built stay unbuilt.
    """
    new = Psbt.__new__(Psbt)
    new.__dict__.update(psbt.__dict__)
    new.unknown = dict(psbt.unknown)
    new.xpubs = {k: DerivationPath(d.fingerprint, list(d.derivation)) for k, d in psbt.xpubs.items()}
    new.inputs = [_copy_scope(s, "partial_sigs", "taproot_bip32_derivations", "taproot_sigs",
                              "taproot_scripts") for s in psbt.inputs]
    for scope in new.inputs:
        if scope.witness_utxo is not None:
            utxo = scope.witness_utxo
            scope.witness_utxo = wire.Output(utxo.value, utxo.script_pubkey)
    new.outputs = [_copy_scope(s, "taproot_bip32_derivations") for s in psbt.outputs]
    return new


def _copy_scope(scope, *dicts: str):
    new = type(scope).__new__(type(scope))  # copy.copy's way, without its dispatch
    new.__dict__.update(scope.__dict__)
    new.unknown = dict(scope.unknown)
    if "_pending" not in scope.__dict__:  # built (scopes.Input) or embit's: a dict of its own
        new.bip32_derivations = {_lazy(k): d for k, d in scope.bip32_derivations.items()}
    for name in dicts:
        setattr(new, name, dict(getattr(scope, name)))
    return new


_lazy = scopes.LazyPublicKey.of


# -- the strict walk over the key-value maps (BIP-174 and BIP-370) ---------------

@dataclass
class _Maps:
    version: int
    tx: Transaction | None  # v0's unsigned transaction
    global_unknown: dict[bytes, bytes]  # global pairs embit reads itself (xpubs, v2 fields, unknowns)
    inputs: list[dict[bytes, bytes]]  # each input map's checked pairs, in file order
    outputs: list[dict[bytes, bytes]]


class _PsbtReader(wire.Reader):
    pairs_left = MAX_PAIRS


def _scan(raw: bytes, expect: Callable[[Transaction], None] | None = None) -> _Maps:
    reader = _PsbtReader(raw)
    if reader.take(len(MAGIC)) != MAGIC:
        raise malformed("not a PSBT: missing the magic bytes 70736274ff")
    pairs = _kv_map(reader, "global map")
    version = _version(pairs)
    _check_map(pairs, _GLOBAL, version, "global map")
    tx = None
    if version == 0:
        tx = wire.read_unsigned_tx(pairs[b"\x00"])
        if expect is not None:  # before any map is read: a wrong transaction costs nothing
            expect(tx)
        n_in, n_out = len(tx.vin), len(tx.vout)
    else:
        n_in = _count(pairs[b"\x04"], "inputs", wire.MAX_INPUTS)
        n_out = _count(pairs[b"\x05"], "outputs", wire.MAX_OUTPUTS)
    inputs = [_read_map(reader, _INPUT, version, f"input {i}") for i in range(n_in)]
    outputs = [_read_map(reader, _OUTPUT, version, f"output {i}") for i in range(n_out)]
    if not reader.at_end():
        raise malformed("extra bytes after the last output map")
    for key in (b"\x00", b"\x04", b"\x05", b"\xfb"):  # read here; embit reads the rest
        pairs.pop(key, None)
    maps = _Maps(version, tx, pairs, inputs, outputs)
    if version == 2 and expect is not None:
        expect(_v2_tx(maps))
    return maps


def _kv_map(reader: _PsbtReader, where: str) -> dict[bytes, bytes]:
    pairs: dict[bytes, bytes] = {}
    while key := reader.string("a key length"):
        reader.pairs_left -= 1
        if reader.pairs_left < 0:
            raise InvalidInput("psbt_too_large", f"the PSBT has more than {MAX_PAIRS} key-value pairs; "
                               "a standard transaction's needs fewer than 50,000")
        if key in pairs:  # BIP-174: keys must be unique within a map
            raise malformed(f"{where}: duplicate key {key[:34].hex()}")
        if key[0] >= 0xFD:  # BIP-174: the key type is itself a compact size, in shortest form
            wire.Reader(key, f"{where}: a key type").compact(f"{where}: key type {key[:9].hex()}")
        pairs[key] = reader.string("a value length")
    return pairs


def _version(pairs: dict[bytes, bytes]) -> int:
    value = pairs.get(b"\xfb", (0).to_bytes(4, "little"))
    version = int.from_bytes(value, "little") if len(value) == 4 else -1
    if version not in (0, 2):
        raise malformed(f"PSBT version {version} is not supported (0 or 2)")
    return version


def _read_map(reader: _PsbtReader, rules: dict, version: int, where: str) -> dict[bytes, bytes]:
    pairs = _kv_map(reader, where)
    _check_map(pairs, rules, version, where)
    return pairs


def _check_map(pairs: dict[bytes, bytes], rules: dict, version: int, where: str) -> None:
    for key, value in pairs.items():
        rule = rules.get(key[0])  # types from 0xfd on are unknown to both BIPs
        if rule is None:
            continue  # unknown and proprietary keys are kept as they are
        keydata, check, allowed, _ = rule
        if version not in allowed:  # BIP-370: v2 fields in v0 and v0 fields in v2 are invalid
            raise malformed(f"{where}: key type 0x{key[0]:02x} is not allowed in PSBT v{version}")
        if keydata == "pubkey":  # compressed or uncompressed SEC point (the common case: inline)
            ok = (len(key) == 34 and key[1] in (2, 3)) or (len(key) == 66 and key[1] == 4)
        else:
            ok = len(key) - 1 in keydata if isinstance(keydata, tuple) else _key_ok(keydata, key[1:])
        if not ok:
            raise malformed(f"{where}: key type 0x{key[0]:02x} has key data of the wrong length")
        if check is _derivation:  # inline too: five of an input's nine pairs
            problem = None if len(value) >= 4 and not len(value) % 4 else _BAD_DERIVATION
        else:
            problem = None if check is None else _value_problem(check, value)
        if problem:
            raise malformed(f"{where}: key type 0x{key[0]:02x}: {problem}")
    missing = [t for t in _required(rules, version) if t not in pairs]
    if missing:
        raise malformed(f"{where}: missing required key type 0x{missing[0][0]:02x}")


def _required(rules: dict, version: int) -> list[bytes]:
    """The keys a map must have in PSBT ``version``, worked out once per map kind."""
    if (id(rules), version) not in _REQUIRED:
        _REQUIRED[id(rules), version] = [bytes([t]) for t, rule in rules.items() if version in rule[3]]
    return _REQUIRED[id(rules), version]


_REQUIRED: dict[tuple[int, int], list[bytes]] = {}


def _key_ok(rule, keydata: bytes) -> bool:
    if rule == "pubkey":  # compressed or uncompressed SEC point
        return (len(keydata) == 33 and keydata[0] in (2, 3)) or (len(keydata) == 65 and keydata[0] == 4)
    if rule == "control":  # BIP-371 control block: 33 + 32*m bytes, m <= 128
        return 33 <= len(keydata) <= 33 + 32 * 128 and (len(keydata) - 33) % 32 == 0
    return len(keydata) in rule


def _value_problem(check, value: bytes) -> str | None:
    """None if ``value`` passes ``check``: allowed lengths, a parser, or a range."""
    if check is None:
        return None
    if isinstance(check, tuple):
        return None if len(value) in check else f"value has the wrong length {len(value)}"
    try:
        check(value)
    except (InvalidInput, *EMBIT_ERRORS) as e:
        return str(e)
    return None


def _compact_of(v: bytes) -> int:
    reader = wire.Reader(v, "a count")
    n = reader.compact("a count")
    if not reader.at_end():
        raise malformed("a count has extra bytes")
    return n


def _count(v: bytes, what: str, limit: int) -> int:
    """PSBT_GLOBAL_INPUT_COUNT or _OUTPUT_COUNT, refused above a standard transaction's."""
    n = _compact_of(v)
    if n > limit:
        raise InvalidInput("psbt_too_large", f"the PSBT has {n} {what}; a standard transaction has "
                           f"at most {limit} (400,000 weight units)")
    return n


_BAD_DERIVATION = "a derivation is a fingerprint and 4-byte steps"


def _derivation(v: bytes) -> None:
    if len(v) < 4 or len(v) % 4:
        raise ValueError(_BAD_DERIVATION)


def _tap_derivation(v: bytes) -> None:
    """BIP-371: a compact count of 32-byte leaf hashes, then a derivation."""
    reader = wire.Reader(v, "a taproot derivation")
    reader.take(32 * reader.compact("the count of leaf hashes"))
    _derivation(v[reader.pos:])


def _lock(low: int, high: int):
    def check(v: bytes) -> None:
        if len(v) != 4 or not low <= int.from_bytes(v, "little") < high:
            raise ValueError(f"a required locktime must be 4 bytes in {low}..{high - 1}")
    return check


# key type -> (key data: lengths | "pubkey" | "control", value: lengths | check | None,
#              versions allowing it, versions requiring it)
_0, _ANY, _V0, _V2, _NONE = (0,), (0, 2), (0,), (2,), ()
_GLOBAL = {
    0x00: (_0, None, _V0, _V0), 0x01: ((78,), _derivation, _ANY, _NONE),
    0x02: (_0, (4,), _V2, _V2), 0x03: (_0, (4,), _V2, _NONE),
    0x04: (_0, _compact_of, _V2, _V2), 0x05: (_0, _compact_of, _V2, _V2),
    0x06: (_0, (1,), _V2, _NONE), 0xFB: (_0, (4,), _ANY, _NONE),
}
_INPUT = {
    # 0x00, 0x01 and 0x08 are read strictly (wire.py) when the scope is built
    0x00: (_0, None, _ANY, _NONE), 0x01: (_0, None, _ANY, _NONE),
    0x02: ("pubkey", None, _ANY, _NONE), 0x03: (_0, (4,), _ANY, _NONE),
    0x04: (_0, None, _ANY, _NONE), 0x05: (_0, None, _ANY, _NONE),
    0x06: ("pubkey", _derivation, _ANY, _NONE), 0x07: (_0, None, _ANY, _NONE),
    0x08: (_0, None, _ANY, _NONE),
    0x09: ((20,), None, _ANY, _NONE), 0x0A: ((32,), None, _ANY, _NONE),
    0x0B: ((20,), None, _ANY, _NONE), 0x0C: ((32,), None, _ANY, _NONE),
    0x0E: (_0, (32,), _V2, _V2), 0x0F: (_0, (4,), _V2, _V2), 0x10: (_0, (4,), _V2, _NONE),
    0x11: (_0, _lock(500_000_000, 2**32), _V2, _NONE),  # BIP-370: a time, not a height
    0x12: (_0, _lock(1, 500_000_000), _V2, _NONE),  # BIP-370: a height above 0
    0x13: (_0, (64, 65), _ANY, _NONE), 0x14: ((64,), (64, 65), _ANY, _NONE),
    0x15: ("control", None, _ANY, _NONE), 0x16: ((32,), _tap_derivation, _ANY, _NONE),
    0x17: (_0, (32,), _ANY, _NONE), 0x18: (_0, (32,), _ANY, _NONE),
}
_OUTPUT = {
    0x00: (_0, None, _ANY, _NONE), 0x01: (_0, None, _ANY, _NONE),
    0x02: ("pubkey", _derivation, _ANY, _NONE),
    0x03: (_0, (8,), _V2, _V2), 0x04: (_0, None, _V2, _V2),
    0x05: (_0, (32,), _ANY, _NONE), 0x07: ((32,), _tap_derivation, _ANY, _NONE),
}
