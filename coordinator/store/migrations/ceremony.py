"""Live signing ceremonies: signatures, ceremony state, presence, leases (issue 11, docs/ceremony.md): migrations m030-m039.

Never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database  # noqa: F401  (used by the migrations below)

from . import MIGRATIONS  # noqa: F401
