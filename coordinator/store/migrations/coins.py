"""Coin control (issue 13, docs/errors-coins.md): migrations m060-m064. Never edit one
that has shipped."""

from __future__ import annotations

from sqlite_utils import Database

from . import MIGRATIONS


@MIGRATIONS()
def m060_frozen_by(db: Database) -> None:
    """Who last set an output's BIP-329 ``spendable`` (false: Sparrow's "frozen"), and how:
    a label import or a member's freeze or unfreeze. ``updated_by`` cannot say it: a later
    import that only renames the coin changes it. Rows written before came from imports."""
    db.execute("ALTER TABLE wallet_labels ADD COLUMN spendable_via TEXT"
               " CHECK (spendable_via IS NULL OR spendable_via IN ('import', 'member'))")
    db.execute("ALTER TABLE wallet_labels ADD COLUMN spendable_by INTEGER")
    db.execute("ALTER TABLE wallet_labels ADD COLUMN spendable_at INTEGER")
    db.execute("UPDATE wallet_labels SET spendable_via = 'import', spendable_by = updated_by,"
               " spendable_at = updated_at WHERE spendable IS NOT NULL")
