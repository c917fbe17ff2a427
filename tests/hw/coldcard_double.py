"""TEST ONLY: a stand-in for a Coldcard's ckcc connection, enforcing the enrollment protocol:
the file must be uploaded whole first, and ``multisig_enroll`` must name its length and
SHA-256. It keeps the file it was asked to enroll (the user would approve it on screen)."""

from __future__ import annotations

import hashlib
import struct

from hwilib.devices.ckcc.protocol import CCProtocolPacker

from .. import keys


class CkccDouble:
    def __init__(self, seed: int) -> None:
        self.fingerprint = keys.fingerprint(seed)
        self.uploaded = b""
        self.enrolled: list[str] = []

    def upload_file(self, data: bytes) -> tuple[int, bytes]:
        self.uploaded = bytes(data)
        return len(data), hashlib.sha256(data).digest()

    def send_recv(self, msg: bytes, timeout=None):
        command, length, sha = struct.unpack("<4sI32s", msg)
        expected = CCProtocolPacker.multisig_enroll(len(self.uploaded), hashlib.sha256(self.uploaded).digest())
        if command != b"enrl" or msg != expected:
            raise RuntimeError("enroll does not match the uploaded file")
        self.enrolled.append(self.uploaded.decode("ascii"))


class ColdcardShell:
    """HWI's ColdcardClient reduced to ``.device`` (the ckcc connection) and ``close``."""

    kind = "coldcard"

    def __init__(self, seed: int) -> None:
        self.device = CkccDouble(seed)
        self.fingerprint, self.path = self.device.fingerprint, f"coldcard:{seed}"

    def close(self) -> None:
        pass
