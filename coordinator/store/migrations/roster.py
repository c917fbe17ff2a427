"""Agent keys, safety codes and the pinned roster (issue 10/12, DESIGN.md): migrations m025-m029.

Never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database  # noqa: F401  (used by the migrations below)

from . import MIGRATIONS  # noqa: F401
