"""embit's input and output scopes, built from key-value pairs codec.py has checked.

Building them ourselves, rather than letting embit re-read the bytes, reads
each value once and strictly (wire.py), and leaves the public keys of BIP-32
derivations as their bytes: embit sends every one through libsecp256k1, and a
500-input 3-of-5 PSBT has 2,500 of them that nothing ever uses as a point
(derivations only say which index to derive; the keys are then derived from
the descriptor and compared byte for byte). Keys that sign (``partial_sigs``)
are parsed at once into embit's ``PublicKey``, so an off-curve one is
``malformed_psbt`` as before and every dict of them hashes alike.
"""

from __future__ import annotations

import functools
import struct
from io import BytesIO

from embit import compact
from embit.bip32 import HDKey
from embit.ec import PublicKey
from embit.misc import secp256k1
from embit.psbt import DerivationPath, InputScope, OutputScope
from embit.script import Script

from ..errors import InvalidInput
from . import wire


class LazyPublicKey(PublicKey):
    """A public key kept as its SEC bytes; libsecp256k1 parses it on first use as a point.

    The length and prefix are checked when it is made (codec's ``_key_ok``);
    whether it is on the curve, when first used as a point (``malformed_psbt``
    if not). Equal to an embit ``PublicKey`` with the same SEC bytes, but hashed
    by those bytes: keep one kind per dict (``codec.copy`` converts).
    """

    def __init__(self, sec: bytes, point: bytes | None = None) -> None:
        self._sec, self._parsed, self.compressed = bytes(sec), point, len(sec) == 33

    @classmethod
    def of(cls, key: PublicKey) -> "LazyPublicKey":
        return key if isinstance(key, cls) else cls(key.sec(), key._point)

    @property
    def _point(self) -> bytes:
        if self._parsed is None:
            self._parsed = _point(self._sec)
        return self._parsed

    def sec(self) -> bytes:
        return self._sec

    def serialize(self) -> bytes:
        return self._sec

    def write_to(self, stream) -> int:
        return stream.write(self._sec)

    def __eq__(self, other) -> bool:
        return isinstance(other, PublicKey) and self._sec == other.sec()

    def __hash__(self) -> int:
        return hash(self._sec)


# Key types embit's scopes read into fields; every other pair stays, as it came, in
# ``unknown`` (the map's own dict: an 8 MiB map of unknowns is not held twice).
_INPUT_FIELDS = frozenset({*range(0x00, 0x09), 0x0E, 0x0F, 0x10, *range(0x14, 0x19)})
_OUTPUT_FIELDS = frozenset({*range(0x00, 0x06), 0x07})


class Input(InputScope):
    """embit's ``InputScope``, whose BIP-32 derivations (checked by codec) become objects
    when first asked for: merge never asks for a signer's, 2,500 in a 500-input 3-of-5."""

    @property
    def bip32_derivations(self) -> dict:
        pending = self.__dict__.pop("_pending", None)
        if pending is not None:
            self.__dict__["_derivations"] = {LazyPublicKey(k[1:]): derivation_path(v) for k, v in pending}
        return self.__dict__["_derivations"]

    @bip32_derivations.setter
    def bip32_derivations(self, value: dict) -> None:
        self.__dict__.pop("_pending", None)
        self.__dict__["_derivations"] = value


def build_input(pairs: dict[bytes, bytes], vin, where: str) -> InputScope:
    """An ``InputScope`` from an input map's checked pairs (which become its ``unknown``)."""
    scope = Input(unknown={}, vin=vin)  # a dict of its own: embit's default is shared
    # plain dicts: iterating an OrderedDict's values hashes every key again
    scope.partial_sigs, derivations = {}, []
    for key, value in _fields(pairs, _INPUT_FIELDS):
        kind = key[0]
        if kind == 0x06:
            derivations.append((key, value))
        elif kind == 0x02:
            scope.partial_sigs[signing_key(key[1:])] = value
        elif kind == 0x00:
            scope.non_witness_utxo = _strict(_previous_tx, value, where, kind)
        elif kind == 0x01:
            scope.witness_utxo = _strict(wire.read_output, value, where, kind)
        elif kind == 0x05:
            scope.witness_script = Script(value)
        elif kind == 0x04:
            scope.redeem_script = Script(value)
        elif kind == 0x03:
            scope.sighash_type = int.from_bytes(value, "little")
        elif kind == 0x07:
            scope.final_scriptsig = Script(value)
        elif kind == 0x08:
            scope.final_scriptwitness = _strict(wire.read_witness, value, where, kind)
        else:  # v2 and taproot fields: embit's own reading
            scope.read_value(BytesIO(compact.to_bytes(len(value)) + value), key)
    scope.unknown = pairs
    scope.__dict__["_pending"] = derivations
    return scope


def build_output(pairs: dict[bytes, bytes], vout) -> OutputScope:
    """An ``OutputScope`` from an output map's checked pairs (which become its ``unknown``)."""
    scope = OutputScope(unknown={}, vout=vout)
    scope.bip32_derivations = {}
    for key, value in _fields(pairs, _OUTPUT_FIELDS):
        kind = key[0]
        if kind == 0x02:
            scope.bip32_derivations[LazyPublicKey(key[1:])] = derivation_path(value)
        elif kind == 0x01:
            scope.witness_script = Script(value)
        elif kind == 0x00:
            scope.redeem_script = Script(value)
        else:
            scope.read_value(BytesIO(compact.to_bytes(len(value)) + value), key)
    scope.unknown = pairs
    return scope


def _fields(pairs: dict[bytes, bytes], kinds: frozenset) -> list[tuple[bytes, bytes]]:
    """The pairs embit has fields for, in order, taken out of ``pairs``."""
    return [(key, pairs.pop(key)) for key in [key for key in pairs if key[0] in kinds]]


class ParsedPublicKey(PublicKey):
    """An embit ``PublicKey`` (same hash) that remembers its SEC bytes.

    embit serializes the point through libsecp256k1 on every ``sec()``; merge,
    status and finalize ask each signature's key for it several times.
    """

    def __init__(self, sec: bytes) -> None:
        super().__init__(_point(sec), len(sec) == 33)
        self._sec, self._hash = bytes(sec), hash(self._point)

    def sec(self) -> bytes:
        return self._sec

    def __hash__(self) -> int:  # embit's, computed once
        return self._hash


@functools.lru_cache(maxsize=8192)
def signing_key(sec: bytes) -> PublicKey:
    """A ``partial_sigs`` key, parsed now (``malformed_psbt`` if not a point).

    Shared, like every parsed key (replace it, never change it in place): the
    signature checks ask again for the keys the PSBT just named.
    """
    return ParsedPublicKey(sec)


def _point(sec: bytes) -> bytes:
    try:
        return secp256k1.ec_pubkey_parse(sec)
    except (ValueError, TypeError):
        raise InvalidInput("malformed_psbt", f"public key {sec.hex()} is not a point on secp256k1") from None


def global_xpubs(pairs: dict[bytes, bytes]) -> dict:
    """PSBT_GLOBAL_XPUB pairs (taken out of ``pairs``) as embit's ``psbt.xpubs``."""
    keys = [key for key in pairs if key[0] == 0x01]
    return {_xpub(key[1:]): derivation_path(pairs.pop(key)) for key in keys}


class ParsedHDKey(HDKey):
    """embit's ``HDKey``, serialized (so hashed: it keys ``psbt.xpubs``) in one
    pass from its current fields, where embit writes each through a stream."""

    def serialize(self, version: bytes | None = None) -> bytes:
        return ((self.version if version is None else version) + bytes([self.depth]) + self.fingerprint
                + self.child_number.to_bytes(4, "big") + self.chain_code
                + (b"\x00" if self.is_private else b"") + self.key.serialize())


def _xpub(keydata: bytes) -> HDKey:
    key = ParsedHDKey.__new__(ParsedHDKey)
    key.__dict__.update(_xpub_fields(keydata))
    return key


@functools.lru_cache(maxsize=1024)
def _xpub_fields(keydata: bytes) -> dict:
    """embit's checks of an extended key, done once per key: they base58-encode it three
    times (to check the version's "pub"/"prv"), and every PSBT of a wallet has the same keys."""
    fields = dict(HDKey.parse(keydata).__dict__)
    if not fields["key"].is_private:
        fields["key"] = ParsedPublicKey(keydata[45:])
    return fields


def derivation_path(value: bytes) -> DerivationPath:
    """A fingerprint and 4-byte steps (the length was checked by codec)."""
    steps = len(value) // 4 - 1
    unpack = _STEPS[steps] if steps < len(_STEPS) else struct.Struct(f"<{steps}I").unpack
    return DerivationPath(value[:4], list(unpack(value[4:])))


_STEPS = [struct.Struct(f"<{n}I").unpack for n in range(16)]  # paths are short: compile those once


def _previous_tx(value: bytes) -> wire.ReadTransaction:
    return _known_tx(value) if len(value) <= 4096 else wire.read_tx(value)


@functools.lru_cache(maxsize=4096)
def _known_tx(value: bytes) -> wire.ReadTransaction:
    """Every PSBT of a spend carries the same previous transactions (the stored one
    and each signer's), so each is read once; the object is shared, as
    codec.copy shares it: replace it, never change it in place. At most 16 MiB."""
    return wire.read_tx(value)


def _strict(read, value: bytes, where: str, kind: int):
    try:
        return read(value)
    except InvalidInput as e:
        if e.code != "malformed_psbt":
            raise
        raise wire.malformed(f"{where}: key type 0x{kind:02x}: {e.message}") from None
