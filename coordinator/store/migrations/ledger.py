"""The group ledger's labels (BIP-329) and ledger views (issue 10, docs/ledger.md): migrations m016-m019.

Never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database  # noqa: F401  (used by the migrations below)

from . import MIGRATIONS  # noqa: F401
