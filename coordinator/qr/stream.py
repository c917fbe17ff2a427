"""One scanner for every format: feed frames one at a time, in any order.

The PWA's camera (through the server) and ``huddle qr decode`` feed frames
here. The format is detected from the first frame (UR, BBQr, or a bare PSBT
in one static QR); after that, frames of another format or another transfer
are refused. Limits are enforced before anything is stored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .bbqr import BBQrJoiner, BBQrPart
from .errors import BadPart
from .payload import PSBT_MAGIC, parse_psbt
from .ur import URDecoder, URPart, psbt_from_cbor

DEFAULT_MAX_MESSAGE_LEN = 2 * 1024 * 1024
DEFAULT_MAX_SEQ_LEN = 10_000
# The largest QR (version 40) holds 4296 alphanumeric or 7089 numeric characters.
MAX_FRAME_LEN = 7089
_MAX_SEEN = 65_536


@dataclass(frozen=True)
class Progress:
    percent: int
    parts_seen: int
    parts_total: int | None
    format: str | None
    complete: bool

    def to_dict(self) -> dict:
        return asdict(self)


class StreamDecoder:
    """Detects the format, collects parts and yields the PSBT when complete."""

    def __init__(self, max_message_len: int = DEFAULT_MAX_MESSAGE_LEN,
                 max_seq_len: int = DEFAULT_MAX_SEQ_LEN) -> None:
        self.max_message_len = max_message_len
        self.max_seq_len = max_seq_len
        self.reset()

    def reset(self) -> None:
        self.format: str | None = None
        self._ur = URDecoder(self.max_message_len, self.max_seq_len)
        self._bbqr = BBQrJoiner(self.max_message_len)
        self._seen: set = set()
        self._data: bytes | None = None
        self.file_type: str | None = None

    @property
    def complete(self) -> bool:
        return self._data is not None

    def receive(self, frame: str) -> Progress:
        """Take one scanned frame; raises BadPart (leaving state as it was)."""
        frame = frame.strip()
        if len(frame) > MAX_FRAME_LEN:
            raise BadPart("qr_malformed_part", "frame is longer than any QR code can hold")
        if not self.complete:
            kind = _detect(frame)
            if self.format is not None and kind != self.format:
                raise BadPart("qr_mixed_transfer", f"a {kind} frame in a {self.format} transfer",
                              format=kind, expected=self.format)
            {"ur": self._receive_ur, "bbqr": self._receive_bbqr,
             "psbt": self._receive_bare}[kind](frame)
            self.format = kind
        return self.progress()

    def _receive_ur(self, frame: str) -> None:
        part = URPart.from_string(frame)
        self._ur.receive(part)
        self._remember(part.seq[0] if part.seq else 0)  # seqLen is fixed per transfer
        if self._ur.result is not None:
            self._data = psbt_from_cbor(self._ur.result)
            self.file_type = "P"

    def _receive_bbqr(self, frame: str) -> None:
        part = BBQrPart.from_string(frame)
        try:
            self._bbqr.receive(part)
        except BadPart:
            if not self._bbqr.parts:  # a complete series that did not decode: start over
                self._seen.clear()
            raise
        self._remember(part.index)
        if self._bbqr.result is not None:
            self.file_type, self._data = self._bbqr.result

    def _receive_bare(self, frame: str) -> None:
        self._data = parse_psbt(frame.encode("ascii", "replace"), self.max_message_len)
        self.file_type = "P"
        self._remember(0)

    def _remember(self, key: object) -> None:
        if len(self._seen) < _MAX_SEEN:
            self._seen.add(key)

    def progress(self) -> Progress:
        total = self._total()
        if self.complete:
            percent = 100
        elif self.format == "ur" and total:
            # Peeling makes known fragments jump late; count the parts that
            # added something (not repeats or parts that peel to nothing)
            # against the ~1.2x overhead fountain decoding usually needs.
            fountain = self._ur.fountain
            known = fountain.fragments_known / total
            percent = min(99, int(100 * max(known, fountain.useful / (1.2 * total))))
        else:
            percent = int(100 * len(self._seen) / total) if total else 0
        return Progress(percent, len(self._seen), total, self.format, self.complete)

    def _total(self) -> int | None:
        if self.format == "ur":
            return self._ur.fountain.seq_len or 1
        if self.format == "bbqr":
            return self._bbqr.total
        return 1 if self.format else None

    @property
    def data(self) -> bytes:
        """The transferred file's bytes (any BBQr file type)."""
        if self._data is None:
            pct = self.progress()
            raise BadPart("qr_incomplete", f"transfer incomplete: {pct.parts_seen} parts "
                          f"seen, about {pct.percent}% done", **pct.to_dict())
        return self._data

    @property
    def psbt(self) -> bytes:
        data = self.data
        if self.file_type != "P" or not data.startswith(PSBT_MAGIC):
            raise BadPart("qr_not_psbt", f"the transfer holds a {self.file_type or '?'} file, "
                          "not a PSBT", file_type=self.file_type)
        return data


def _detect(frame: str) -> str:
    head = frame[:3].lower()
    if head == "ur:":
        return "ur"
    if frame[:2].upper() == "B$":
        return "bbqr"
    if frame.startswith("cHNidP8") or frame[:10].lower() == PSBT_MAGIC.hex():
        return "psbt"
    raise BadPart("qr_unknown_format", "frame is neither UR, BBQr nor a PSBT")

