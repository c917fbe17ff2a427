"""Error codes of the animated-QR core, registered with the one error tree.

Every bad frame is an ``InvalidInput`` (the sender or the scan is wrong), so
the CLI exits 3 and the web layer answers 400. A type we recognise but do not
read is ``Unsupported`` (422).
"""

from __future__ import annotations

from ..errors import InvalidInput, Unsupported, register

CODES: dict[str, str] = {
    "qr_malformed_part": "a frame that is not a well-formed UR or BBQr part",
    "qr_bad_checksum": "a UR part whose Bytewords CRC-32 does not match (a corrupted frame)",
    "qr_message_checksum": "the reassembled UR message does not match the CRC-32 its parts announce",
    "qr_inconsistent_part": "a part whose sequence length, message length or fragment size "
                            "differs from the earlier parts of the same transfer",
    "qr_mixed_transfer": "a part from a different transfer (other message, UR type or format)",
    "qr_unknown_type": "a UR type, BBQr encoding or BBQr file type that Huddle does not read",
    "qr_unknown_format": "a frame that is neither UR, BBQr nor a bare PSBT",
    "qr_too_large": "a transfer that claims more bytes than the decoder accepts",
    "qr_inflate_too_large": "a BBQr Z part that inflates past the size limit (a zip bomb)",
    "qr_bbqr_header_mismatch": "a BBQr part whose header disagrees with the earlier parts",
    "qr_not_psbt": "a complete transfer or input file that is not a PSBT",
    "qr_incomplete": "the frames ran out before the transfer was complete",
    "qr_compact_undocumented": "a compact PSBT asked for a device not documented to sign without "
                               "non_witness_utxo (coordinator/qr/compact.py)",
}
register(CODES)


class BadPart(InvalidInput):
    """A frame, or the data it carries, is wrong."""


class UnsupportedPart(BadPart, Unsupported):
    """A well-formed frame of a type Huddle does not read (still a BadPart, so
    one ``except BadPart`` catches every refused frame)."""
