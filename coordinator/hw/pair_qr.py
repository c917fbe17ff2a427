"""``huddle agent pair --qr IMAGE``: the pairing link read from a photo or a
screenshot of the web UI's QR code.

zxing-cpp finds and decodes the code (rotated, inverted or small in a large
photo); Pillow opens the image. Both come with the agent extra; when either is
missing the command says so in one line (``pair_qr_reader_missing``) and the
link can still be pasted. A camera read was left out: OpenCV alone is tens of
megabytes, for a code the same screen can give as text.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from ..errors import InvalidInput, Unavailable
from .pair_uri import is_pair_uri

MAX_IMAGE_BYTES = 40_000_000  # a 48-megapixel phone photo is about 20 MB
SHOWN = 40  # characters of a foreign QR's text quoted back


def read(source: str) -> str:
    """The one pairing link in the image at ``source``."""
    zxingcpp, image_module = _libraries()
    image = _open(source, image_module)
    try:
        found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    except (ValueError, RuntimeError) as err:  # an image layout zxing-cpp does not take
        raise InvalidInput("pair_image_unreadable", f"cannot scan {source}: {err}") from None
    texts = [b.text for b in found if getattr(b, "valid", True) and b.text]
    if not texts:
        raise InvalidInput("pair_qr_not_found", f"no QR code found in {source}; photograph the code straight on, "
                                                "filling much of the picture, or paste the huddle-pair: link")
    links = sorted({t.strip() for t in texts if is_pair_uri(t)})
    if len(links) > 1:
        raise InvalidInput("bad_pair_uri", f"{source} holds {len(links)} different pairing links; "
                                           "crop it to the one you mean")
    if not links:
        raise InvalidInput("bad_pair_uri", f"the QR code in {source} is no pairing link (it reads "
                                           f"{_printable(texts[0])!r}); scan the one under Settings, Signer agent")
    return links[0]


def _libraries():
    try:
        import zxingcpp
        from PIL import Image
    except ImportError as err:
        raise Unavailable("pair_qr_reader_missing",
                          f"reading a QR image needs zxing-cpp and Pillow ({err.name or 'one'} is not installed; "
                          "pip install zxing-cpp pillow), or paste the huddle-pair: link instead") from None
    return zxingcpp, Image


def _open(source: str, image_module):
    try:
        with open(Path(source).expanduser(), "rb") as handle:
            data = handle.read(MAX_IMAGE_BYTES + 1)
    except OSError as err:
        raise InvalidInput("pair_image_unreadable", f"cannot read {source}: {err.strerror or err}") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidInput("pair_image_unreadable", f"{source} is larger than {MAX_IMAGE_BYTES} bytes")
    with warnings.catch_warnings():
        warnings.simplefilter("error", image_module.DecompressionBombWarning)  # no warning on stderr
        try:
            image = image_module.open(io.BytesIO(data))
            return image.convert("L")
        except Exception as err:  # noqa: BLE001  Pillow's decoders raise many kinds on a broken file
            raise InvalidInput("pair_image_unreadable",
                               f"{source} is not an image this agent can read (PNG, JPEG, ...): "
                               f"{type(err).__name__}") from None


def _printable(text: str) -> str:
    shown = "".join(c if c.isprintable() else "?" for c in text[:SHOWN])
    return shown + ("..." if len(text) > SHOWN else "")
