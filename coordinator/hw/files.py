"""The agent's private files: JSON, mode 0600 in 0700 directories, replaced whole.

Each write goes to a temporary file (created 0600) that is flushed, synced and
renamed over the old one, so a crash leaves the old file or the new one, never
half of one. A file someone loosened is made private again when read.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

from ..errors import StorageError


def write_json(path: Path, data: object) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.chmod(0o700)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)  # mode 0600
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as err:
        raise StorageError("agent_dir_error", f"cannot write {path}: {err.strerror or err}") from None


def read_json(path: Path) -> object:
    try:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(0o600)  # someone loosened it
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise StorageError("agent_dir_error", f"cannot read {path}: {err}") from None
