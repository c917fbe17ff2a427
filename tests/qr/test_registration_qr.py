"""Each registration QR decodes, in an independent decoder, back to the same wallet.

What is independent of Huddle's own code, and what is not:

- the frames are made by Huddle (coordinator/qr/registration.py), that is the subject;
- each frame is drawn by segno directly (not Huddle's FrameRenderer) as a PNG and read
  back from the image by zxing-cpp (a C++ QR reader);
- UR frames are reassembled by the minimal reader below, written from BCR-2020-005 /
  BCR-2024-001 (Bytewords minimal form from the word list in tests/vectors/ur.json,
  CRC-32 from zlib, multipart messages from their plain fragments seqNum 1..seqLen);
  no UR package is in the test lock, so none is used. The reader is checked first
  against the BCR-2020-010 spec's own crypto-output strings;
- the CBOR is read by cbor2, not by Huddle's keycbor.py;
- BBQr parts are joined by the minimal reader below, written from BBQr.md (there is
  no BBQr package on PyPI in the lock), and the Coldcard file read by a few lines here;
- the wallet each decodes to is rebuilt as descriptor text and handed to bdkpython,
  whose first receive and change addresses must equal Huddle's.
"""

from __future__ import annotations

import base64
import io
import json
import re
import zlib
from pathlib import Path

import bdkpython as bdk
import cbor2
import pytest
import segno
import zxingcpp
from embit.bip32 import HDKey
from embit.ec import PublicKey
from embit.networks import NETWORKS
from PIL import Image

from coordinator.errors import HuddleError
from coordinator.qr import PRESETS
from coordinator.qr.registration import FORMATS, registration_frames

from .. import keys

UR_VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "ur.json").read_text())
WORDS = UR_VECTORS["bytewords"]["wordlist"]
WORDS = WORDS.split() if isinstance(WORDS, str) else WORDS
MINIMAL = {w[0] + w[-1]: i for i, w in enumerate(WORDS)}
NETWORK = "regtest"


def scanned(frame: str) -> str:
    """Draw with segno, read the picture back with zxing-cpp."""
    text = frame.upper() if frame.startswith("ur:") else frame
    png = io.BytesIO()
    segno.make_qr(text, error="l").save(png, kind="png", scale=4, border=4)
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.getvalue())).convert("L"))
    assert len(found) == 1
    return found[0].text


def ur_message(frames: list[str]) -> tuple[str, bytes]:
    """(type, message) from UR frames: minimal Bytewords, CRC-32, plain fragments."""
    fragments: dict[int, bytes] = {}
    for frame in frames:
        ur_type, *seq, body = frame.lower().split("/")
        raw = bytes(MINIMAL[body[i:i + 2]] for i in range(0, len(body), 2))
        payload, crc = raw[:-4], raw[-4:]
        assert zlib.crc32(payload).to_bytes(4, "big") == crc
        if not seq:
            return ur_type[3:], payload
        seq_num, seq_len, length, checksum, fragment = cbor2.loads(payload)
        if seq_num <= seq_len:
            fragments[seq_num] = fragment
    assert sorted(fragments) == list(range(1, seq_len + 1))
    message = b"".join(fragments[i] for i in sorted(fragments))[:length]
    assert zlib.crc32(message) == checksum
    return ur_type[3:], message


def bbqr_file(frames: list[str]) -> tuple[str, bytes]:
    """(file type, bytes) from BBQr parts, per BBQr.md."""
    parts = {int(f[6:8], 36): f for f in frames}
    encoding, file_type, total = frames[0][2], frames[0][3], int(frames[0][4:6], 36)
    assert sorted(parts) == list(range(total))
    data = "".join(parts[i][8:] for i in range(total))
    if encoding == "H":
        return file_type, bytes.fromhex(data)
    raw = base64.b32decode(data + "=" * (-len(data) % 8))
    return file_type, zlib.decompress(raw, wbits=-10) if encoding == "Z" else raw


def key_from_hdkey(hdkey: dict) -> str:
    """[fingerprint/path]xpub from a BCR-2020-007 hdkey map (old or 2023 tags)."""
    origin = hdkey[6].value
    steps = origin[1]
    path = "/".join(f"{i}h" if hard else str(i) for i, hard in zip(steps[::2], steps[1::2]))
    child = steps[-2] + (0x80000000 if steps[-1] else 0)
    test = 5 in hdkey and hdkey[5].value.get(2) == 1
    key = HDKey(PublicKey.parse(hdkey[3]), hdkey[4], version=NETWORKS["test" if test else "main"]["xpub"],
                depth=origin[3], fingerprint=hdkey[8].to_bytes(4, "big"), child_number=child)
    return f"[{origin[2]:08x}/{path}]{key.to_base58()}"


def crypto_output_descriptor(message: bytes) -> str:
    item, wrappers = cbor2.loads(message), []
    while item.tag in (400, 401):
        wrappers.append({400: "sh", 401: "wsh"}[item.tag])
        item = item.value
    assert item.tag == 407  # sortedmulti
    keys_text = ",".join(f"{key_from_hdkey(k.value)}/<0;1>/*" for k in item.value[2])
    text = f"sortedmulti({item.value[1]},{keys_text})"
    for name in reversed(wrappers):
        text = f"{name}({text})"
    return text


def output_descriptor_descriptor(message: bytes) -> str:
    body = cbor2.loads(message)
    text = body[1]
    for i, key in enumerate(body[2]):
        assert key.tag == 40303
        text = text.replace(f"@{i}/", key_from_hdkey(key.value) + "/")
    return text


def coldcard_descriptor(text: str) -> str:
    fields = dict(re.findall(r"^([^:#\n]+):\s*(.+)$", text, re.M))
    m, _ = map(int, fields.pop("Policy").split(" of "))
    fmt, deriv = fields.pop("Format"), fields.pop("Derivation").replace("'", "h")[2:]
    fields.pop("Name")
    keys_text = ",".join(f"[{xfp.lower()}/{deriv}]{xpub}/<0;1>/*" for xfp, xpub in fields.items())
    inner = f"wsh(sortedmulti({m},{keys_text}))"
    return {"P2WSH": inner, "P2SH-P2WSH": f"sh({inner})", "P2WSH-P2SH": f"sh({inner})"}[fmt]


def first_addresses(descriptor_text: str) -> tuple[str, str]:
    """bdk's first receive and change addresses of a multipath descriptor."""
    receive, change = bdk.Descriptor(descriptor_text, bdk.NetworkKind.TEST).to_single_descriptors()
    return (str(receive.derive_address(0, bdk.Network.REGTEST)),
            str(change.derive_address(0, bdk.Network.REGTEST)))


def decoded_wallet(fmt: str, frames: list[str]) -> str:
    if fmt == "descriptor":
        assert len(frames) == 1
        return frames[0]
    if fmt == "coldcard":
        file_type, data = bbqr_file(frames)
        assert file_type == "U"
        return coldcard_descriptor(data.decode())
    ur_type, message = ur_message(frames)
    assert ur_type == fmt
    return crypto_output_descriptor(message) if fmt == "crypto-output" else output_descriptor_descriptor(message)


def test_the_independent_ur_reader_reads_the_bcr_crypto_output_vectors():
    for example in UR_VECTORS["crypto_output_examples"]["examples"]:
        ur_type, message = ur_message([example["ur"]])
        assert ur_type == "crypto-output" and message.hex() == example["cbor_hex"]


@pytest.mark.parametrize("script", ["wsh", "sh-wsh"])
@pytest.mark.parametrize("density", ["low", "high"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_each_registration_qr_decodes_independently_to_the_same_wallet(fmt, density, script):
    wallet = keys.descriptor(2, 3, True, script)
    shown = registration_frames(wallet, NETWORK, "Family vault", fmt, PRESETS[density])
    frames = [scanned(frame) for frame in shown.frames]
    text = decoded_wallet(fmt, frames)
    assert first_addresses(text) == (wallet.address(0, 0, NETWORK), wallet.address(1, 0, NETWORK))
    assert sorted(re.findall(r"\[([0-9a-f]{8})/", text)) == sorted(c.fingerprint for c in wallet.cosigners)


def test_a_low_density_crypto_output_is_animated_over_several_frames():
    wallet = keys.descriptor(2, 3, True, "wsh")
    shown = registration_frames(wallet, NETWORK, "Family vault", "crypto-output", PRESETS["low"])
    assert len(shown.frames) > 2 and all(re.match(r"ur:crypto-output/\d+-\d+/", f) for f in shown.frames)


def test_an_unknown_registration_format_is_refused():
    with pytest.raises(HuddleError) as caught:
        registration_frames(keys.descriptor(2, 3), NETWORK, "x", "psbt", PRESETS["medium"])
    assert caught.value.code == "registration_format"
