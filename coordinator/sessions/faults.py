"""Named fault points for the crash tests (DESIGN.md, "Tests that cannot be passed by a toy").

``HUDDLE_FAULT=after_sig_insert`` (or ``mid_finalize``, ``after_broadcast``) makes
the process SIGKILL itself when it passes that point, as ``kill -9`` would. Unset
(always, outside the crash tests) it costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

POINTS = ("after_sig_insert", "mid_finalize", "after_broadcast")


def point(name: str) -> None:
    if os.environ.get("HUDDLE_FAULT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
