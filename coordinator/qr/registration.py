"""A wallet's registration shown back as QR, in the formats QR-only signers
import (docs/qr.md, "Registering the wallet on a QR-only device"):

- ``descriptor``: the BIP-380 descriptor text with its checksum, one static QR
  (SeedSigner, Jade, Keystone and Passport scan it);
- ``crypto-output``: BCR-2020-010 (tags 400 sh, 401 wsh, 407 sortedmulti,
  303 crypto-hdkey), animated UR; the keys are account keys without a
  ``children`` path, which BCR-2020-010 readers take as the standard receive
  and change branches (0/* and 1/*), as the descriptor's ``<0;1>/*`` says;
- ``output-descriptor``: BCR-2023-010 (tag 40308): the descriptor text with
  ``@n`` placeholders and the keys as 2023 ``hdkey`` maps (tags 40303-40305);
- ``coldcard``: the Coldcard multisig setup file as BBQr, file type U
  (Coldcard Q: Settings > Multisig Wallets > Import from QR).
"""

from __future__ import annotations

from dataclasses import dataclass

from embit.bip32 import HDKey

from ..errors import InvalidInput
from ..wallet import formats
from ..wallet.descriptor import MultisigDescriptor
from ..wallet.keys import HARDENED, Cosigner
from . import account_errors  # noqa: F401  (registers the codes)
from . import bbqr
from .keycbor import Tagged, dumps
from .presets import Density
from .render import sequence_version
from .ur import UREncoder

FORMATS = ("descriptor", "crypto-output", "output-descriptor", "coldcard")
_OLD = {"sh": 400, "wsh": 401, "sortedmulti": 407, "multi": 406, "hdkey": 303, "keypath": 304, "coininfo": 305}
_NEW = {"hdkey": 40303, "keypath": 40304, "coininfo": 40305}
OUTPUT_DESCRIPTOR_TAG = 40308


@dataclass(frozen=True)
class Registration:
    format: str
    frames: tuple[str, ...]
    version: int  # the QR version every frame is drawn at

    def to_dict(self) -> dict:
        return {"format": self.format, "version": self.version, "frames": list(self.frames)}


def registration_frames(descriptor: MultisigDescriptor, network: str, name: str, fmt: str,
                        density: Density) -> Registration:
    """The frames a QR-only signer scans to register the wallet."""
    if fmt == "descriptor":
        frames: tuple[str, ...] = (descriptor.to_string(),)
    elif fmt in ("crypto-output", "output-descriptor"):
        cbor = crypto_output(descriptor) if fmt == "crypto-output" else output_descriptor(descriptor, name)
        encoder = UREncoder(fmt, cbor, density.ur_fragment_len)
        # Every fragment once, then as many fountain mixes: a missed frame is soon made up.
        count = 1 if encoder.is_single_part else 2 * encoder.seq_len
        frames = tuple(encoder.next_part() for _ in range(count))
    elif fmt == "coldcard":
        text = formats.dump(formats.WalletFile(name, descriptor, network), "coldcard", network)
        series = bbqr.serialize(text.encode("utf-8"), "U", max_version=density.qr_version)
        return Registration(fmt, series.parts, series.version)
    else:
        raise InvalidInput("registration_format", f"the registration QR format is one of "
                           f"{', '.join(FORMATS)}, not {fmt[:40]!r}")
    return Registration(fmt, frames, sequence_version(frames))


def _hdkey(cosigner: Cosigner, tags: dict[str, int]) -> dict:
    key = HDKey.from_string(cosigner.xpub)
    components: list = []
    for step in cosigner.origin.path:
        components += [step & ~HARDENED, step >= HARDENED]
    origin = {1: components, 2: int.from_bytes(cosigner.origin.fingerprint, "big"),
              3: len(cosigner.origin.path)}
    body = {3: key.key.sec(), 4: key.chain_code, 6: Tagged(tags["keypath"], origin),
            8: int.from_bytes(key.fingerprint, "big")}
    if cosigner.is_test:  # BCR-2020-007 use-info: type 0 (BTC), network 1 (testnet); mainnet is the default
        body[5] = Tagged(tags["coininfo"], {2: 1})
    return body


def crypto_output(descriptor: MultisigDescriptor) -> bytes:
    """BCR-2020-010 ``crypto-output`` CBOR of the multisig descriptor."""
    keys = [Tagged(_OLD["hdkey"], _hdkey(c, _OLD)) for c in descriptor.cosigners]
    multi = Tagged(_OLD["sortedmulti" if descriptor.sorted else "multi"], {1: descriptor.threshold, 2: keys})
    script = Tagged(_OLD["wsh"], multi)
    if descriptor.script_type == "sh-wsh":
        script = Tagged(_OLD["sh"], script)
    return dumps(script)


def output_descriptor(descriptor: MultisigDescriptor, name: str) -> bytes:
    """BCR-2023-010 ``output-descriptor`` CBOR: {1: source, 2: keys, 3: name}."""
    func = "sortedmulti" if descriptor.sorted else "multi"
    args = ",".join(f"@{i}/<0;1>/*" for i in range(descriptor.n))
    source = f"wsh({func}({descriptor.threshold},{args}))"
    if descriptor.script_type == "sh-wsh":
        source = f"sh({source})"
    keys = [Tagged(_NEW["hdkey"], _hdkey(c, _NEW)) for c in descriptor.cosigners]
    body: dict = {1: source, 2: keys}
    if name:
        body[3] = name
    return dumps(body)
