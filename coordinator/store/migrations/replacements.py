"""Fee-bump replacements and per-wallet settings (issue 10, docs/proposals.md): migrations m020-m024.

Never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database  # noqa: F401  (used by the migrations below)

from . import MIGRATIONS  # noqa: F401
