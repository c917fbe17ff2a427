"""The server's VAPID key pair (RFC 8292): a P-256 key made on the first run and
kept in the data directory, mode 0600, as coordinator/config.py keeps the secret key."""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path

from ..errors import InvalidInput

FILE = "vapid_private_key.pem"


def ensure(data_dir: Path) -> Path:
    """The key file, made once (atomically: two processes starting together keep one key)."""
    path = Path(data_dir) / FILE
    if not path.exists():
        _create(path)
    elif path.stat().st_mode & 0o077:
        path.chmod(0o600)  # someone loosened it; a readable key lets anyone push as this server
    return path


def public_key(path: Path) -> str:
    """The public key as the browser's ``applicationServerKey``: the uncompressed
    point, base64url without padding."""
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError) as err:
        raise InvalidInput("bad_config", f"cannot read the VAPID key {path}: {err}") from None
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def _create(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd, tmp = tempfile.mkstemp(prefix=".vapid-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        try:
            os.link(tmp, path)  # fails if another process made it first: theirs wins
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
