"""Real-time delivery across server processes: publish cursors and leases (issue 11,
docs/scaling.md): migrations m040-m044.

Never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database  # noqa: F401  (used by the migrations below)

from . import MIGRATIONS  # noqa: F401
