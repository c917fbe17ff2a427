"""Successor wallets, sweeps and retired wallets (issue 15, docs/successor.md):
migrations m045-m049.

Never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database  # noqa: F401  (used by the migrations below)

from . import MIGRATIONS  # noqa: F401
